//! The fused conv + bias + ReLU forward pass: one plan (version, grid, params) that both
//! [`Conv2d::forward`](crate::gpu::Conv2d::forward) and the trainer record, and the batch
//! splitting for tensors over the binding limit.

use crate::error::{Error, Result};
use crate::gpu::grids::{fold_grid, forward_groups, input_rows_width, window_slides, Grid};
use crate::gpu::kernel::{Kernel, KernelVersion};
use crate::gpu::memory::GpuBuffer;
use crate::gpu::pack::{Pack, PackFor, Rows};
use crate::gpu::params::ConvParams;
use crate::gpu::GpuContext;
use crate::shape::{ConvShape, ShapeError};
use crate::tensor::Tensor4;

/// [`ConvParams`] of `shape` for a kernel launched on `grid` (folded).
pub(crate) fn conv_params(shape: &ConvShape, grid: Grid) -> ConvParams {
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
        pad_top: shape.padding.top,
        pad_bottom: shape.padding.bottom,
        pad_left: shape.padding.left,
        pad_right: shape.padding.right,
        pad_mode: shape.padding_mode.code(),
        dilation_h: shape.dilation.0,
        dilation_w: shape.dilation.1,
        conv_groups: shape.groups,
        groups_x: grid.0,
        groups_y: grid.1,
        ..Default::default()
    }
}

/// A forward plan's bind groups: the weight pack's (the window version) and the forward's.
pub(crate) struct ForwardBind {
    pack: Option<wgpu::BindGroup>,
    rows: Option<wgpu::BindGroup>,
    forward: wgpu::BindGroup,
}

/// One forward: which kernel, on how many workgroups, with which uniform (and the window
/// version's packs of the weights and of x's rows before it).
pub(crate) struct ForwardPlan {
    pub(crate) version: KernelVersion,
    /// The layer's shape (its bias and filter block choose the kernel variant).
    shape: ConvShape,
    grid: Grid,
    params: GpuBuffer,
    /// The simple kernel compiled for this shape, where the context specialises.
    specialised: Option<std::sync::Arc<Kernel>>,
    pack: Option<Pack>,
    rows: Option<Rows>,
}

impl ForwardPlan {
    pub(crate) fn new(
        ctx: &GpuContext,
        shape: &ConvShape,
        version: KernelVersion,
        (want_z, relu): (bool, bool),
    ) -> Result<Self> {
        let groups = forward_groups(shape, version)?;
        let grid = fold_grid(groups, ctx.limits.max_compute_workgroups_per_dimension)?;
        let params = ConvParams {
            write_z: u32::from(want_z),
            relu: u32::from(relu),
            ..conv_params(shape, grid)
        };
        let specialised = match version {
            KernelVersion::Simple => ctx.specialised(ctx.kernels.forward.get(shape.bias), &params),
            KernelVersion::Window => ctx.specialised(
                ctx.kernels.forward_window_for(shape).get(shape.bias),
                &params,
            ),
            KernelVersion::Tiled => None,
        };
        let params = ctx.buffer_init(
            "ConvParams forward",
            bytemuck::bytes_of(&params),
            wgpu::BufferUsages::UNIFORM,
        );
        let (pack, rows) = match version {
            KernelVersion::Window => (
                Some(Pack::new(ctx, shape, PackFor::Forward)?),
                Some(Rows::new(
                    ctx,
                    shape,
                    PackFor::InputRows,
                    window_slides(shape),
                )?),
            ),
            _ => (None, None),
        };
        Ok(ForwardPlan {
            version,
            shape: *shape,
            grid,
            params,
            specialised,
            pack,
            rows,
        })
    }

    fn kernel<'c>(&'c self, ctx: &'c GpuContext) -> &'c Kernel {
        if let Some(kernel) = &self.specialised {
            return kernel;
        }
        let kernels = match self.version {
            KernelVersion::Simple => &ctx.kernels.forward,
            KernelVersion::Window => ctx.kernels.forward_window_for(&self.shape),
            KernelVersion::Tiled => &ctx.kernels.forward_tiled,
        };
        kernels.get(self.shape.bias)
    }

    /// Binds x (N, C, H, W), w (K, C/G, R, S), b (K) when the layer has a bias, y and z
    /// (N, K, P, Q); z may be a dummy when the plan does not write it.
    pub(crate) fn bind(
        &self,
        ctx: &GpuContext,
        [x, w, y, z]: [&wgpu::Buffer; 4],
        b: Option<&wgpu::Buffer>,
    ) -> Result<ForwardBind> {
        let (pack, weights) = match &self.pack {
            Some(pack) => (Some(pack.bind(ctx, w)?), pack.packed()),
            None => (None, ("w", w)),
        };
        let mut named = vec![
            ("params", &*self.params),
            ("x", x),
            weights,
            ("y", y),
            ("z", z),
        ];
        let mut rows = None;
        if let Some(input_rows) = &self.rows {
            named.push(input_rows.binding());
            if let Rows::Packed(pack) = input_rows {
                rows = Some(pack.bind(ctx, x)?);
            }
        }
        named.extend(b.map(|b| ("b", b)));
        let forward = self.kernel(ctx).bind(&ctx.device, &named)?;
        Ok(ForwardBind {
            pack,
            rows,
            forward,
        })
    }

    /// Records the forward (after the packs, for the window version).
    pub(crate) fn record(
        &self,
        ctx: &GpuContext,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &ForwardBind,
    ) {
        if let (Some(pack), Some(pack_bind)) = (&self.pack, &bind.pack) {
            pack.record(ctx, pass, pack_bind);
        }
        if let (Some(Rows::Packed(pack)), Some(rows_bind)) = (&self.rows, &bind.rows) {
            pack.record(ctx, pass, rows_bind);
        }
        self.kernel(ctx).dispatch(pass, &bind.forward, self.grid);
    }
}

/// The window forward's packed weights of `w` for `shape`, read back: the pack kernel alone,
/// for the tests (its twin is `cpu::pack_weights`).
#[doc(hidden)]
pub fn packed_weights(ctx: &GpuContext, shape: &ConvShape, w: &Tensor4) -> Result<Vec<f32>> {
    pack_alone(ctx, shape, w, PackFor::Forward)
}

/// The window dX's packed weights of `w` for `shape`, read back (twin `cpu::pack_input_weights`).
#[doc(hidden)]
pub fn packed_input_weights(ctx: &GpuContext, shape: &ConvShape, w: &Tensor4) -> Result<Vec<f32>> {
    pack_alone(ctx, shape, w, PackFor::InputGrad)
}

/// The window dW's packed dz (N, K, P, Q) for `shape`, read back (twin `cpu::pack_output_grad`).
#[doc(hidden)]
pub fn packed_output_grad(ctx: &GpuContext, shape: &ConvShape, dz: &Tensor4) -> Result<Vec<f32>> {
    pack_alone(ctx, shape, dz, PackFor::WeightGrad)
}

/// The window dW's rows of x (N, C, H, W) for `shape`, read back (twin `cpu::pack_input_rows`).
#[doc(hidden)]
pub fn packed_input_rows(ctx: &GpuContext, shape: &ConvShape, x: &Tensor4) -> Result<Vec<f32>> {
    pack_alone(ctx, shape, x, PackFor::InputRows)
}

/// The window dX's rows of dz (N, K, P, Q) for `shape`, read back (twin
/// `cpu::pack_output_grad_rows`).
#[doc(hidden)]
pub fn packed_output_grad_rows(
    ctx: &GpuContext,
    shape: &ConvShape,
    dz: &Tensor4,
) -> Result<Vec<f32>> {
    pack_alone(ctx, shape, dz, PackFor::OutputGradRows)
}

fn pack_alone(
    ctx: &GpuContext,
    shape: &ConvShape,
    source: &Tensor4,
    pack_for: PackFor,
) -> Result<Vec<f32>> {
    let source = crate::gpu::DeviceTensor::upload(ctx, "pack source", source)?;
    let pack = Pack::new(ctx, shape, pack_for)?;
    let bind = pack.bind(ctx, source.buffer())?;
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    crate::gpu::op_timer::record_pass(ctx, &mut encoder, pack.kernel(ctx).desc.name, |pass| {
        pack.record(ctx, pass, &bind)
    })?;
    ctx.queue.submit([encoder.finish()]);
    ctx.read_back(&pack.blocks, pack.len(), "reading the packed copy")
}

fn too_big(ctx: &GpuContext, what: String, needed: u64) -> Error {
    let (max, limit) = ctx.binding_limit();
    Error::LimitExceeded {
        what,
        limit,
        needed,
        max,
    }
}

/// How many images one dispatch of forward `version` may take without a tensor (or the window
/// version's rows of x) exceeding the binding limit.
pub(crate) fn images_per_dispatch(
    ctx: &GpuContext,
    shape: &ConvShape,
    version: KernelVersion,
) -> Result<u32> {
    let (cap, _) = ctx.binding_limit();
    let weight_bytes = shape.weight_len() * 4;
    if weight_bytes > cap {
        return Err(too_big(ctx, format!("the weights {shape}"), weight_bytes));
    }
    let mut image_in = u64::from(shape.c) * u64::from(shape.h) * u64::from(shape.w) * 4;
    if version == KernelVersion::Window && window_slides(shape) {
        let rows = u64::from(shape.c) * u64::from(shape.h) * input_rows_width(shape) * 4;
        image_in = image_in.max(rows);
    }
    let image_out = u64::from(shape.k) * u64::from(shape.p()) * u64::from(shape.q()) * 4;
    if image_in > cap {
        let what = format!("one input image (C·H·W f32) of {shape}");
        return Err(too_big(ctx, what, image_in));
    }
    if image_out > cap {
        let what = format!("one output image (K·P·Q f32) of {shape}");
        return Err(too_big(ctx, what, image_out));
    }
    check_i32_indices(shape)?;
    let per_chunk = (cap / image_in)
        .min(cap / image_out)
        .min(u64::from(shape.n));
    Ok(per_chunk as u32)
}

/// The kernels compute window corners and input positions in i32: the padded input must fit.
pub(crate) fn check_i32_indices(shape: &ConvShape) -> Result<()> {
    let padded_h = u64::from(shape.h) + shape.padding.rows();
    let padded_w = u64::from(shape.w) + shape.padding.cols();
    if padded_h.max(padded_w) >= 1 << 31 {
        return Err(Error::Invalid(format!(
            "padded input {padded_h}×{padded_w} is too large for the kernels' i32 indices"
        )));
    }
    Ok(())
}

fn mismatch(
    what: &'static str,
    expected: impl std::fmt::Debug,
    got: impl std::fmt::Debug,
) -> Error {
    Error::Shape(ShapeError::Mismatch {
        what,
        expected: format!("{expected:?}"),
        got: format!("{got:?}"),
    })
}

/// Checks that x, w and b have the shape's dims and hold only finite numbers.
pub fn check_forward_inputs(shape: &ConvShape, x: &Tensor4, w: &Tensor4, b: &[f32]) -> Result<()> {
    let d = |v: u32| v as usize;
    let x_dims = [d(shape.n), d(shape.c), d(shape.h), d(shape.w)];
    if x.dims != x_dims {
        return Err(mismatch("input x dims (N, C, H, W)", x_dims, x.dims));
    }
    let w_dims = [
        d(shape.k),
        d(shape.channels_per_group()),
        d(shape.r),
        d(shape.s),
    ];
    if w.dims != w_dims {
        return Err(mismatch("weight w dims (K, C/G, R, S)", w_dims, w.dims));
    }
    if b.len() as u64 != shape.bias_len() {
        return Err(mismatch(
            "bias length (K with a bias, 0 without)",
            shape.bias_len(),
            b.len(),
        ));
    }
    x.ensure_len("input x")?;
    w.ensure_len("weight w")?;
    x.ensure_finite("input x")?;
    w.ensure_finite("weight w")?;
    crate::tensor::ensure_finite_slice("bias b", b)?;
    Ok(())
}
