//! The trainer's bind groups: which buffer each kernel of a step reads and writes.

use crate::gpu::conv2d::Conv2d;
use crate::gpu::forward::ForwardPlan;
use crate::gpu::kernel::{Kernel, KernelVersion};
use crate::gpu::memory::GpuBuffer;
use crate::gpu::params::TinyParams;
use crate::gpu::trainer::buffers::Buffers;
use crate::gpu::trainer::grids::Uniforms;
use crate::gpu::versions::TrainVersions;
use crate::gpu::GpuContext;

/// The fused loop's bind groups: one whose uniform runs [`FUSED_STEPS_PER_DISPATCH`] steps, and
/// one whose uniform is rewritten per submission for the remainder.
///
/// [`FUSED_STEPS_PER_DISPATCH`]: crate::gpu::trainer::FUSED_STEPS_PER_DISPATCH
pub(super) struct FusedBinds {
    pub(super) full: wgpu::BindGroup,
    pub(super) rest: wgpu::BindGroup,
    pub(super) rest_uniform: GpuBuffer,
    _full_uniform: GpuBuffer,
    pub(super) params: TinyParams,
}

pub(super) struct Binds {
    pub(super) fused: Option<FusedBinds>,
    pub(super) forward: wgpu::BindGroup,
    pub(super) loss: wgpu::BindGroup,
    pub(super) loss_reduce: wgpu::BindGroup,
    /// The simple weight gradient, or the tiled one's partial sums.
    pub(super) bwd_weight: wgpu::BindGroup,
    /// The tiled weight gradient's reduction of its splits.
    pub(super) bwd_weight_reduce: Option<wgpu::BindGroup>,
    pub(super) bwd_input: wgpu::BindGroup,
    pub(super) sgd_w: wgpu::BindGroup,
    /// None for a layer without bias: its zeros stay zeros.
    pub(super) sgd_b: Option<wgpu::BindGroup>,
}

impl Binds {
    pub(super) fn new(
        ctx: &GpuContext,
        layer: &Conv2d<'_>,
        forward: &ForwardPlan,
        versions: &TrainVersions,
        buf: &Buffers,
        u: &Uniforms,
    ) -> Self {
        let (device, k) = (&ctx.device, &ctx.kernels);
        let (w, b) = (layer.weight().buffer(), layer.bias_buffer());
        let bwd_weight = match &buf.dw_partials {
            None => k
                .bwd_weight
                .bind(device, &[&u.bwd_weight, &buf.x, &buf.dz, &buf.dw, &buf.db]),
            Some(partials) => k
                .bwd_weight_tiled
                .bind(device, &[&u.bwd_weight, &buf.x, &buf.dz, partials]),
        };
        let bwd_input = match versions.bwd_input {
            KernelVersion::Simple => &k.bwd_input,
            KernelVersion::Tiled => &k.bwd_input_tiled,
        }
        .bind(device, &[&u.bwd_input, w, &buf.dz, &buf.dx]);
        Binds {
            fused: None,
            forward: forward.bind(ctx, [&buf.x, w, b, &buf.y, &buf.z_unused]),
            loss: k.loss.bind(
                device,
                &[&u.loss, &buf.y, &buf.t, &buf.dz, &buf.loss_partials],
            ),
            loss_reduce: k
                .loss_reduce
                .bind(device, &[&u.loss, &buf.loss_partials, &buf.loss_log]),
            bwd_weight,
            bwd_weight_reduce: buf.dw_partials.as_ref().map(|partials| {
                k.bwd_weight_reduce
                    .bind(device, &[&u.bwd_weight_reduce, partials, &buf.dw, &buf.db])
            }),
            bwd_input,
            sgd_w: k.sgd.bind(device, &[&u.sgd_w, w, &buf.dw, &buf.w_momentum]),
            sgd_b: layer
                .bias()
                .map(|_| k.sgd.bind(device, &[&u.sgd_b, b, &buf.db, &buf.b_momentum])),
        }
    }
}

/// Binds the fused loop to the trainer's buffers, with a uniform for full dispatches and one
/// for the remainder.
pub(super) fn fused_binds(
    ctx: &GpuContext,
    kernel: &Kernel,
    layer: &Conv2d<'_>,
    buf: &Buffers,
    params: TinyParams,
    steps_per_dispatch: u32,
) -> FusedBinds {
    let uniform =
        |label: &str, p: &TinyParams, usage| ctx.buffer_init(label, bytemuck::bytes_of(p), usage);
    let full_params = TinyParams {
        steps: steps_per_dispatch,
        ..params
    };
    let full_uniform = uniform(
        "fused loop params (full)",
        &full_params,
        wgpu::BufferUsages::UNIFORM,
    );
    let rest_uniform = uniform(
        "fused loop params (rest)",
        &params,
        wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    );
    let (w, b) = (layer.weight().buffer(), layer.bias_buffer());
    let storage: [&wgpu::Buffer; 11] = [
        &buf.x,
        &buf.t,
        w,
        b,
        &buf.w_momentum,
        &buf.b_momentum,
        &buf.loss_log,
        &buf.dw,
        &buf.db,
        &buf.y,
        &buf.dz,
    ];
    let bind = |uniform: &wgpu::Buffer| {
        let mut all = vec![uniform];
        all.extend(storage);
        kernel.bind(&ctx.device, &all)
    };
    FusedBinds {
        full: bind(&full_uniform),
        rest: bind(&rest_uniform),
        rest_uniform,
        _full_uniform: full_uniform,
        params,
    }
}
