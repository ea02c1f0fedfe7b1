//! The trainer's bind groups: which buffer each kernel of a step reads and writes, by the
//! binding names of the kernel table (`gpu/table.rs`).

use std::sync::Arc;

use crate::error::Result;
use crate::gpu::conv2d::Conv2d;
use crate::gpu::forward::ForwardPlan;
use crate::gpu::grids::weight_grad_slides;
use crate::gpu::kernel::{Kernel, KernelVersion};
use crate::gpu::memory::GpuBuffer;
use crate::gpu::pack::{Pack, PackFor, Rows};
use crate::gpu::params::FusedLoopParams;
use crate::gpu::trainer::buffers::Buffers;
use crate::gpu::trainer::grids::Uniforms;
use crate::gpu::versions::TrainVersions;
use crate::gpu::GpuContext;
use crate::shape::ConvShape;

/// The fused loop's bind groups: one whose uniform runs [`FUSED_STEPS_PER_DISPATCH`] steps, and
/// one whose uniform is rewritten per submission for the remainder.
///
/// [`FUSED_STEPS_PER_DISPATCH`]: crate::gpu::trainer::FUSED_STEPS_PER_DISPATCH
pub(super) struct FusedBinds {
    pub(super) full: wgpu::BindGroup,
    pub(super) rest: wgpu::BindGroup,
    pub(super) rest_uniform: GpuBuffer,
    _full_uniform: GpuBuffer,
    pub(super) params: FusedLoopParams,
}

pub(super) struct Binds {
    pub(super) fused: Option<FusedBinds>,
    pub(super) forward: crate::gpu::forward::ForwardBind,
    pub(super) loss: wgpu::BindGroup,
    pub(super) loss_reduce: wgpu::BindGroup,
    /// The simple weight gradient, or the tiled one's partial sums.
    pub(super) bwd_weight: wgpu::BindGroup,
    /// The tiled or window weight gradient's reduction of its splits.
    pub(super) bwd_weight_reduce: Option<wgpu::BindGroup>,
    pub(super) bwd_input: wgpu::BindGroup,
    /// The dW (simple or split) and dX kernels, specialised for the shape where they can be
    /// (`gpu::specialize`); the bind groups above are made for them.
    pub(super) bwd_weight_kernel: Arc<Kernel>,
    pub(super) bwd_input_kernel: Arc<Kernel>,
    /// The window dW's packed copies of dz and x.
    pub(super) bwd_weight_packs: Option<WeightGradPacks>,
    /// The window dX's packed weights and their pack's bind group.
    pub(super) bwd_input_pack: Option<(Pack, wgpu::BindGroup)>,
    /// The window dX's rows of dz (or their stand-in), and their pack's bind group.
    pub(super) bwd_input_rows: Option<(Rows, Option<wgpu::BindGroup>)>,
    /// conv2d_bwd_input_fold.wgsl's, for a padding mode other than zeros.
    pub(super) bwd_input_fold: Option<wgpu::BindGroup>,
    pub(super) sgd_w: wgpu::BindGroup,
    /// None for a layer without bias: its zeros stay zeros.
    pub(super) sgd_b: Option<wgpu::BindGroup>,
}

impl Binds {
    pub(super) fn new(
        ctx: &GpuContext,
        (layer, shape): (&Conv2d, &ConvShape),
        forward: &ForwardPlan,
        versions: &TrainVersions,
        buf: &Buffers,
        u: &Uniforms,
    ) -> Result<Self> {
        let (device, k) = (&ctx.device, &ctx.kernels);
        let (w, b) = (layer.weight().buffer(), layer.bias_buffer());
        let (x, dz) = (&*buf.x, &*buf.dz);
        let bias = layer.bias().is_some();
        // The window dW reads dz in blocks of filters and x in rows, packed each step.
        let bwd_weight_packs = match versions.bwd_weight {
            KernelVersion::Window => Some(WeightGradPacks::new(ctx, shape, (x, dz))?),
            _ => None,
        };
        let split_reads = match &bwd_weight_packs {
            Some(packs) => vec![packs.dz.0.packed(), packs.rows.binding()],
            None => vec![("dz", dz)],
        };
        let (bwd_weight_kernel, bwd_weight, bwd_weight_reduce) =
            weight_grad_binds(ctx, (bias, versions.bwd_weight), buf, u, &split_reads)?;
        let bwd_input = match versions.bwd_input {
            KernelVersion::Simple => &k.bwd_input,
            KernelVersion::Tiled => &k.bwd_input_tiled,
            KernelVersion::Window => &k.bwd_input_window,
        };
        let bwd_input = specialised_or(ctx, bwd_input, &u.bwd_input_params);
        // The window dX reads the weights packed in blocks of channels, packed each step.
        let bwd_input_pack = match versions.bwd_input {
            KernelVersion::Window => {
                let pack = Pack::new(ctx, shape, PackFor::InputGrad)?;
                let bind = pack.bind(ctx, w)?;
                Some((pack, bind))
            }
            _ => None,
        };
        let bwd_input_rows = match versions.bwd_input {
            KernelVersion::Window => {
                let read = crate::gpu::grids::input_grad_slides(shape);
                let rows = Rows::new(ctx, shape, PackFor::OutputGradRows, read)?;
                let bind = match &rows {
                    Rows::Packed(pack) => Some(pack.bind(ctx, dz)?),
                    Rows::Unread(..) => None,
                };
                Some((rows, bind))
            }
            _ => None,
        };
        let input_weights = match &bwd_input_pack {
            Some((pack, _)) => pack.packed(),
            None => ("w", w),
        };
        let sgd = |params: &wgpu::Buffer, param, grad, momentum| {
            k.sgd.bind(
                device,
                &[
                    ("params", params),
                    ("param", param),
                    ("grad", grad),
                    ("buf", momentum),
                ],
            )
        };
        // The dX kernels write the gradient of the padded input when the fold follows.
        let dx_written = buf.dx_padded.as_deref().unwrap_or(&buf.dx);
        let bwd_input_fold = match (&u.bwd_input_fold, &buf.dx_padded) {
            (Some(params), Some(padded)) => Some(k.bwd_input_fold.bind(
                device,
                &[
                    ("params", &**params),
                    ("dx_padded", &**padded),
                    ("dx", &buf.dx),
                ],
            )?),
            _ => None,
        };
        Ok(Binds {
            fused: None,
            forward: forward.bind(ctx, [x, w, &buf.y, &buf.z_unused], b)?,
            loss: k.loss.bind(
                device,
                &[
                    ("params", &u.loss),
                    ("y", &buf.y),
                    ("t", &buf.t),
                    ("dz", dz),
                    ("partials", &buf.loss_partials),
                ],
            )?,
            loss_reduce: k.loss_reduce.bind(
                device,
                &[
                    ("params", &u.loss),
                    ("partials", &buf.loss_partials),
                    ("log", &buf.loss_log),
                ],
            )?,
            bwd_weight,
            bwd_weight_reduce,
            bwd_weight_kernel,
            bwd_weight_packs,
            bwd_input: {
                let mut named = vec![
                    ("params", &*u.bwd_input),
                    input_weights,
                    ("dz", dz),
                    ("dx", dx_written),
                ];
                named.extend(bwd_input_rows.as_ref().map(|(rows, _)| rows.binding()));
                bwd_input.bind(device, &named)?
            },
            bwd_input_kernel: bwd_input,
            bwd_input_pack,
            bwd_input_rows,
            bwd_input_fold,
            sgd_w: sgd(&u.sgd_w, w, &buf.dw, &buf.w_momentum)?,
            sgd_b: match (b, &buf.db, &buf.b_momentum) {
                (Some(b), Some(db), Some(momentum)) => Some(sgd(&u.sgd_b, b, db, momentum)?),
                _ => None,
            },
        })
    }
}

/// The kernel of a split weight gradient (`version` tiled or window), before its reduction.
fn split_weight_kernel(
    k: &crate::gpu::kernel::Kernels,
    version: KernelVersion,
) -> &crate::gpu::kernel::WithBias {
    match version {
        KernelVersion::Window => &k.bwd_weight_window,
        _ => &k.bwd_weight_tiled,
    }
}

/// `kernel` specialised for the shape of `params`, or `kernel` itself where it is not one of
/// the specialised kernels or specialising is off.
fn specialised_or(
    ctx: &GpuContext,
    kernel: &Kernel,
    params: &crate::gpu::params::ConvParams,
) -> Arc<Kernel> {
    ctx.specialised(kernel, params)
        .unwrap_or_else(|| Arc::new(kernel.clone()))
}

type WeightGradBinds = (Arc<Kernel>, wgpu::BindGroup, Option<wgpu::BindGroup>);

/// The window dW's packed copies, made each step before it: dz in blocks of filters, and x in
/// rows where it slides (else a stand-in it never reads).
pub(super) struct WeightGradPacks {
    dz: (Pack, wgpu::BindGroup),
    rows: Rows,
    rows_bind: Option<wgpu::BindGroup>,
}

impl WeightGradPacks {
    fn new(
        ctx: &GpuContext,
        shape: &ConvShape,
        (x, dz): (&wgpu::Buffer, &wgpu::Buffer),
    ) -> Result<Self> {
        let pack = Pack::new(ctx, shape, PackFor::WeightGrad)?;
        let bind = pack.bind(ctx, dz)?;
        let rows = Rows::new(ctx, shape, PackFor::InputRows, weight_grad_slides(shape))?;
        let rows_bind = match &rows {
            Rows::Packed(pack) => Some(pack.bind(ctx, x)?),
            Rows::Unread(..) => None,
        };
        Ok(WeightGradPacks {
            dz: (pack, bind),
            rows,
            rows_bind,
        })
    }

    pub(super) fn record(&self, ctx: &GpuContext, pass: &mut wgpu::ComputePass<'_>) {
        self.dz.0.record(ctx, pass, &self.dz.1);
        if let (Rows::Packed(pack), Some(bind)) = (&self.rows, &self.rows_bind) {
            pack.record(ctx, pass, bind);
        }
    }
}

/// The weight gradient's bind groups: the simple kernel's, or the split one's partial sums
/// (reading `split_reads`: dz, or the window dW's packed copies) and their reduction.
fn weight_grad_binds(
    ctx: &GpuContext,
    (bias, version): (bool, KernelVersion),
    buf: &Buffers,
    u: &Uniforms,
    split_reads: &[(&str, &wgpu::Buffer)],
) -> Result<WeightGradBinds> {
    let (device, k) = (&ctx.device, &ctx.kernels);
    let (x, dz): (&wgpu::Buffer, &wgpu::Buffer) = (&buf.x, &buf.dz);
    let db = buf.db.as_deref().map(|db| ("db", db));
    let generic = match &buf.dw_partials {
        None => k.bwd_weight.get(bias),
        Some(_) => split_weight_kernel(k, version).get(bias),
    };
    let kernel = specialised_or(ctx, generic, &u.bwd_weight_params);
    let bwd_weight = match &buf.dw_partials {
        None => {
            let mut named = vec![
                ("params", &*u.bwd_weight),
                ("x", x),
                ("dz", dz),
                ("dw", &*buf.dw),
            ];
            named.extend(db);
            kernel.bind(device, &named)?
        }
        Some(partial) => {
            let mut named = vec![("params", &*u.bwd_weight), ("x", x), ("partial", partial)];
            named.extend_from_slice(split_reads);
            kernel.bind(device, &named)?
        }
    };
    let bwd_weight_reduce = match &buf.dw_partials {
        None => None,
        Some(partial) => {
            let mut named = vec![
                ("params", &*u.bwd_weight_reduce),
                ("partial", &**partial),
                ("dw", &*buf.dw),
            ];
            named.extend(db);
            Some(k.bwd_weight_reduce.get(bias).bind(device, &named)?)
        }
    };
    Ok((kernel, bwd_weight, bwd_weight_reduce))
}

/// Binds the fused loop to the trainer's buffers, with a uniform for full dispatches and one
/// for the remainder.
pub(super) fn fused_binds(
    ctx: &GpuContext,
    kernel: &Kernel,
    layer: &Conv2d,
    buf: &Buffers,
    params: FusedLoopParams,
    steps_per_dispatch: u32,
) -> Result<FusedBinds> {
    let uniform = |label: &str, p: &FusedLoopParams, usage| {
        ctx.buffer_init(label, bytemuck::bytes_of(p), usage)
    };
    let full_params = FusedLoopParams {
        steps: steps_per_dispatch,
        ..params
    };
    let full_uniform = uniform(
        "FusedLoopParams (full)",
        &full_params,
        wgpu::BufferUsages::UNIFORM,
    );
    let rest_uniform = uniform(
        "FusedLoopParams (rest)",
        &params,
        wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    );
    let mut storage: Vec<(&str, &wgpu::Buffer)> = vec![
        ("x", &buf.x),
        ("t", &buf.t),
        ("w", layer.weight().buffer()),
        ("w_momentum", &buf.w_momentum),
        ("log", &buf.loss_log),
        ("dw", &buf.dw),
    ];
    if let Some(last) = &buf.fused_last {
        storage.push(("last_step", last));
    }
    if let (Some(b), Some(db), Some(momentum)) = (layer.bias_buffer(), &buf.db, &buf.b_momentum) {
        storage.extend([("b", b), ("b_momentum", &**momentum), ("db", &**db)]);
    }
    let bind = |uniform: &wgpu::Buffer| {
        let mut all = vec![("params", uniform)];
        all.extend(storage.iter().copied());
        kernel.bind(&ctx.device, &all)
    };
    Ok(FusedBinds {
        full: bind(&full_uniform)?,
        rest: bind(&rest_uniform)?,
        rest_uniform,
        _full_uniform: full_uniform,
        params,
    })
}
