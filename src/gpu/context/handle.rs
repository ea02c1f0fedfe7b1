//! The context as a handle an application holds: from its own wgpu device, compared by
//! identity, its device and queue lent out.

use crate::error::Result;
use crate::gpu::adapter::AdapterRequest;
use crate::gpu::context::GpuContext;

impl GpuContext {
    /// A context on a device an application already opened: wgconv's kernels compiled on it,
    /// its buffers and dispatches on `queue`. The device's own limits and features apply (with
    /// `TIMESTAMP_QUERY`, GPU times are measured). wgconv installs its handlers for uncaptured
    /// errors and device loss on `device`, so that a GPU error comes back as an [`Error`](crate::Error).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use wgconv::{wgpu, GpuContext};
    /// let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    /// let adapter = pollster::block_on(instance.request_adapter(&Default::default()))?;
    /// let (device, queue) = pollster::block_on(adapter.request_device(&Default::default()))?;
    /// let ctx = GpuContext::from_device(device, queue)?;
    /// assert!(!ctx.adapter().name.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Result<Self> {
        let timeout = AdapterRequest::default().timeout;
        Self::with_device(
            &device.adapter_info(),
            device.limits(),
            device.features(),
            (device.clone(), queue),
            timeout,
            false,
            |_| {},
        )
    }

    /// Whether `other` is this context (a clone of it), not merely one on the same adapter.
    pub fn same_as(&self, other: &GpuContext) -> bool {
        self.inner.id == other.inner.id
    }

    /// The wgpu device, for an application that records its own work beside wgconv's.
    pub fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    /// The wgpu queue wgconv submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }
}
