//! Training on the GPU: full-batch steps of forward, MSE loss through the ReLU, weight, bias
//! (and on request input) gradients and SGD, recorded many steps to a submission with no
//! readback per step. Buffers are allocated once, so GPU memory stays flat however long it runs.

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::gpu::forward::{
    bwd_input_version_for, bwd_weight_version_for, check_forward_inputs, fold_grid, forward_groups,
    forward_version_for, padded_to_16_bytes,
};
use crate::gpu::kernel::KernelVersion;
use crate::gpu::params::{ConvParams, FusedLoopParams, LossParams, SgdParams};
use crate::gpu::wgsl::{
    ELEMENTWISE_WORKGROUP_SIZE, FUSED_LOOP_MAX_FILTERS, FUSED_LOOP_MAX_INPUTS,
    FUSED_LOOP_MAX_OUTPUTS, FUSED_LOOP_MAX_WEIGHTS, FUSED_LOOP_WORKGROUP_SIZE, LOSS_WORKGROUP_SIZE,
    TILE,
};
use crate::gpu::GpuContext;
use crate::sgd::Sgd;
use crate::shape::{ConvShape, ShapeError};
use crate::tensor::Tensor4;

type Grid = (u32, u32, u32);

/// Everything the trainer holds on the GPU, readable for checks.
#[derive(Debug, Clone)]
pub struct TrainerState {
    pub w: Tensor4,
    pub b: Vec<f32>,
    /// Momentum buffers (zeros until the first step with momentum).
    pub w_momentum: Vec<f32>,
    pub b_momentum: Vec<f32>,
}

/// The kernel version of each pass a training step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainVersions {
    pub forward: KernelVersion,
    pub bwd_weight: KernelVersion,
    pub bwd_input: KernelVersion,
    /// Run whole training loops in one dispatch (`fused_loop.wgsl`) where the layer fits it.
    pub fused_loop: bool,
}

impl TrainVersions {
    /// The versions the crate picks for `shape`: the fused loop when the layer fits it.
    pub fn for_shape(shape: &ConvShape) -> Self {
        TrainVersions {
            forward: forward_version_for(shape),
            bwd_weight: bwd_weight_version_for(shape),
            bwd_input: bwd_input_version_for(shape),
            fused_loop: fits_fused_loop(shape),
        }
    }

    /// Every pass in `version`, no fused loop.
    pub fn all(version: KernelVersion) -> Self {
        TrainVersions {
            forward: version,
            bwd_weight: version,
            bwd_input: version,
            fused_loop: false,
        }
    }

    /// The fused loop for steps (falling back to the simple kernels where it cannot run).
    pub fn fused() -> Self {
        TrainVersions {
            fused_loop: true,
            ..Self::all(KernelVersion::Simple)
        }
    }
}

/// Whether `fused_loop.wgsl` can hold the layer in workgroup memory: K·C·R·S ≤ 512, K ≤ 32,
/// N·K·P·Q ≤ 2048 and N·C·H·W ≤ 2048 (its MAX_ constants).
pub fn fits_fused_loop(shape: &ConvShape) -> bool {
    shape.weight_len() <= u64::from(FUSED_LOOP_MAX_WEIGHTS)
        && shape.k <= FUSED_LOOP_MAX_FILTERS
        && shape.output_len() <= u64::from(FUSED_LOOP_MAX_OUTPUTS)
        && shape.input_len() <= u64::from(FUSED_LOOP_MAX_INPUTS)
}

/// Steps one dispatch of `fused_loop.wgsl` runs at most; longer runs chain dispatches in one
/// compute pass (state goes through global memory between them). Seen on lavapipe
/// (Mesa 22.3.6): a single dispatch of this loop stopped early after about 130–150 ms of work,
/// whatever the layer (222 steps of the notebook's layer, 126 at batch 2, 762 on 12×12), so a
/// dispatch is kept far shorter than that. On a GPU 16 steps also keep the launch cost (about
/// 3 µs) small against the work.
pub const FUSED_STEPS_PER_DISPATCH: u32 = 16;

/// Tiles of `conv2d_bwd_weight_tiled.wgsl`: 64 filters × 64 columns of C·R·S + 1.
fn weight_tiles(shape: &ConvShape) -> u32 {
    let cols = shape.reduction_len() + 1;
    (u64::from(shape.k).div_ceil(u64::from(TILE)) * cols.div_ceil(u64::from(TILE))) as u32
}

/// Splits of the tiled weight gradient's N·P·Q reduction: enough workgroups to fill a large GPU
/// (about 512), each split at least 256 terms long, and the partial sums within `cap` bytes.
fn weight_splits(shape: &ConvShape, cap: u64) -> u32 {
    let terms = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
    let tiles = u64::from(weight_tiles(shape)).max(1);
    let per_split_bytes = 4 * u64::from(shape.k) * (shape.reduction_len() + 1);
    let splits = 512u64
        .div_ceil(tiles)
        .min(terms.div_ceil(256))
        .min(cap / per_split_bytes.max(1))
        .max(1);
    splits as u32
}

/// Tiles of `conv2d_bwd_input_tiled.wgsl`: 64 input pixels (N·H·W) × 64 channels.
fn input_tiles(shape: &ConvShape) -> Result<u32> {
    let rows = u64::from(shape.n) * u64::from(shape.h) * u64::from(shape.w);
    u32::try_from(rows.div_ceil(u64::from(TILE)) * u64::from(shape.c).div_ceil(u64::from(TILE)))
        .map_err(|_| Error::Invalid(format!("{shape}: too many workgroups for one dispatch")))
}

/// Invocations per gradient element in `fused_loop.wgsl`: the largest power of two that lets
/// every element of a 256-invocation workgroup work at once (1 when there are more than 128).
fn fused_loop_lanes(grads: u64) -> u32 {
    let per = (u64::from(FUSED_LOOP_WORKGROUP_SIZE) / grads.max(1)).max(1) as u32;
    1 << (31 - per.leading_zeros())
}

/// Which passes to record, for timing them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// conv + bias + ReLU.
    Forward,
    /// Loss and dz, the loss reduction, dW and db, dX.
    Backward,
    /// Forward, backward (with dX) and the SGD updates.
    Step,
}

/// A training problem on the GPU: fixed input x and target t, parameters w and b.
pub struct Trainer<'a> {
    ctx: &'a GpuContext,
    shape: ConvShape,
    sgd: Sgd,
    versions: TrainVersions,
    log_capacity: u32,
    steps_done: u64,
    buffers: Buffers,
    binds: Binds,
    grids: Grids,
}

struct Buffers {
    w: wgpu::Buffer,
    b: wgpu::Buffer,
    y: wgpu::Buffer,
    dz: wgpu::Buffer,
    dw: wgpu::Buffer,
    db: wgpu::Buffer,
    dx: wgpu::Buffer,
    w_momentum: wgpu::Buffer,
    b_momentum: wgpu::Buffer,
    loss_log: wgpu::Buffer,
    loss_read: wgpu::Buffer,
}

/// The fused loop's bind groups: one whose uniform runs FUSED_STEPS_PER_DISPATCH steps, and one
/// whose uniform is rewritten per submission for the remainder.
struct FusedLoop {
    full: wgpu::BindGroup,
    rest: wgpu::BindGroup,
    rest_uniform: wgpu::Buffer,
    params: FusedLoopParams,
}

struct Binds {
    fused_loop: Option<FusedLoop>,
    forward: wgpu::BindGroup,
    loss: wgpu::BindGroup,
    loss_reduce: wgpu::BindGroup,
    bwd_weight: wgpu::BindGroup,
    /// The tiled weight gradient's reduction of its splits.
    bwd_weight_reduce: Option<wgpu::BindGroup>,
    bwd_input: wgpu::BindGroup,
    sgd_w: wgpu::BindGroup,
    sgd_b: wgpu::BindGroup,
}

struct Grids {
    forward: Grid,
    loss: Grid,
    bwd_weight: Grid,
    bwd_weight_reduce: Grid,
    /// Slices of the N·P·Q reduction of the tiled weight gradient.
    splits: u32,
    bwd_input: Grid,
    sgd_w: Grid,
    sgd_b: Grid,
}

fn conv_params(shape: &ConvShape, grid: Grid) -> ConvParams {
    ConvParams {
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
        pad_h: shape.padding.0,
        pad_w: shape.padding.1,
        write_z: 0,
        groups_x: grid.0,
        groups_y: grid.1,
        ..Default::default()
    }
}

fn groups(items: u64, per_group: u32) -> Result<u32> {
    u32::try_from(items.div_ceil(u64::from(per_group)))
        .map_err(|_| Error::Invalid(format!("{items} items are too many for one dispatch")))
}

impl<'a> Trainer<'a> {
    /// Uploads x (N, C, H, W), target t (N, K, P, Q), w (K, C, R, S) and b (K), allocates every
    /// buffer, and builds the bind groups. `log_capacity` is the most steps one submission runs
    /// (the loss of each comes back at its end). Everything is validated first: shapes, NaN or
    /// infinity in any input, the optimiser settings, the device's binding limit.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ctx: &'a GpuContext,
        shape: &ConvShape,
        x: &Tensor4,
        t: &Tensor4,
        w: &Tensor4,
        b: &[f32],
        sgd: Sgd,
        log_capacity: u32,
    ) -> Result<Self> {
        Self::new_with(
            ctx,
            shape,
            x,
            t,
            w,
            b,
            sgd,
            log_capacity,
            TrainVersions::for_shape(shape),
        )
    }

    /// [`Trainer::new`] with chosen kernel versions.
    #[allow(clippy::too_many_arguments)]
    pub fn new_with(
        ctx: &'a GpuContext,
        shape: &ConvShape,
        x: &Tensor4,
        t: &Tensor4,
        w: &Tensor4,
        b: &[f32],
        sgd: Sgd,
        log_capacity: u32,
        versions: TrainVersions,
    ) -> Result<Self> {
        check_forward_inputs(shape, x, w, b)?;
        let out_dims = [
            shape.n as usize,
            shape.k as usize,
            shape.p() as usize,
            shape.q() as usize,
        ];
        if t.dims != out_dims {
            return Err(Error::Shape(ShapeError::Mismatch {
                what: "target t dims (N, K, P, Q), the output's",
                expected: format!("{out_dims:?}"),
                got: format!("{:?}", t.dims),
            }));
        }
        t.ensure_finite("target t")?;
        sgd.validate()?;
        if log_capacity == 0 {
            return Err(Error::Invalid(
                "the loss log needs room for at least one step".into(),
            ));
        }
        let (cap, limit) = ctx.binding_limit();
        for (what, elements) in [
            ("the input x", shape.input_len()),
            ("the output y", shape.output_len()),
            ("the weights w", shape.weight_len()),
        ] {
            if elements * 4 > cap {
                return Err(Error::LimitExceeded {
                    what: format!("{what} of {shape} (training does not split batches)"),
                    limit,
                    needed: elements * 4,
                    max: cap,
                });
            }
        }

        let max_dim = ctx.limits.max_compute_workgroups_per_dimension;
        let m = shape.output_len();
        let splits = match versions.bwd_weight {
            KernelVersion::Simple => 1,
            KernelVersion::Tiled => weight_splits(shape, cap),
        };
        let loss_groups = groups(m, LOSS_WORKGROUP_SIZE)?;
        let grids = Grids {
            forward: fold_grid(forward_groups(shape, versions.forward)?, max_dim)?,
            loss: fold_grid(loss_groups, max_dim)?,
            bwd_weight: fold_grid(
                match versions.bwd_weight {
                    KernelVersion::Simple => u32::try_from(shape.weight_len() + u64::from(shape.k))
                        .map_err(|_| Error::Invalid("too many weights for one dispatch".into()))?,
                    KernelVersion::Tiled => weight_tiles(shape) * splits,
                },
                max_dim,
            )?,
            bwd_weight_reduce: fold_grid(
                groups(
                    u64::from(shape.k) * (shape.reduction_len() + 1),
                    ELEMENTWISE_WORKGROUP_SIZE,
                )?,
                max_dim,
            )?,
            splits,
            bwd_input: fold_grid(
                match versions.bwd_input {
                    KernelVersion::Simple => groups(shape.input_len(), ELEMENTWISE_WORKGROUP_SIZE)?,
                    KernelVersion::Tiled => input_tiles(shape)?,
                },
                max_dim,
            )?,
            sgd_w: fold_grid(
                groups(shape.weight_len(), ELEMENTWISE_WORKGROUP_SIZE)?,
                max_dim,
            )?,
            sgd_b: fold_grid(
                groups(u64::from(shape.k), ELEMENTWISE_WORKGROUP_SIZE)?,
                max_dim,
            )?,
        };
        let device = &ctx.device;
        let (buffers, binds) = ctx.scoped("allocating the training buffers", || {
            let init = |label: &str, bytes: &[u8], usage: wgpu::BufferUsages| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: bytes,
                    usage,
                })
            };
            let storage = wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST;
            let uniform = wgpu::BufferUsages::UNIFORM;
            let zeros = |len: u64| vec![0u8; (len * 4) as usize];
            let x_buf = init("x", bytemuck::cast_slice(&x.data), storage);
            let t_buf = init("t", bytemuck::cast_slice(&t.data), storage);
            let w_buf = init("w", &padded_to_16_bytes(&w.data), storage);
            let b_buf = init("b", bytemuck::cast_slice(b), storage);
            let y = init("y", &zeros(m), storage);
            let z_unused = init("z (unused)", &zeros(1), storage);
            let dz = init("dz", &zeros(m), storage);
            let partials = init("loss partials", &zeros(u64::from(loss_groups)), storage);
            let dw = init("dw", &zeros(shape.weight_len()), storage);
            let db = init("db", &zeros(u64::from(shape.k)), storage);
            let dx = init("dx", &zeros(shape.input_len()), storage);
            let w_momentum = init("w momentum", &zeros(shape.weight_len()), storage);
            let b_momentum = init("b momentum", &zeros(u64::from(shape.k)), storage);
            let log_bytes = 4 + 4 * u64::from(log_capacity);
            let loss_log = init("loss log", &vec![0u8; log_bytes as usize], storage);
            let loss_read = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("loss log readback"),
                size: log_bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let conv_fwd = init(
                "ConvParams fwd",
                bytemuck::bytes_of(&conv_params(shape, grids.forward)),
                uniform,
            );
            let conv_bwd_w = init(
                "ConvParams bwd w",
                bytemuck::bytes_of(&ConvParams {
                    splits: grids.splits,
                    ..conv_params(shape, grids.bwd_weight)
                }),
                uniform,
            );
            let conv_bwd_w_reduce = init(
                "ConvParams bwd w reduce",
                bytemuck::bytes_of(&ConvParams {
                    splits: grids.splits,
                    ..conv_params(shape, grids.bwd_weight_reduce)
                }),
                uniform,
            );
            let weight_partial = (versions.bwd_weight == KernelVersion::Tiled).then(|| {
                let len =
                    u64::from(grids.splits) * u64::from(shape.k) * (shape.reduction_len() + 1);
                init("dw partial sums", &zeros(len), storage)
            });
            let conv_bwd_x = init(
                "ConvParams bwd x",
                bytemuck::bytes_of(&conv_params(shape, grids.bwd_input)),
                uniform,
            );
            let loss_params = LossParams {
                m: m as u32,
                partials: loss_groups,
                groups_x: grids.loss.0,
                groups_y: grids.loss.1,
                scale: (2.0 / m as f64) as f32,
                ..Default::default()
            };
            let loss_uniform = init("LossParams", bytemuck::bytes_of(&loss_params), uniform);
            let sgd_params = |len: u64, grid: Grid| SgdParams {
                len: len as u32,
                nesterov: u32::from(sgd.nesterov),
                lr: sgd.lr,
                momentum: sgd.momentum,
                weight_decay: sgd.weight_decay,
                groups_x: grid.0,
                groups_y: grid.1,
                ..Default::default()
            };
            let sgd_w_uniform = init(
                "SgdParams w",
                bytemuck::bytes_of(&sgd_params(shape.weight_len(), grids.sgd_w)),
                uniform,
            );
            let sgd_b_uniform = init(
                "SgdParams b",
                bytemuck::bytes_of(&sgd_params(u64::from(shape.k), grids.sgd_b)),
                uniform,
            );
            let k = &ctx.kernels;
            let fused = match (&k.fused_loop, versions.fused_loop && fits_fused_loop(shape)) {
                (Some(kernel), true) => {
                    let params = FusedLoopParams {
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
                        pad_h: shape.padding.0,
                        pad_w: shape.padding.1,
                        steps: 0,
                        lanes: fused_loop_lanes(shape.weight_len() + u64::from(shape.k)),
                        nesterov: u32::from(sgd.nesterov),
                        lr: sgd.lr,
                        momentum: sgd.momentum,
                        weight_decay: sgd.weight_decay,
                        scale: loss_params.scale,
                    };
                    let full_params = FusedLoopParams {
                        steps: FUSED_STEPS_PER_DISPATCH,
                        ..params
                    };
                    let full_uniform = init(
                        "FusedLoopParams (full)",
                        bytemuck::bytes_of(&full_params),
                        wgpu::BufferUsages::UNIFORM,
                    );
                    let rest_uniform = init(
                        "FusedLoopParams (rest)",
                        bytemuck::bytes_of(&params),
                        wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    );
                    let storage = [
                        ("x", &x_buf),
                        ("t", &t_buf),
                        ("w", &w_buf),
                        ("b", &b_buf),
                        ("w_momentum", &w_momentum),
                        ("b_momentum", &b_momentum),
                        ("log", &loss_log),
                        ("dw", &dw),
                        ("db", &db),
                        ("y", &y),
                        ("dz", &dz),
                    ];
                    let bind = |uniform: &wgpu::Buffer| {
                        let mut all = vec![("params", uniform)];
                        all.extend(storage);
                        kernel.bind(device, &all)
                    };
                    Some(FusedLoop {
                        full: bind(&full_uniform)?,
                        rest: bind(&rest_uniform)?,
                        rest_uniform,
                        params,
                    })
                }
                _ => None,
            };
            let binds = Binds {
                fused_loop: fused,
                forward: k.forward.bind(
                    device,
                    &[
                        ("params", &conv_fwd),
                        ("x", &x_buf),
                        ("w", &w_buf),
                        ("b", &b_buf),
                        ("y", &y),
                        ("z", &z_unused),
                    ],
                )?,
                loss: k.loss.bind(
                    device,
                    &[
                        ("params", &loss_uniform),
                        ("y", &y),
                        ("t", &t_buf),
                        ("dz", &dz),
                        ("partials", &partials),
                    ],
                )?,
                loss_reduce: k.loss_reduce.bind(
                    device,
                    &[
                        ("params", &loss_uniform),
                        ("partials", &partials),
                        ("log", &loss_log),
                    ],
                )?,
                bwd_weight: match &weight_partial {
                    None => k.bwd_weight.bind(
                        device,
                        &[
                            ("params", &conv_bwd_w),
                            ("x", &x_buf),
                            ("dz", &dz),
                            ("dw", &dw),
                            ("db", &db),
                        ],
                    )?,
                    Some(partial) => k.bwd_weight_tiled.bind(
                        device,
                        &[
                            ("params", &conv_bwd_w),
                            ("x", &x_buf),
                            ("dz", &dz),
                            ("partial", partial),
                        ],
                    )?,
                },
                bwd_weight_reduce: weight_partial
                    .as_ref()
                    .map(|partial| {
                        k.bwd_weight_reduce.bind(
                            device,
                            &[
                                ("params", &conv_bwd_w_reduce),
                                ("partial", partial),
                                ("dw", &dw),
                                ("db", &db),
                            ],
                        )
                    })
                    .transpose()?,
                bwd_input: k.bwd_input.bind(
                    device,
                    &[
                        ("params", &conv_bwd_x),
                        ("w", &w_buf),
                        ("dz", &dz),
                        ("dx", &dx),
                    ],
                )?,
                sgd_w: k.sgd.bind(
                    device,
                    &[
                        ("params", &sgd_w_uniform),
                        ("param", &w_buf),
                        ("grad", &dw),
                        ("buf", &w_momentum),
                    ],
                )?,
                sgd_b: k.sgd.bind(
                    device,
                    &[
                        ("params", &sgd_b_uniform),
                        ("param", &b_buf),
                        ("grad", &db),
                        ("buf", &b_momentum),
                    ],
                )?,
            };
            let buffers = Buffers {
                w: w_buf,
                b: b_buf,
                y,
                dz,
                dw,
                db,
                dx,
                w_momentum,
                b_momentum,
                loss_log,
                loss_read,
            };
            Ok::<_, Error>((buffers, binds))
        })??;
        let versions = TrainVersions {
            fused_loop: binds.fused_loop.is_some(),
            ..versions
        };
        Ok(Trainer {
            ctx,
            shape: *shape,
            sgd,
            versions,
            log_capacity,
            steps_done: 0,
            buffers,
            binds,
            grids,
        })
    }

    /// The layer's shape.
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

    fn record_step(&self, pass: &mut wgpu::ComputePass<'_>, with_input_grad: bool) {
        self.record_forward(pass);
        self.record_backward(pass, with_input_grad);
        self.record_update(pass);
    }

    /// Writes the step count of the fused loop's last, partial dispatch for a run of `steps`.
    fn write_fused_rest(&self, steps: u32) {
        if let Some(fused) = &self.binds.fused_loop {
            let rest = FusedLoopParams {
                steps: steps % FUSED_STEPS_PER_DISPATCH,
                ..fused.params
            };
            if rest.steps > 0 {
                self.ctx
                    .queue
                    .write_buffer(&fused.rest_uniform, 0, bytemuck::bytes_of(&rest));
            }
        }
    }

    /// `steps` steps of the fused loop: full dispatches, then one for the remainder (whose
    /// count [`Self::write_fused_rest`] wrote).
    fn record_fused(&self, pass: &mut wgpu::ComputePass<'_>, steps: u32) {
        if let (Some(kernel), Some(fused)) = (&self.ctx.kernels.fused_loop, &self.binds.fused_loop)
        {
            for _ in 0..steps / FUSED_STEPS_PER_DISPATCH {
                kernel.dispatch(pass, &fused.full, (1, 1, 1));
            }
            if !steps.is_multiple_of(FUSED_STEPS_PER_DISPATCH) {
                kernel.dispatch(pass, &fused.rest, (1, 1, 1));
            }
        }
    }

    fn record_forward(&self, pass: &mut wgpu::ComputePass<'_>) {
        let k = &self.ctx.kernels;
        let forward = match self.versions.forward {
            KernelVersion::Simple => &k.forward,
            KernelVersion::Tiled => &k.forward_tiled,
        };
        forward.dispatch(pass, &self.binds.forward, self.grids.forward);
    }

    fn record_backward(&self, pass: &mut wgpu::ComputePass<'_>, with_input_grad: bool) {
        let k = &self.ctx.kernels;
        let (b, g) = (&self.binds, &self.grids);
        k.loss.dispatch(pass, &b.loss, g.loss);
        k.loss_reduce.dispatch(pass, &b.loss_reduce, (1, 1, 1));
        match &b.bwd_weight_reduce {
            None => k.bwd_weight.dispatch(pass, &b.bwd_weight, g.bwd_weight),
            Some(reduce) => {
                k.bwd_weight_tiled
                    .dispatch(pass, &b.bwd_weight, g.bwd_weight);
                k.bwd_weight_reduce
                    .dispatch(pass, reduce, g.bwd_weight_reduce);
            }
        }
        if with_input_grad {
            let kernel = match self.versions.bwd_input {
                KernelVersion::Simple => &k.bwd_input,
                KernelVersion::Tiled => &k.bwd_input_tiled,
            };
            kernel.dispatch(pass, &b.bwd_input, g.bwd_input);
        }
    }

    fn record_update(&self, pass: &mut wgpu::ComputePass<'_>) {
        let k = &self.ctx.kernels;
        let (b, g) = (&self.binds, &self.grids);
        k.sgd.dispatch(pass, &b.sgd_w, g.sgd_w);
        k.sgd.dispatch(pass, &b.sgd_b, g.sgd_b);
    }

    /// Records `pass` `repeats` times into one compute pass (for benchmarks). Every repeat of
    /// Backward and Step appends to the loss log (cleared first; `loss_reduce.wgsl` drops values
    /// past its capacity).
    pub(crate) fn record_pass(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pass: Pass,
        repeats: u32,
        timestamps: Option<wgpu::ComputePassTimestampWrites<'_>>,
    ) {
        encoder.clear_buffer(&self.buffers.loss_log, 0, Some(4));
        if pass == Pass::Step && self.binds.fused_loop.is_some() {
            // The fused loop: `repeats` steps without dX (training does not need it).
            self.write_fused_rest(repeats);
        }
        let mut cpass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("benchmark"),
            timestamp_writes: timestamps,
        });
        if pass == Pass::Step && self.binds.fused_loop.is_some() {
            self.record_fused(&mut cpass, repeats);
            return;
        }
        for _ in 0..repeats {
            match pass {
                Pass::Forward => self.record_forward(&mut cpass),
                Pass::Backward => self.record_backward(&mut cpass, true),
                Pass::Step => self.record_step(&mut cpass, true),
            }
        }
    }

    /// Bytes of the buffers `pass` binds.
    pub fn pass_bytes(&self, pass: Pass) -> u64 {
        let s = &self.shape;
        let (x, y, w, k) = (
            s.input_len(),
            s.output_len(),
            s.weight_len(),
            u64::from(s.k),
        );
        let loss_group = u64::from(LOSS_WORKGROUP_SIZE);
        let floats = match pass {
            Pass::Forward => x + w + k + y,
            // y, t, dz, partials, loss log, x, dw, db, w, dx
            Pass::Backward => 3 * y + y.div_ceil(loss_group) + 1 + x + w + k + w + x,
            Pass::Step => x + 3 * (w + k) + 3 * y + y.div_ceil(loss_group) + 1 + 2 * (w + k) + x,
        };
        floats * 4
    }

    /// Runs `steps` full-batch steps, `log_capacity` per submission. After each submission the
    /// losses of its steps (each taken before that step's update) come back through a small
    /// buffer and go to `on_losses(first_step, losses)`. With `input_grad_last`, the last step
    /// also computes dL/dx (read it with [`Trainer::read_input_grad`]).
    ///
    /// A loss that is NaN or infinite stops the run with [`Error::Diverged`] naming the step.
    pub fn run(
        &mut self,
        steps: u64,
        input_grad_last: bool,
        mut on_losses: impl FnMut(u64, &[f32]),
    ) -> Result<()> {
        let mut left = steps;
        while left > 0 {
            let n = left.min(u64::from(self.log_capacity)) as u32;
            let last_chunk = left == u64::from(n);
            let stage = "running training steps";
            let with_dx = input_grad_last && last_chunk;
            // The fused loop cannot make dX: a last step that needs it runs unfused.
            let fused_steps = match &self.binds.fused_loop {
                Some(fused) => {
                    let steps = n - u32::from(with_dx);
                    let rest = FusedLoopParams {
                        steps: steps % FUSED_STEPS_PER_DISPATCH,
                        ..fused.params
                    };
                    if rest.steps > 0 {
                        self.ctx.queue.write_buffer(
                            &fused.rest_uniform,
                            0,
                            bytemuck::bytes_of(&rest),
                        );
                    }
                    steps
                }
                None => 0,
            };
            let submission = self.ctx.scoped(stage, || {
                let mut encoder =
                    self.ctx
                        .device
                        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                            label: Some("train"),
                        });
                encoder.clear_buffer(&self.buffers.loss_log, 0, Some(4));
                {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("train steps"),
                        timestamp_writes: None,
                    });
                    self.record_fused(&mut pass, fused_steps);
                    for i in fused_steps..n {
                        self.record_step(&mut pass, with_dx && i + 1 == n);
                    }
                }
                let bytes = 4 + 4 * u64::from(n);
                encoder.copy_buffer_to_buffer(
                    &self.buffers.loss_log,
                    0,
                    &self.buffers.loss_read,
                    0,
                    bytes,
                );
                self.ctx.queue.submit([encoder.finish()])
            })?;
            self.ctx.wait(submission, stage)?;
            let log = self
                .ctx
                .read_f32(&self.buffers.loss_read, "reading the loss log")?;
            let count = log[0].to_bits();
            if count != n {
                return Err(Error::Internal {
                    stage,
                    message: format!("the loss log holds {count} steps, expected {n}"),
                });
            }
            let losses = &log[1..=n as usize];
            if let Some(i) = losses.iter().position(|l| !l.is_finite()) {
                return Err(Error::Diverged {
                    step: self.steps_done + i as u64,
                    loss: losses[i],
                });
            }
            on_losses(self.steps_done, losses);
            self.steps_done += u64::from(n);
            left -= u64::from(n);
        }
        Ok(())
    }

    /// Copies the first `len` floats of a storage buffer back to the host (buffers may be
    /// padded past their tensor).
    fn read(&self, buffer: &wgpu::Buffer, len: u64, stage: &'static str) -> Result<Vec<f32>> {
        let size = buffer.size();
        let device = &self.ctx.device;
        let (staging, submission) = self.ctx.scoped(stage, || {
            let staging = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut encoder = device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(stage) });
            encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
            (staging, self.ctx.queue.submit([encoder.finish()]))
        })?;
        self.ctx.wait(submission, stage)?;
        let mut data = self.ctx.read_f32(&staging, stage)?;
        data.truncate(len as usize);
        Ok(data)
    }

    fn out_dims(&self) -> [usize; 4] {
        let s = &self.shape;
        [s.n as usize, s.k as usize, s.p() as usize, s.q() as usize]
    }

    fn weight_dims(&self) -> [usize; 4] {
        let s = &self.shape;
        [s.k as usize, s.c as usize, s.r as usize, s.s as usize]
    }

    /// The current weights, bias and momentum buffers.
    pub fn read_state(&self) -> Result<TrainerState> {
        let k = u64::from(self.shape.k);
        Ok(TrainerState {
            w: Tensor4::new(
                "w",
                self.weight_dims(),
                self.read(&self.buffers.w, self.shape.weight_len(), "reading w")?,
            )?,
            b: self.read(&self.buffers.b, k, "reading b")?,
            w_momentum: self.read(
                &self.buffers.w_momentum,
                self.shape.weight_len(),
                "reading the w momentum",
            )?,
            b_momentum: self.read(&self.buffers.b_momentum, k, "reading the b momentum")?,
        })
    }

    /// The loss gradients (without weight decay) dL/dw and dL/db of the last step, taken before
    /// its update.
    pub fn read_grads(&self) -> Result<(Tensor4, Vec<f32>)> {
        Ok((
            Tensor4::new(
                "dw",
                self.weight_dims(),
                self.read(&self.buffers.dw, self.shape.weight_len(), "reading dw")?,
            )?,
            self.read(&self.buffers.db, u64::from(self.shape.k), "reading db")?,
        ))
    }

    /// dL/dx of the last step run with `input_grad_last` (zeros if none was).
    pub fn read_input_grad(&self) -> Result<Tensor4> {
        let s = &self.shape;
        let dims = [s.n as usize, s.c as usize, s.h as usize, s.w as usize];
        Ok(Tensor4::new(
            "dx",
            dims,
            self.read(&self.buffers.dx, self.shape.input_len(), "reading dx")?,
        )?)
    }

    /// The forward output y and dL/dz of the last step.
    pub fn read_output_and_dz(&self) -> Result<(Tensor4, Tensor4)> {
        let dims = self.out_dims();
        Ok((
            Tensor4::new(
                "y",
                dims,
                self.read(&self.buffers.y, self.shape.output_len(), "reading y")?,
            )?,
            Tensor4::new(
                "dz",
                dims,
                self.read(&self.buffers.dz, self.shape.output_len(), "reading dz")?,
            )?,
        ))
    }
}
