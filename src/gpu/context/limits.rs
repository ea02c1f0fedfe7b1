//! The device limits that matter to the crate, and the per-binding cap.

use std::sync::atomic::Ordering;

use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;

/// The most bytes one binding may hold on any device: the kernels index in u32 (4 GiB − 4). A
/// tensor over it is refused whatever the adapter, so this can be checked before opening one.
pub const MAX_BINDING_BYTES: u64 = (1 << 32) - 4;

/// Refuses `what` when `bytes` (None: past 64 bits) exceed [`MAX_BINDING_BYTES`].
pub fn ensure_within_binding_range(
    what: impl FnOnce() -> String,
    bytes: Option<u64>,
) -> Result<()> {
    match bytes {
        Some(b) if b <= MAX_BINDING_BYTES => Ok(()),
        _ => Err(Error::LimitExceeded {
            what: what(),
            limit: "u32 index range of the kernels",
            needed: bytes.unwrap_or(u64::MAX),
            max: MAX_BINDING_BYTES,
        }),
    }
}

/// The device's limits that matter here, for `wgconv info` and error messages.
#[derive(Debug, Clone, Copy)]
pub struct KeyLimits {
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroup_storage_size: u32,
    pub max_storage_buffers_per_shader_stage: u32,
    pub timestamp_query: bool,
}

impl GpuContext {
    /// The limits that matter for this crate.
    pub fn key_limits(&self) -> KeyLimits {
        let l = &self.limits;
        KeyLimits {
            max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
            max_buffer_size: l.max_buffer_size,
            max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
            max_compute_invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
            max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
            max_storage_buffers_per_shader_stage: l.max_storage_buffers_per_shader_stage,
            timestamp_query: self.features.contains(wgpu::Features::TIMESTAMP_QUERY),
        }
    }

    /// The largest tensor, in bytes, one binding may hold, and the name of the limit that sets
    /// it: the device's binding or buffer limit, the kernels' u32 indexing (4 GiB), or a cap
    /// lowered with [`GpuContext::set_binding_cap`].
    pub fn binding_limit(&self) -> (u64, &'static str) {
        let l = &self.limits;
        let mut best = (
            l.max_storage_buffer_binding_size,
            "max_storage_buffer_binding_size",
        );
        if l.max_buffer_size < best.0 {
            best = (l.max_buffer_size, "max_buffer_size");
        }
        if MAX_BINDING_BYTES < best.0 {
            best = (MAX_BINDING_BYTES, "u32 index range of the kernels");
        }
        let cap = self.binding_cap.load(Ordering::Relaxed);
        if cap < best.0 {
            best = (cap, "binding cap (set_binding_cap)");
        }
        best
    }

    /// Lowers the per-binding cap below the device's limit, so that batch splitting can be
    /// exercised with small tensors. Values above the device's limit are ignored. Every clone
    /// of this context sees the new cap.
    pub fn set_binding_cap(&mut self, bytes: u64) {
        let device_cap = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        self.binding_cap
            .store(bytes.clamp(4, device_cap), Ordering::Relaxed);
    }
}
