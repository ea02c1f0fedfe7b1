//! The input gradient dX of a layer's backward: its kernels' params, and its dispatch (with the
//! window version's weight pack before it, and the fold for a copying padding mode after it).

use crate::error::Result;
use crate::gpu::forward::conv_params;
use crate::gpu::grids::input_grad_slides;
use crate::gpu::grids::{
    bwd_input_extent, bwd_input_len, fold_grid, groups, input_tiles, input_window_groups, Grid,
    ELEMENTWISE_WORKGROUP_SIZE,
};
use crate::gpu::kernel::KernelVersion;
use crate::gpu::launch::{elementwise_grid, scratch, Recording};
use crate::gpu::pack::{Pack, PackFor, Rows};
use crate::gpu::params::ConvParams;
use crate::gpu::GpuContext;
use crate::shape::{ConvShape, PaddingMode};

/// The dX kernels' params: the layer's, or with a padding mode other than zeros the padded
/// input's (H and W grown by the padding, none left), whose gradient the fold kernel then adds
/// into the pixels it copies.
pub(crate) fn bwd_input_params(shape: &ConvShape, grid: Grid) -> ConvParams {
    let params = conv_params(shape, grid);
    if shape.padding_mode == PaddingMode::Zeros {
        return params;
    }
    // check_i32_indices kept the padded extent below 2³¹.
    let (h, w) = bwd_input_extent(shape);
    ConvParams {
        h: h as u32,
        w: w as u32,
        pad_top: 0,
        pad_bottom: 0,
        pad_left: 0,
        pad_right: 0,
        pad_mode: PaddingMode::Zeros.code(),
        ..params
    }
}

/// dX from w and dz; with a copying padding mode, into the padded input's gradient and folded.
pub(super) fn input_grad(
    ctx: &GpuContext,
    rec: &mut Recording<'_>,
    shape: &ConvShape,
    version: KernelVersion,
    (w, dz): (&wgpu::Buffer, &wgpu::Buffer),
    dx: &wgpu::Buffer,
) -> Result<()> {
    let k = &ctx.kernels;
    let max_dim = ctx.limits.max_compute_workgroups_per_dimension;
    let (pack, rows);
    let mut reads = vec![("dz", dz)];
    let (kernel, groups, weights) = match version {
        KernelVersion::Simple => (
            &k.bwd_input,
            groups(bwd_input_len(shape), ELEMENTWISE_WORKGROUP_SIZE)?,
            ("w", w),
        ),
        KernelVersion::Tiled => (&k.bwd_input_tiled, input_tiles(shape)?, ("w", w)),
        KernelVersion::Window => {
            let groups = input_window_groups(shape)?;
            pack = Pack::new(ctx, shape, PackFor::InputGrad)?;
            pack.dispatch(ctx, rec, w)?;
            // At stride 1 it reads dz from rows packed for vec4 loads.
            rows = Rows::new(
                ctx,
                shape,
                PackFor::OutputGradRows,
                input_grad_slides(shape),
            )?;
            if let Rows::Packed(rows) = &rows {
                rows.dispatch(ctx, rec, dz)?;
            }
            reads.push(rows.binding());
            (&k.bwd_input_window, groups, pack.packed())
        }
    };
    let grid = fold_grid(groups, max_dim)?;
    let params = bwd_input_params(shape, grid);
    if shape.padding_mode == PaddingMode::Zeros {
        let mut named = vec![weights, ("dx", dx)];
        named.extend_from_slice(&reads);
        return rec.dispatch(kernel, bytemuck::bytes_of(&params), &named, grid);
    }
    let padded = scratch(ctx, "dx (padded input)", bwd_input_len(shape));
    let mut named = vec![weights, ("dx", &*padded)];
    named.extend_from_slice(&reads);
    rec.dispatch(kernel, bytemuck::bytes_of(&params), &named, grid)?;
    let grid = elementwise_grid(ctx, shape.input_len())?;
    let params = conv_params(shape, grid);
    let named = [("dx_padded", &*padded), ("dx", dx)];
    rec.dispatch(&k.bwd_input_fold, bytemuck::bytes_of(&params), &named, grid)
}
