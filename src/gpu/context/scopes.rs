//! wgpu's error scopes around the context's work, turned into typed errors: blocking on a
//! native backend, popped at once and awaited later in a browser.

use crate::error::{Error, Result};

/// In a browser an error scope pops only through the event loop, which blocking never reaches.
/// Compiling the kernels runs unscoped (its errors reach the uncaptured-error sink, reported by
/// the next [`GpuContext::scoped`] or readback); everything else goes through [`catch_later`].
#[cfg(target_arch = "wasm32")]
pub(super) fn catch<T>(
    _device: &wgpu::Device,
    _stage: &'static str,
    f: impl FnOnce() -> T,
) -> Result<T> {
    Ok(f())
}

/// A scope's outcome still to come: the error it caught, if any.
#[cfg(target_arch = "wasm32")]
pub(super) type PendingScope = std::pin::Pin<Box<dyn std::future::Future<Output = Option<Error>>>>;

/// [`catch`] for a browser: runs `f` inside the same three scopes and pops them at once (so
/// later work is outside them), returning the outcome to await.
#[cfg(target_arch = "wasm32")]
pub(super) fn catch_later<T>(
    device: &wgpu::Device,
    stage: &'static str,
    f: impl FnOnce() -> T,
) -> (T, PendingScope) {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let out = f();
    let (validation, internal, oom) = (validation.pop(), internal.pop(), oom.pop());
    let pending = Box::pin(async move {
        let (validation, internal, oom) = (validation.await, internal.await, oom.await);
        scope_error(stage, validation, internal, oom).err()
    });
    (out, pending)
}

/// The error three scopes caught, out-of-memory first, then validation, then internal.
pub(super) fn scope_error(
    stage: &'static str,
    validation: Option<wgpu::Error>,
    internal: Option<wgpu::Error>,
    oom: Option<wgpu::Error>,
) -> Result<()> {
    if oom.is_some() {
        return Err(Error::OutOfMemory { stage });
    }
    if let Some(e) = validation {
        return Err(Error::Validation {
            stage,
            message: e.to_string(),
        });
    }
    if let Some(e) = internal {
        return Err(Error::Internal {
            stage,
            message: e.to_string(),
        });
    }
    Ok(())
}

/// Runs `f` inside validation, out-of-memory and internal error scopes on `device`.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn catch<T>(
    device: &wgpu::Device,
    stage: &'static str,
    f: impl FnOnce() -> T,
) -> Result<T> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let out = f();
    let validation = pollster::block_on(validation.pop());
    let internal = pollster::block_on(internal.pop());
    let oom = pollster::block_on(oom.pop());
    scope_error(stage, validation, internal, oom).map(|()| out)
}
