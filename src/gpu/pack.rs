//! The packed copies that the window versions read as vec4s, made before each pass: the weights
//! in blocks of filters for the forward (`conv2d_pack_weights.wgsl`) or of channels for dX
//! (`conv2d_pack_input_weights.wgsl`), dz in blocks of filters for dW
//! (`conv2d_pack_output_grad.wgsl`), and for the sliding paths at stride 1 the rows of x (the
//! forward and dW: `conv2d_pack_input_rows.wgsl`) or of dz (dX:
//! `conv2d_pack_output_grad_rows.wgsl`), each row padded and aligned for vec4 loads.

use crate::error::Result;
use crate::gpu::conv2d::input_grad::bwd_input_params;
use crate::gpu::forward::conv_params;
use crate::gpu::grids::{
    fold_grid, groups, packed_input_rows_len, packed_input_weights_len, packed_output_grad_len,
    packed_output_grad_rows_len, packed_weights_len, Grid, ELEMENTWISE_WORKGROUP_SIZE,
};
use crate::gpu::kernel::Kernel;
use crate::gpu::launch::Recording;
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
    /// The window dW: dz (not the weights) in blocks of four filters.
    WeightGrad,
    /// The window forward's and dW's sliding paths: the rows of x, for vec4 loads.
    InputRows,
    /// The window dX's sliding path: the rows of dz, for vec4 loads.
    OutputGradRows,
}

impl PackFor {
    /// The names of the pack kernel's source and packed bindings.
    fn bindings(self) -> (&'static str, &'static str) {
        match self {
            PackFor::Forward | PackFor::InputGrad => ("w", "w_blocks"),
            PackFor::WeightGrad => ("dz", "dz_blocks"),
            PackFor::InputRows => ("x", "x_rows"),
            PackFor::OutputGradRows => ("dz", "dz_rows"),
        }
    }

    /// What the copy is, for an error.
    fn what(self) -> &'static str {
        match self {
            PackFor::Forward => "weights in blocks of filters",
            PackFor::InputGrad => "weights in blocks of channels",
            PackFor::WeightGrad => "dz in blocks of filters",
            PackFor::InputRows => "rows of x",
            PackFor::OutputGradRows => "rows of dz",
        }
    }
}

/// A packed copy: its kernel's grid and params, and its buffer.
pub(crate) struct Pack {
    pack_for: PackFor,
    shape: ConvShape,
    pub(crate) grid: Grid,
    pub(crate) params: ConvParams,
    uniform: GpuBuffer,
    pub(crate) blocks: GpuBuffer,
}

impl Pack {
    pub(crate) fn new(ctx: &GpuContext, shape: &ConvShape, pack_for: PackFor) -> Result<Self> {
        let len = packed_len(shape, pack_for);
        let (cap, _) = ctx.binding_limit();
        if 4 * len > cap {
            return Err(crate::error::Error::Invalid(format!(
                "{shape}: the window version's {} ({} bytes) do not fit one binding ({cap} bytes)",
                pack_for.what(),
                4 * len
            )));
        }
        let grid = fold_grid(
            groups(
                pack_invocations(shape, pack_for),
                ELEMENTWISE_WORKGROUP_SIZE,
            )?,
            ctx.limits.max_compute_workgroups_per_dimension,
        )?;
        // dX, and so its rows of dz, see a copying padding mode's padded input.
        let params = match pack_for {
            PackFor::OutputGradRows => bwd_input_params(shape, grid),
            _ => conv_params(shape, grid),
        };
        let uniform = ctx.buffer_init(
            "ConvParams pack",
            bytemuck::bytes_of(&params),
            wgpu::BufferUsages::UNIFORM,
        );
        let blocks = ctx.buffer("packed copy", 4 * len, crate::gpu::memory::STORAGE);
        Ok(Pack {
            pack_for,
            shape: *shape,
            grid,
            params,
            uniform,
            blocks,
        })
    }

    /// Floats in the copy.
    pub(crate) fn len(&self) -> usize {
        packed_len(&self.shape, self.pack_for) as usize
    }

    /// The packed binding's name and buffer, for the kernel that reads it.
    pub(crate) fn packed(&self) -> (&'static str, &wgpu::Buffer) {
        (self.pack_for.bindings().1, &self.blocks)
    }

    pub(crate) fn kernel<'c>(&self, ctx: &'c GpuContext) -> &'c Kernel {
        match self.pack_for {
            PackFor::Forward => ctx.kernels.pack_weights_for(&self.shape),
            PackFor::InputGrad => &ctx.kernels.pack_input_weights,
            PackFor::WeightGrad => &ctx.kernels.pack_output_grad,
            PackFor::InputRows => &ctx.kernels.pack_input_rows,
            PackFor::OutputGradRows => &ctx.kernels.pack_output_grad_rows,
        }
    }

    /// The pack's bind group, reading `source`: the weights (K, C/G, R, S), dz (N, K, P, Q) or x
    /// (N, C, H, W), as `pack_for` says.
    pub(crate) fn bind(&self, ctx: &GpuContext, source: &wgpu::Buffer) -> Result<wgpu::BindGroup> {
        let (source_name, packed_name) = self.pack_for.bindings();
        let named = [
            ("params", &*self.uniform),
            (source_name, source),
            (packed_name, &*self.blocks),
        ];
        self.kernel(ctx).bind(&ctx.device, &named)
    }

    /// Records the pack of `source` into `rec` (the layer ops' path).
    pub(crate) fn dispatch(
        &self,
        ctx: &GpuContext,
        rec: &mut Recording<'_>,
        source: &wgpu::Buffer,
    ) -> Result<()> {
        let (source_name, packed_name) = self.pack_for.bindings();
        let named = [(source_name, source), (packed_name, &*self.blocks)];
        let params = bytemuck::bytes_of(&self.params);
        rec.dispatch(self.kernel(ctx), params, &named, self.grid)
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

/// Floats in `shape`'s copy for `pack_for`.
fn packed_len(shape: &ConvShape, pack_for: PackFor) -> u64 {
    match pack_for {
        PackFor::Forward => packed_weights_len(shape),
        PackFor::InputGrad => packed_input_weights_len(shape),
        PackFor::WeightGrad => packed_output_grad_len(shape),
        PackFor::InputRows => packed_input_rows_len(shape),
        PackFor::OutputGradRows => packed_output_grad_rows_len(shape),
    }
}

/// Invocations of `pack_for`'s pack kernel: one per packed float; for dz one per output pixel
/// (N·P·Q), each writing that pixel's blocks; for rows one per row (N·C·H of x, N·K·P of dz).
fn pack_invocations(shape: &ConvShape, pack_for: PackFor) -> u64 {
    match pack_for {
        PackFor::WeightGrad => u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q()),
        PackFor::InputRows => u64::from(shape.n) * u64::from(shape.c) * u64::from(shape.h),
        PackFor::OutputGradRows => u64::from(shape.n) * u64::from(shape.k) * u64::from(shape.p()),
        _ => packed_len(shape, pack_for),
    }
}

/// The rows binding of a window kernel's sliding path: x's rows (`x_rows`, the forward and dW)
/// or dz's (`dz_rows`, dX) packed where it reads them, else a 16-byte stand-in.
pub(crate) enum Rows {
    Packed(Box<Pack>),
    Unread(GpuBuffer, &'static str),
}

impl Rows {
    /// `pack_for`'s rows (`InputRows` or `OutputGradRows`) of `shape` where `read`
    /// (`grids::window_slides` for the forward, `weight_grad_slides` for dW,
    /// `input_grad_slides` for dX).
    pub(crate) fn new(
        ctx: &GpuContext,
        shape: &ConvShape,
        pack_for: PackFor,
        read: bool,
    ) -> Result<Self> {
        Ok(match read {
            true => Rows::Packed(Box::new(Pack::new(ctx, shape, pack_for)?)),
            false => {
                let buffer = ctx.buffer("rows (unread)", 16, crate::gpu::memory::STORAGE);
                Rows::Unread(buffer, pack_for.bindings().1)
            }
        })
    }

    /// The binding the kernel reads.
    pub(crate) fn binding(&self) -> (&'static str, &wgpu::Buffer) {
        match self {
            Rows::Packed(pack) => pack.packed(),
            Rows::Unread(buffer, name) => (name, buffer),
        }
    }
}
