//! Training a [`Conv2d`] on the GPU: full-batch steps of forward, MSE loss through the ReLU,
//! weight, bias (and on request input) gradients and SGD, recorded many steps to a submission
//! with no readback per step. Buffers are allocated once, so GPU memory stays flat however long
//! it runs.

mod binds;
mod buffers;
mod grids;
mod read;
mod read_async;
mod run;
mod run_async;

use crate::error::{Error, Result};
use crate::gpu::conv2d::check_training_bindings;
use crate::gpu::conv2d::Conv2d;
use crate::gpu::forward::ForwardPlan;
use crate::gpu::grids::fused_lanes;
use crate::gpu::params::FusedLoopParams;
use crate::gpu::versions::{fits_fused_loop, TrainVersions};
use crate::gpu::GpuContext;
use crate::sgd::Sgd;
use crate::shape::{ConvShape, ShapeError};
use crate::tensor::Tensor4;

use binds::{fused_binds, Binds};
use buffers::Buffers;
use grids::{Grids, Uniforms};

pub use read::TrainerState;
pub use run::Pass;

/// Steps one dispatch of the fused loop runs at most; longer runs chain dispatches in one
/// compute pass (state goes through global memory between them). Seen on lavapipe
/// (Mesa 22.3.6): a single dispatch of this loop stopped early after about 130–150 ms of work,
/// whatever the layer (222 steps of the notebook's layer, 126 at batch 2, 762 on 12×12), so a
/// dispatch is kept far shorter than that. The likely cause, found later: llvmpipe ends every
/// loop of an invocation once it has run 65,535 iterations of them all
/// (`grids::WINDOW_LOOP_BUDGET` says more), and a step is a few hundred iterations here. On a GPU 16 steps also keep the launch cost (about
/// 3 µs) small against the work.
pub const FUSED_STEPS_PER_DISPATCH: u32 = 16;

/// How a [`Trainer`] trains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainerOptions {
    pub sgd: Sgd,
    /// The most steps one submission runs (the loss of each comes back at its end).
    pub log_capacity: u32,
    /// The kernel version of each pass; None lets the crate pick for the shape.
    pub versions: Option<TrainVersions>,
}

impl TrainerOptions {
    /// `sgd`, 64 steps per submission, versions picked by the crate.
    pub fn new(sgd: Sgd) -> Self {
        TrainerOptions {
            sgd,
            log_capacity: 64,
            versions: None,
        }
    }

    pub fn with_log_capacity(self, log_capacity: u32) -> Self {
        TrainerOptions {
            log_capacity,
            ..self
        }
    }

    pub fn with_versions(self, versions: TrainVersions) -> Self {
        TrainerOptions {
            versions: Some(versions),
            ..self
        }
    }
}

/// A training problem on the GPU: a [`Conv2d`] (whose weights it updates in place), a fixed
/// input x and target t; the notebook's single-layer task, fast (many steps per submission, the
/// fused loop where the layer fits it).
///
/// ```
/// use wgconv::{AdapterRequest, Conv2d, Conv2dConfig, GpuContext, Sgd, Tensor4, Trainer};
/// use wgconv::TrainerOptions;
/// # fn main() -> Result<(), wgconv::Error> {
/// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
/// let x = wgconv::notebook::image();
/// let t = Tensor4::zeros([1, 2, 20, 20]); // teach the layer to output nothing
/// let layer = Conv2d::new(&ctx, Conv2dConfig::NOTEBOOK, 0)?;
/// let mut trainer = Trainer::new(layer, &x, &t, TrainerOptions::new(Sgd::new(0.1)))?;
/// let mut last = f32::MAX;
/// trainer.run(20, false, |_, losses| last = losses[losses.len() - 1])?;
/// assert!(last < 1e-3, "{last}");
/// # Ok(()) }
/// ```
pub struct Trainer {
    ctx: GpuContext,
    layer: Conv2d,
    shape: ConvShape,
    sgd: Sgd,
    versions: TrainVersions,
    log_capacity: u32,
    steps_done: u64,
    forward: ForwardPlan,
    grids: Grids,
    _uniforms: Uniforms,
    buffers: Buffers,
    binds: Binds,
}

/// Refuses what cannot train before anything is allocated: shapes, NaN or infinity, the
/// optimiser, the binding limit.
fn validate(
    ctx: &GpuContext,
    layer: &Conv2d,
    (x, t): (&Tensor4, &Tensor4),
    options: &TrainerOptions,
) -> Result<ConvShape> {
    let shape = layer.config().shape_for(x.dims)?;
    if !layer.config().has_relu() {
        return Err(Error::Invalid(
            "the Trainer trains a conv + ReLU layer (the notebook's); a layer without activation \
             trains through the ops: Conv2d::forward_train and backward, mse_loss or \
             cross_entropy, SgdOptimizer"
                .into(),
        ));
    }
    x.ensure_len("input x")?;
    t.ensure_len("target t")?;
    x.ensure_finite("input x")?;
    let out_dims = [shape.n, shape.k, shape.p(), shape.q()].map(|d| d as usize);
    if t.dims != out_dims {
        return Err(Error::Shape(ShapeError::Mismatch {
            what: "target t dims (N, K, P, Q), the output's",
            expected: format!("{out_dims:?}"),
            got: format!("{:?}", t.dims),
        }));
    }
    t.ensure_finite("target t")?;
    options.sgd.validate()?;
    if options.log_capacity == 0 {
        return Err(Error::Invalid(
            "the loss log needs room for at least one step".into(),
        ));
    }
    let (cap, limit) = ctx.binding_limit();
    let log_bytes = buffers::loss_log_bytes(options.log_capacity);
    let log_what = || {
        format!(
            "the loss log of {} steps per submission",
            options.log_capacity
        )
    };
    if log_bytes > cap {
        return Err(Error::LimitExceeded {
            what: log_what(),
            limit,
            needed: log_bytes,
            max: cap,
        });
    }
    // Each submission's losses come back to the host.
    crate::limits::ensure_host_fits(log_what, Some(log_bytes))?;
    check_training_bindings(ctx, &shape)?;
    Ok(shape)
}

/// The fused loop's parameters for `shape` (its step count is set per dispatch).
fn fused_params(shape: &ConvShape, sgd: &Sgd, scale: f32) -> FusedLoopParams {
    FusedLoopParams {
        n: shape.n,
        c: shape.c,
        h: shape.h,
        w: shape.w,
        k: shape.k,
        r: shape.r,
        s: shape.s,
        p: shape.p(),
        q: shape.q(),
        stride_h: shape.stride.0,
        stride_w: shape.stride.1,
        pad_top: shape.padding.top,
        pad_left: shape.padding.left,
        pad_mode: shape.padding_mode.code(),
        dilation_h: shape.dilation.0,
        dilation_w: shape.dilation.1,
        conv_groups: shape.groups,
        steps: 0,
        lanes: fused_lanes(shape.weight_len() + shape.bias_len()),
        nesterov: u32::from(sgd.nesterov),
        lr: sgd.lr,
        momentum: sgd.momentum,
        weight_decay: sgd.weight_decay,
        scale,
    }
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("shape", &self.shape.to_string())
            .field("sgd", &self.sgd)
            .field("versions", &self.versions)
            .field("steps_done", &self.steps_done)
            .finish_non_exhaustive()
    }
}

impl Trainer {
    /// Takes `layer` to train on input x (N, C, H, W) toward target t (N, K, P, Q): uploads
    /// them, allocates every buffer and builds the bind groups. Everything is validated first.
    /// [`Trainer::into_layer`] gives the trained layer back.
    pub fn new(layer: Conv2d, x: &Tensor4, t: &Tensor4, options: TrainerOptions) -> Result<Self> {
        let ctx = &layer.context().clone();
        let shape = validate(ctx, &layer, (x, t), &options)?;
        let mut versions = options
            .versions
            .unwrap_or_else(|| TrainVersions::for_shape(&shape));
        // The fused loop needs its kernel and the room for the layer.
        versions.fused_loop &= fits_fused_loop(&shape) && ctx.kernels.fused_loop.is_some();
        let sgd = options.sgd;
        let (forward, grids, uniforms, buffers, binds) =
            ctx.scoped("allocating the training buffers", || -> Result<_> {
                let forward = ForwardPlan::new(ctx, &shape, versions.forward, (false, true))?;
                let grids = Grids::new(ctx, &shape, &versions)?;
                let uniforms = Uniforms::new(ctx, &shape, &grids, &sgd);
                let fused = versions.fused_loop;
                let buffers =
                    Buffers::new(ctx, &shape, (x, t), &grids, options.log_capacity, fused);
                let mut binds = Binds::new(
                    ctx,
                    (&layer, &shape),
                    &forward,
                    &versions,
                    &buffers,
                    &uniforms,
                )?;
                if let (true, Some(kernels)) = (versions.fused_loop, &ctx.kernels.fused_loop) {
                    let kernel = kernels.get(shape.bias);
                    let params = fused_params(&shape, &sgd, uniforms.loss_params.scale);
                    let fused = fused_binds(
                        ctx,
                        kernel,
                        &layer,
                        &buffers,
                        params,
                        FUSED_STEPS_PER_DISPATCH,
                    )?;
                    binds.fused = Some(fused);
                }
                Ok((forward, grids, uniforms, buffers, binds))
            })??;
        Ok(Trainer {
            ctx: ctx.clone(),
            layer,
            shape,
            sgd,
            versions,
            log_capacity: options.log_capacity,
            steps_done: 0,
            forward,
            grids,
            _uniforms: uniforms,
            buffers,
            binds,
        })
    }

    /// The layer being trained (its weights are the trainer's current ones).
    pub fn layer(&self) -> &Conv2d {
        &self.layer
    }

    /// Ends training and gives the layer back, with its trained weights.
    pub fn into_layer(self) -> Conv2d {
        self.layer
    }

    /// The problem's shape.
    pub fn shape(&self) -> &ConvShape {
        &self.shape
    }

    /// The optimiser settings.
    pub fn sgd(&self) -> &Sgd {
        &self.sgd
    }

    /// Steps run so far.
    pub fn steps_done(&self) -> u64 {
        self.steps_done
    }

    /// Slices of the N·P·Q reduction the tiled weight gradient uses (1 for the simple one).
    pub fn weight_splits(&self) -> u32 {
        self.grids.splits
    }

    /// The kernel versions this trainer runs.
    pub fn versions(&self) -> TrainVersions {
        self.versions
    }
}
