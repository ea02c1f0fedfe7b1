//! The packed copies of the weights that the window forward and dX read as vec4s, made before
//! each pass: blocks of filters (`conv2d_pack_weights.wgsl`) or of channels
//! (`conv2d_pack_input_weights.wgsl`).

use crate::error::Result;
use crate::gpu::forward::conv_params;
use crate::gpu::grids::{
    fold_grid, groups, packed_input_weights_len, packed_weights_len, Grid,
    ELEMENTWISE_WORKGROUP_SIZE,
};
use crate::gpu::kernel::Kernel;
use crate::gpu::memory::GpuBuffer;
use crate::gpu::params::ConvParams;
use crate::gpu::GpuContext;
use crate::shape::ConvShape;

/// Which pass reads the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PackFor {
    /// The window forward: blocks of eight filters.
    Forward,
    /// The window dX: blocks of four channels.
    InputGrad,
}

/// A packed copy: its kernel's grid and params, and its buffer.
pub(crate) struct WeightPack {
    pack_for: PackFor,
    shape: ConvShape,
    pub(crate) grid: Grid,
    pub(crate) params: ConvParams,
    uniform: GpuBuffer,
    pub(crate) w_blocks: GpuBuffer,
}

impl WeightPack {
    pub(crate) fn new(ctx: &GpuContext, shape: &ConvShape, pack_for: PackFor) -> Result<Self> {
        let len = match pack_for {
            PackFor::Forward => packed_weights_len(shape),
            PackFor::InputGrad => packed_input_weights_len(shape),
        };
        let grid = fold_grid(
            groups(len, ELEMENTWISE_WORKGROUP_SIZE)?,
            ctx.limits.max_compute_workgroups_per_dimension,
        )?;
        let params = conv_params(shape, grid);
        let uniform = ctx.buffer_init(
            "ConvParams weight pack",
            bytemuck::bytes_of(&params),
            wgpu::BufferUsages::UNIFORM,
        );
        let w_blocks = ctx.buffer("packed weights", 4 * len, crate::gpu::memory::STORAGE);
        Ok(WeightPack {
            pack_for,
            shape: *shape,
            grid,
            params,
            uniform,
            w_blocks,
        })
    }

    /// Floats in the copy.
    pub(crate) fn len(&self, shape: &ConvShape) -> usize {
        match self.pack_for {
            PackFor::Forward => packed_weights_len(shape) as usize,
            PackFor::InputGrad => packed_input_weights_len(shape) as usize,
        }
    }

    pub(crate) fn kernel<'c>(&self, ctx: &'c GpuContext) -> &'c Kernel {
        match self.pack_for {
            PackFor::Forward => ctx.kernels.pack_weights_for(&self.shape),
            PackFor::InputGrad => &ctx.kernels.pack_input_weights,
        }
    }

    /// The pack's bind group, reading the weights `w` (K, C/G, R, S).
    pub(crate) fn bind(&self, ctx: &GpuContext, w: &wgpu::Buffer) -> Result<wgpu::BindGroup> {
        let named = [
            ("params", &*self.uniform),
            ("w", w),
            ("w_blocks", &*self.w_blocks),
        ];
        self.kernel(ctx).bind(&ctx.device, &named)
    }

    pub(crate) fn record(
        &self,
        ctx: &GpuContext,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
    ) {
        self.kernel(ctx).dispatch(pass, bind, self.grid);
    }
}
