//! The notebook's "prediction vs learning" as a teacher/student run: a hidden teacher layer (the
//! notebook's two 5×5 filters with biases) makes the targets; a randomly initialised student of
//! the same shape learns them by SGD on the GPU.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::gpu::{Conv2d, Conv2dConfig, GpuContext, TrainVersions, Trainer, TrainerOptions};
use crate::limits::ensure_host_fits;
use crate::loss_trace::LossTrace;
use crate::sgd::Sgd;
use crate::shape::{ConvShape, ConvShapeSpec};
use crate::tensor::Tensor4;
use crate::{init, notebook};

/// Where the 24×24 training images come from. Every image is centred (its mean subtracted),
/// as an input layer's normalisation would: with pixels all ≥ 0 the mean direction dominates the
/// loss's curvature and SGD crawls (measured: loss 6e-5 after 2,000 plain steps on [0, 1]
/// images, against 1e-15 after 400 with momentum on centred ones).
#[derive(Debug, Clone)]
pub enum Data {
    /// Seeded random images, pixels uniform in [−1, 1].
    Random,
    /// The built-in 24×24 image (a batch of copies of it is pointless: batch 1).
    Builtin,
    /// Random 24×24 crops of this grayscale image (1, 1, H, W), H, W ≥ 24.
    Crops(Tensor4),
}

/// The teacher's biases b₁, b₂.
pub const TEACHER_BIAS: [f32; 2] = [0.1, -0.05];

/// A teacher/student run's settings.
#[derive(Debug, Clone)]
pub struct TeachConfig {
    pub steps: u64,
    pub sgd: Sgd,
    pub batch: u32,
    pub seed: u64,
    pub log_every: u32,
    pub data: Data,
    /// The kernel versions; None lets the library pick.
    pub versions: Option<TrainVersions>,
    /// Teacher and student with biases (the notebook's 52 parameters), or without (50).
    pub bias: bool,
}

/// What a run produced.
pub struct TeachRun {
    pub shape: ConvShape,
    pub x: Tensor4,
    pub teacher_w: Tensor4,
    pub teacher_b: Vec<f32>,
    /// The loss curve (each loss taken before its step's update), in bounded memory.
    pub losses: LossTrace,
    /// The student's (step, w, b) at step 0, a few steps on the way and the end.
    pub snapshots: Vec<(u64, Tensor4, Vec<f32>)>,
    pub elapsed: Duration,
    /// The kernel versions the student was trained with.
    pub versions: TrainVersions,
}

impl TeachRun {
    /// The student at the end.
    pub fn student(&self) -> (&Tensor4, &[f32]) {
        let (_, w, b) = self
            .snapshots
            .last()
            .expect("a run has at least one snapshot");
        (w, b)
    }

    /// max |w_student − w_teacher| and max |b_student − b_teacher| (0 without bias).
    pub fn max_param_error(&self) -> (f32, f32) {
        let (w, b) = self.student();
        let max_diff = |a: &[f32], c: &[f32]| {
            a.iter()
                .zip(c)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max)
        };
        (
            max_diff(&w.data, &self.teacher_w.data),
            max_diff(b, &self.teacher_b),
        )
    }

    /// Steps per second, end to end (recording, running and reading the loss log back).
    pub fn steps_per_second(&self) -> f64 {
        self.losses.steps() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Subtracts each image's mean.
fn centred(mut x: Tensor4) -> Tensor4 {
    let plane = x.dims[1] * x.dims[2] * x.dims[3];
    for img in x.data.chunks_mut(plane) {
        let mean = img.iter().map(|&v| f64::from(v)).sum::<f64>() / plane as f64;
        img.iter_mut().for_each(|v| *v -= mean as f32);
    }
    x
}

/// Host bytes a run of `batch` images holds at once: the images, the teacher's maps (2 of 20×20
/// per image), and the copies made uploading them.
pub fn host_bytes(batch: u32) -> u64 {
    u64::from(batch) * (24 * 24 + 2 * 20 * 20) * 4 * 2
}

/// The training images, (B, 1, 24, 24), centred; refused before anything is drawn when a run of
/// `batch` would not fit in host memory.
pub fn make_inputs(data: &Data, batch: u32, seed: u64) -> Result<Tensor4> {
    let what = || format!("a teacher/student run of batch {batch}");
    ensure_host_fits(what, Some(host_bytes(batch)))?;
    raw_inputs(data, batch, seed).map(centred)
}

fn raw_inputs(data: &Data, batch: u32, seed: u64) -> Result<Tensor4> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x1a9e5);
    let b = batch as usize;
    match data {
        Data::Random => Ok(Tensor4 {
            dims: [b, 1, 24, 24],
            data: (0..b * 576).map(|_| rng.random_range(-1.0..=1.0)).collect(),
        }),
        Data::Builtin => {
            if batch != 1 {
                return Err(Error::Invalid(
                    "the built-in image is one image: use batch size 1 with it".into(),
                ));
            }
            Ok(notebook::image())
        }
        Data::Crops(img) => {
            let [n, c, h, w] = img.dims;
            if n != 1 || c != 1 || h < 24 || w < 24 {
                return Err(Error::Invalid(format!(
                    "crops need one grayscale image of at least 24×24 (got {n} image(s) of {c} \
                     channel(s), {h}×{w})"
                )));
            }
            let mut data = Vec::with_capacity(b * 576);
            for _ in 0..b {
                let (top, left) = (rng.random_range(0..=h - 24), rng.random_range(0..=w - 24));
                for i in 0..24 {
                    data.extend((0..24).map(|j| img.at(0, 0, top + i, left + j)));
                }
            }
            Ok(Tensor4 {
                dims: [b, 1, 24, 24],
                data,
            })
        }
    }
}

/// The student's starting point: weights uniform in ±1/5 (PyTorch's default for 25 inputs), and
/// biases likewise, from `seed`.
pub fn student_init(seed: u64) -> (Tensor4, Vec<f32>) {
    let w = init::random_filters(2, 1, 5, 5, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(1));
    let b = (0..2).map(|_| rng.random_range(-0.2..=0.2)).collect();
    (w, b)
}

/// The steps at which the student's filters are pictured: 0, 10 %, 30 % and the end.
pub fn snapshot_steps(steps: u64) -> Vec<u64> {
    let mut v = vec![0, steps / 10, steps * 3 / 10, steps];
    v.dedup();
    v
}

/// Runs the teacher/student task on the GPU. `on_losses(first_step, losses)` sees the losses as
/// they come back (every `log_every` steps).
pub fn run(
    ctx: &GpuContext,
    cfg: &TeachConfig,
    on_losses: impl FnMut(u64, &[f32]),
) -> Result<TeachRun> {
    run_until(ctx, cfg, on_losses, || false)
}

/// [`run`], ended early once `stop()` says so (asked after each submission of `log_every`
/// steps, so after one at least): the run is then of the steps done, its last snapshot theirs.
pub fn run_until(
    ctx: &GpuContext,
    cfg: &TeachConfig,
    mut on_losses: impl FnMut(u64, &[f32]),
    stop: impl Fn() -> bool,
) -> Result<TeachRun> {
    cfg.sgd.validate()?;
    if cfg.batch == 0 {
        return Err(Error::Invalid("batch size must be at least 1".into()));
    }
    let shape = ConvShape::new(ConvShapeSpec {
        n: cfg.batch,
        bias: cfg.bias,
        ..ConvShape::SEED.spec()
    })?;
    let x = make_inputs(&cfg.data, cfg.batch, cfg.seed)?;
    let teacher_w = notebook::filters();
    let teacher_b = match cfg.bias {
        true => TEACHER_BIAS.to_vec(),
        false => Vec::new(),
    };
    let t = ctx
        .conv2d_bias_relu_fwd(&shape, &x, &teacher_w, &teacher_b, false)?
        .y;
    let (w0, mut b0) = student_init(cfg.seed);
    if !cfg.bias {
        b0.clear();
    }
    let config = Conv2dConfig::NOTEBOOK.with_bias(cfg.bias);
    let student = Conv2d::from_weights(ctx, config, &w0, cfg.bias.then_some(&b0[..]))?;
    let mut options = TrainerOptions::new(cfg.sgd).with_log_capacity(cfg.log_every.max(1));
    options.versions = cfg.versions;
    let mut trainer = Trainer::new(student, &x, &t, options)?;
    let mut losses = LossTrace::default();
    let mut snapshots = vec![(0, w0, b0)];
    let started = Instant::now();
    let mut stopped = false;
    for &at in snapshot_steps(cfg.steps).iter().skip(1) {
        while !stopped && trainer.steps_done() < at {
            let n = (at - trainer.steps_done()).min(u64::from(cfg.log_every.max(1)));
            trainer.run(n, false, |first, l| {
                losses.extend(first, l);
                on_losses(first, l);
            })?;
            stopped = stop();
        }
        let s = trainer.read_state()?;
        // A finite loss can hide non-finite weights behind the ReLU (every output cut to 0).
        s.w.ensure_finite("the student's weights")?;
        snapshots.push((trainer.steps_done(), s.w, s.b));
        if stopped {
            break;
        }
    }
    Ok(TeachRun {
        shape,
        x,
        teacher_w,
        teacher_b,
        losses,
        snapshots,
        elapsed: started.elapsed(),
        versions: trainer.versions(),
    })
}
