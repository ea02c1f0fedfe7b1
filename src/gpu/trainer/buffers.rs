//! The trainer's device buffers, allocated once: GPU memory stays flat however long it runs.

use crate::gpu::grids::{bwd_input_len, weight_grad_cols};
use crate::gpu::memory::{GpuBuffer, READBACK, STORAGE};
use crate::gpu::trainer::grids::Grids;
use crate::gpu::GpuContext;
use crate::shape::ConvShape;
use crate::tensor::Tensor4;

/// Everything a step reads or writes besides the layer's own weights and bias.
pub(super) struct Buffers {
    /// Input (N, C, H, W) and target (N, K, P, Q).
    pub(super) x: GpuBuffer,
    pub(super) t: GpuBuffer,
    /// Output y and dL/dz (N, K, P, Q); z is not kept (the loss pass reads y).
    pub(super) y: GpuBuffer,
    pub(super) z_unused: GpuBuffer,
    pub(super) dz: GpuBuffer,
    /// One partial loss sum per workgroup of the loss pass.
    pub(super) loss_partials: GpuBuffer,
    pub(super) dw: GpuBuffer,
    /// dL/db and the bias momentum; None without a bias.
    pub(super) db: Option<GpuBuffer>,
    pub(super) b_momentum: Option<GpuBuffer>,
    pub(super) dx: GpuBuffer,
    /// dL/d(padded x) (N, C, H + top + bottom, W + left + right), for a padding mode other than
    /// zeros: the dX kernels write it, conv2d_bwd_input_fold.wgsl adds it into dx.
    pub(super) dx_padded: Option<GpuBuffer>,
    /// The fused loop's y then dz of its last step (N, K, P, Q each), copied into y and dz.
    pub(super) fused_last: Option<GpuBuffer>,
    /// The tiled or window weight gradient's partial sums, (splits, K, (C/G)·R·S + 1 with a bias).
    pub(super) dw_partials: Option<GpuBuffer>,
    pub(super) w_momentum: GpuBuffer,
    /// A step count then one loss per step, and its readback copy.
    pub(super) loss_log: GpuBuffer,
    pub(super) loss_read: GpuBuffer,
}

/// Bytes of the loss log for `capacity` steps: the count, then the losses.
pub(super) fn loss_log_bytes(capacity: u32) -> u64 {
    4 + 4 * u64::from(capacity)
}

impl Buffers {
    pub(super) fn new(
        ctx: &GpuContext,
        shape: &ConvShape,
        (x, t): (&Tensor4, &Tensor4),
        grids: &Grids,
        log_capacity: u32,
        fused: bool,
    ) -> Self {
        let init =
            |label: &str, data: &[f32]| ctx.buffer_init(label, bytemuck::cast_slice(data), STORAGE);
        let zeros = |label: &str, floats: u64| ctx.buffer(label, floats * 4, STORAGE);
        let (m, weights, k) = (shape.output_len(), shape.weight_len(), u64::from(shape.k));
        let partial_sums = u64::from(grids.splits) * k * weight_grad_cols(shape);
        let log_bytes = loss_log_bytes(log_capacity);
        Buffers {
            x: init("x", &x.data),
            t: init("t", &t.data),
            y: zeros("y", m),
            z_unused: zeros("z (unused)", 1),
            dz: zeros("dz", m),
            loss_partials: zeros("loss partials", u64::from(grids.loss_partials)),
            dw: zeros("dw", weights),
            db: shape.bias.then(|| zeros("db", k)),
            b_momentum: shape.bias.then(|| zeros("b momentum", k)),
            dx: zeros("dx", shape.input_len()),
            dx_padded: grids
                .bwd_input_fold
                .map(|_| zeros("dx (padded input)", bwd_input_len(shape))),
            fused_last: fused.then(|| zeros("y, dz (fused loop)", 2 * m)),
            dw_partials: grids
                .split_weight
                .then(|| zeros("dw partial sums", partial_sums)),
            w_momentum: zeros("w momentum", weights),
            loss_log: ctx.buffer("loss log", log_bytes, STORAGE),
            loss_read: ctx.buffer("loss log readback", log_bytes, READBACK),
        }
    }
}
