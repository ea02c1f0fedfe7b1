//! Recording the ops' dispatches: each with its own uniform, bound by name, many to one
//! submission.

use crate::error::{Error, Result};
use crate::gpu::grids::{fold_grid, groups, Grid, ELEMENTWISE_WORKGROUP_SIZE};
use crate::gpu::kernel::Kernel;
use crate::gpu::memory::GpuBuffer;
use crate::gpu::op_timer::record_pass;
use crate::gpu::params::ConvParams;
use crate::gpu::GpuContext;

/// Dispatches recorded into one command encoder, submitted together.
pub(crate) struct Recording<'c> {
    ctx: &'c GpuContext,
    encoder: wgpu::CommandEncoder,
}

impl<'c> Recording<'c> {
    pub(crate) fn new(ctx: &'c GpuContext, label: &str) -> Self {
        let encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        Recording { ctx, encoder }
    }

    /// One dispatch of `kernel` on `grid`, its uniform holding `params`, its other bindings
    /// `buffers` by name.
    pub(crate) fn dispatch(
        &mut self,
        kernel: &Kernel,
        params: &[u8],
        buffers: &[(&str, &wgpu::Buffer)],
        grid: Grid,
    ) -> Result<()> {
        let specialised =
            conv_params(kernel, params).and_then(|p| self.ctx.specialised(kernel, &p));
        let kernel = specialised.as_deref().unwrap_or(kernel);
        let uniform = self
            .ctx
            .buffer_init(kernel.desc.name, params, wgpu::BufferUsages::UNIFORM);
        let mut named = vec![("params", &*uniform)];
        named.extend_from_slice(buffers);
        let bind = kernel.bind(&self.ctx.device, &named)?;
        let name = kernel.desc.name;
        record_pass(self.ctx, &mut self.encoder, name, |pass| {
            kernel.dispatch(pass, &bind, grid)
        })
    }

    pub(crate) fn submit(self) {
        self.ctx.queue.submit([self.encoder.finish()]);
    }
}

/// The layer's shape, when `kernel` takes a [`ConvParams`] uniform.
fn conv_params(kernel: &Kernel, params: &[u8]) -> Option<ConvParams> {
    let conv = kernel.desc.params == ConvParams::LAYOUT && params.len() == size_of::<ConvParams>();
    conv.then(|| bytemuck::pod_read_unaligned(params))
}

/// The folded grid of an elementwise kernel over `len` items (one invocation each).
pub(crate) fn elementwise_grid(ctx: &GpuContext, len: u64) -> Result<Grid> {
    fold_grid(
        groups(len, ELEMENTWISE_WORKGROUP_SIZE)?,
        ctx.limits.max_compute_workgroups_per_dimension,
    )
}

/// Refuses a tensor of `elements` f32 (or u32) over the binding limit: the ops do not split
/// batches.
pub(crate) fn ensure_bindable(ctx: &GpuContext, what: &str, elements: u64) -> Result<()> {
    let (cap, limit) = ctx.binding_limit();
    let needed = elements.saturating_mul(4);
    if needed > cap {
        return Err(Error::LimitExceeded {
            what: format!("{what} (training does not split batches)"),
            limit,
            needed,
            max: cap,
        });
    }
    Ok(())
}

/// A zeroed u32 or f32 scratch buffer of `elements` for one op.
pub(crate) fn scratch(ctx: &GpuContext, label: &str, elements: u64) -> GpuBuffer {
    ctx.buffer(label, elements * 4, crate::gpu::memory::STORAGE)
}

/// u32 `items`, for a params struct field; the kernels index in u32.
pub(crate) fn count(what: &str, items: u64) -> Result<u32> {
    u32::try_from(items).map_err(|_| Error::Invalid(format!("{what}: {items} is over 2³²")))
}
