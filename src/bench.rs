//! Benchmarking (what `wgconv bench` runs): the benchmark shapes, the validation of a kernel
//! version against the CPU reference on a reduced copy of a shape, and the timing of one pass
//! with GPU timestamps (wall clock where the adapter has none, or where [`Clock::Wall`] asks for
//! it): warm-up, then the median of the repeats.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::gpu::{Conv2d, Conv2dConfig, GpuContext, Pass, TrainVersions, Trainer, TrainerOptions};
use crate::sgd::Sgd;
use crate::shape::{ConvShape, ConvShapeSpec, Padding};
use crate::step_check::checked_steps;
use crate::tensor::Tensor4;

/// The five benchmark shapes (`../shared/anchors-h200.md`): name, then N, C, H, W, K, R, S,
/// stride, padding.
pub const NAMED_SHAPES: [(&str, [u32; 9]); 5] = [
    ("seed", [1, 1, 24, 24, 2, 5, 5, 1, 0]),
    ("mnist", [256, 1, 28, 28, 32, 5, 5, 1, 0]),
    ("resnet56", [32, 64, 56, 56, 64, 3, 3, 1, 1]),
    ("resnet14", [32, 256, 14, 14, 256, 3, 3, 1, 1]),
    ("stem", [16, 3, 224, 224, 64, 7, 7, 2, 3]),
];

/// Multiply-adds the CPU reference may spend on validating one version (about a second).
pub const VALIDATION_MACS: u64 = 60_000_000;

fn shape_of(v: [u32; 9]) -> Result<ConvShape> {
    Ok(ConvShape::new(ConvShapeSpec {
        n: v[0],
        c: v[1],
        h: v[2],
        w: v[3],
        k: v[4],
        r: v[5],
        s: v[6],
        stride: (v[7], v[7]),
        padding: Padding::symmetric(v[8], v[8]),
        ..Default::default()
    })?)
}

/// A named shape, or "N,C,H,W,K,R,S,stride,pad".
pub fn parse_shape(text: &str) -> Result<(String, ConvShape)> {
    if let Some((name, v)) = NAMED_SHAPES.iter().find(|(n, _)| *n == text) {
        return Ok((name.to_string(), shape_of(*v)?));
    }
    let fields: Vec<u32> = text
        .split(',')
        .map(|f| f.trim().parse::<u32>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            Error::Invalid(format!(
                "shape {text:?}: not a name ({}) nor N,C,H,W,K,R,S,stride,pad",
                names()
            ))
        })?;
    let v: [u32; 9] = fields.try_into().map_err(|_| {
        Error::Invalid(format!(
            "shape {text:?}: N,C,H,W,K,R,S,stride,pad needs 9 numbers"
        ))
    })?;
    Ok((text.to_string(), shape_of(v)?))
}

fn names() -> String {
    NAMED_SHAPES
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Multiply-adds of one training step (forward, dW, dX): 3·N·K·P·Q·C·R·S.
fn step_macs(s: &ConvShape) -> u64 {
    3 * s.output_len() * s.reduction_len()
}

/// The shape the CPU validates for `shape`: the batch cut to fit [`VALIDATION_MACS`], then the
/// image halved while still too big (keeping the kernel inside the padded input).
pub fn reduced_for_validation(shape: &ConvShape) -> Result<ConvShape> {
    let mut spec = shape.spec();
    let per_image = step_macs(&ConvShape::new(ConvShapeSpec { n: 1, ..spec })?).max(1);
    spec.n = spec.n.min((VALIDATION_MACS / per_image).max(1) as u32);
    let mut s = ConvShape::new(spec)?;
    while step_macs(&s) > VALIDATION_MACS {
        // The smallest side that still holds the dilated kernel within its padding.
        let min_side = |k: u32, d: u32, pad: u32| {
            d.saturating_mul(k - 1)
                .saturating_add(1)
                .saturating_sub(pad)
                .max(1)
        };
        let p = spec.padding;
        let min_h = min_side(spec.r, spec.dilation.0, p.top + p.bottom);
        let min_w = min_side(spec.s, spec.dilation.1, p.left + p.right);
        let (h, w) = ((spec.h / 2).max(min_h), (spec.w / 2).max(min_w));
        if (h, w) == (spec.h, spec.w) {
            break;
        }
        // A padding mode's limits (reflect needs H > its padding) end the halving too.
        match ConvShape::new(ConvShapeSpec { h, w, ..spec }) {
            Ok(smaller) => (spec.h, spec.w, s) = (h, w, smaller),
            Err(_) => break,
        }
    }
    Ok(s)
}

/// Host bytes of [`random_problem`] for `shape`, and of the copies made uploading it; None past
/// 64 bits.
pub fn problem_bytes(shape: &ConvShape) -> Option<u64> {
    let floats = shape
        .input_len()
        .checked_add(shape.output_len())?
        .checked_add(shape.weight_len())?
        .checked_add(u64::from(shape.k))?;
    floats.checked_mul(4 * 2)
}

/// Random x, w, b and target t for `shape` (x, t in [0, 1], w, b in ±1/√(C/G·R·S); b empty
/// without bias), refused
/// before anything is drawn when they would not fit in host memory.
pub fn random_problem(
    shape: &ConvShape,
    seed: u64,
) -> Result<(Tensor4, Tensor4, Tensor4, Vec<f32>)> {
    let what = || format!("a random problem of {shape}");
    crate::limits::ensure_host_fits(what, problem_bytes(shape))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = |v: u32| v as usize;
    let bound = 1.0 / (shape.reduction_len() as f32).sqrt();
    let mut fill = |n: u64, lo: f32, hi: f32| {
        (0..n)
            .map(|_| rng.random_range(lo..=hi))
            .collect::<Vec<f32>>()
    };
    let x = Tensor4 {
        dims: [d(shape.n), d(shape.c), d(shape.h), d(shape.w)],
        data: fill(shape.input_len(), 0.0, 1.0),
    };
    let w = Tensor4 {
        dims: [
            d(shape.k),
            d(shape.channels_per_group()),
            d(shape.r),
            d(shape.s),
        ],
        data: fill(shape.weight_len(), -bound, bound),
    };
    let b = fill(shape.bias_len(), -bound, bound);
    let t = Tensor4 {
        dims: [d(shape.n), d(shape.k), d(shape.p()), d(shape.q())],
        data: fill(shape.output_len(), 0.0, 1.0),
    };
    Ok((x, t, w, b))
}

/// How the validation of one version on one shape went.
#[derive(Debug, Clone)]
pub struct Validation {
    pub shape: ConvShape,
    pub passed: bool,
    pub worst_ratio: f64,
}

/// Runs one checked training step (every kernel, dX included) of `versions` on the reduced
/// copy of `shape`.
pub fn validate(
    ctx: &GpuContext,
    shape: &ConvShape,
    versions: TrainVersions,
) -> Result<Validation> {
    let small = reduced_for_validation(shape)?;
    let (x, t, w, b) = random_problem(&small, 17)?;
    let sgd = Sgd {
        lr: 0.01,
        momentum: 0.9,
        weight_decay: 1e-4,
        nesterov: false,
    };
    let layer = Conv2d::from_weights(
        ctx,
        Conv2dConfig::of_shape(&small),
        &w,
        small.bias.then_some(&b[..]),
    )?;
    let options = TrainerOptions::new(sgd)
        .with_log_capacity(2)
        .with_versions(versions);
    let mut trainer = Trainer::new(layer, &x, &t, options)?;
    let check = checked_steps(&mut trainer, &x, &t, 2, true)?;
    Ok(Validation {
        shape: small,
        passed: check.passed(),
        worst_ratio: check.worst_ratio(),
    })
}

/// How a pass was timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    GpuTimestamps,
    WallClock,
}

/// The clock a benchmark asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// GPU timestamps around the recorded passes where the adapter has them, else the wall
    /// clock.
    #[default]
    Gpu,
    /// The wall clock always: from recording a repeat's commands to the end of the wait for
    /// them (submission and the driver's overhead included), as a framework is timed from the
    /// host (a step, then a device sync).
    Wall,
}

/// One timed pass.
#[derive(Debug, Clone)]
pub struct Timing {
    pub timer: Timer,
    /// Milliseconds per pass: median, and the fastest, over the repeats.
    pub median_ms: f64,
    pub min_ms: f64,
    pub repeats: u32,
    /// Passes recorded per measurement (the time is divided by it).
    pub inner: u32,
}

/// A pair of GPU timestamps around one compute pass, and the buffers that bring them back.
struct Stamps {
    query: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    read: wgpu::Buffer,
}

impl Stamps {
    fn new(device: &wgpu::Device) -> Self {
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: 16,
                usage,
                mapped_at_creation: false,
            })
        };
        Stamps {
            query: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("bench timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
            resolve: buffer(
                "timestamps",
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            ),
            read: buffer(
                "timestamps readback",
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
        }
    }

    fn writes(&self) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.query,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        }
    }

    /// Records the copy of both timestamps to the readable buffer.
    fn record_readback(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.resolve_query_set(&self.query, 0..2, &self.resolve, 0);
        encoder.copy_buffer_to_buffer(&self.resolve, 0, &self.read, 0, 16);
    }

    /// Milliseconds between the two timestamps (read back as four 32-bit words).
    fn elapsed_ms(&self, ctx: &GpuContext, stage: &'static str) -> Result<f64> {
        let words = ctx.read_f32(&self.read, stage)?;
        let tick = |lo: f32, hi: f32| u64::from(lo.to_bits()) | (u64::from(hi.to_bits()) << 32);
        let (t0, t1) = (tick(words[0], words[1]), tick(words[2], words[3]));
        let period_ns = f64::from(ctx.queue.get_timestamp_period());
        Ok(t1.saturating_sub(t0) as f64 * period_ns / 1e6)
    }
}

/// Times `pass` on `trainer`: `warmup` untimed measurements, then `repeats` timed ones, each of
/// `inner` passes recorded into one compute pass. GPU timestamps where the adapter has them,
/// else the wall clock of the submission: [`time_pass_with`] with [`Clock::Gpu`].
pub fn time_pass(
    ctx: &GpuContext,
    trainer: &Trainer,
    pass: Pass,
    warmup: u32,
    repeats: u32,
    inner: u32,
) -> Result<Timing> {
    time_pass_with(ctx, trainer, pass, warmup, repeats, inner, Clock::Gpu)
}

/// [`time_pass`] by the clock `clock` asks for: with [`Clock::Wall`], each repeat's time is the
/// wall clock from recording its commands to the end of the wait for them.
pub fn time_pass_with(
    ctx: &GpuContext,
    trainer: &Trainer,
    pass: Pass,
    warmup: u32,
    repeats: u32,
    inner: u32,
    clock: Clock,
) -> Result<Timing> {
    if repeats == 0 || inner == 0 {
        return Err(Error::Invalid(
            "timing needs at least one repeat of at least one pass".into(),
        ));
    }
    let device = &ctx.device;
    let timestamps = clock == Clock::Gpu && ctx.key_limits().timestamp_query;
    let stage = "benchmarking";
    let stamps = ctx.scoped(stage, || timestamps.then(|| Stamps::new(device)))?;
    let what = || format!("the times of {repeats} repeats");
    crate::limits::ensure_host_fits(what, Some(u64::from(repeats) * 8))?;
    let mut times = Vec::with_capacity(repeats as usize);
    for i in 0..u64::from(warmup) + u64::from(repeats) {
        let started = Instant::now();
        let submission = ctx.scoped(stage, || {
            let mut encoder = device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(stage) });
            let writes = stamps.as_ref().map(Stamps::writes);
            trainer.record_pass(&mut encoder, pass, inner, writes);
            if let Some(s) = &stamps {
                s.record_readback(&mut encoder);
            }
            ctx.queue.submit([encoder.finish()])
        })?;
        ctx.wait(submission, stage)?;
        let wall_ms = started.elapsed().as_secs_f64() * 1e3;
        let ms = match &stamps {
            Some(s) => s.elapsed_ms(ctx, stage)?,
            None => wall_ms,
        };
        if i >= u64::from(warmup) {
            times.push(ms / f64::from(inner));
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(Timing {
        timer: if timestamps {
            Timer::GpuTimestamps
        } else {
            Timer::WallClock
        },
        median_ms: times[times.len() / 2],
        min_ms: times[0],
        repeats,
        inner,
    })
}

/// FLOPs of `pass` on `shape`: forward 2·N·K·P·Q·C·R·S; backward two such (dW and dX); a step
/// three.
pub fn pass_flops(shape: &ConvShape, pass: Pass) -> u64 {
    shape.forward_flops()
        * match pass {
            Pass::Forward => 1,
            Pass::Backward => 2,
            Pass::Step => 3,
        }
}

/// The name of a pass, as `--pass` takes it.
pub fn pass_name(pass: Pass) -> &'static str {
    match pass {
        Pass::Forward => "fwd",
        Pass::Backward => "bwd",
        Pass::Step => "step",
    }
}

mod network;
pub use network::{network_rows, network_rows_with, OpRow, ROW_OPS};
