//! Reading buffers back without blocking, for a browser: the map completes from the event loop
//! while the caller awaits.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::context::read::mapped_f32;
use crate::gpu::context::GpuContext;

/// A value sent once from a callback (a buffer map's), awaited without blocking.
struct Oneshot<T>(Arc<Mutex<(Option<T>, Option<std::task::Waker>)>>);

impl<T> Oneshot<T> {
    fn new() -> (Self, impl FnOnce(T)) {
        let slot = Arc::new(Mutex::new((None::<T>, None::<std::task::Waker>)));
        let sender = Arc::clone(&slot);
        let send = move |value: T| {
            if let Ok(mut s) = sender.lock() {
                s.0 = Some(value);
                if let Some(waker) = s.1.take() {
                    waker.wake();
                }
            }
        };
        (Oneshot(slot), send)
    }
}

impl<T> std::future::Future for Oneshot<T> {
    /// None when the slot's lock was poisoned.
    type Output = Option<T>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        let Ok(mut s) = self.0.lock() else {
            return std::task::Poll::Ready(None);
        };
        match s.0.take() {
            Some(v) => std::task::Poll::Ready(Some(v)),
            None => {
                s.1 = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        }
    }
}

impl GpuContext {
    /// [`GpuContext::read_back`] without blocking: in a browser the map completes from the event
    /// loop while this awaits. Errors of the work before it are reported here.
    pub(crate) async fn read_back_async(
        &self,
        buffer: &wgpu::Buffer,
        len: usize,
        stage: &'static str,
    ) -> Result<Vec<f32>> {
        let size = (len as u64 * 4).next_multiple_of(4).max(4);
        let staging = self.scoped(stage, || {
            let staging = self.buffer("readback", size, crate::gpu::memory::READBACK);
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(stage) });
            encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
            self.queue.submit([encoder.finish()]);
            staging
        })?;
        let mut data = self.read_f32_async(&staging, stage).await?;
        data.truncate(len);
        Ok(data)
    }

    /// [`GpuContext::read_f32`] without blocking. A native backend is polled to completion first
    /// (so `pollster` can drive this in tests); a browser's needs no polling.
    pub(crate) async fn read_f32_async(
        &self,
        buffer: &wgpu::Buffer,
        stage: &'static str,
    ) -> Result<Vec<f32>> {
        let (mapped, send) = Oneshot::new();
        buffer.map_async(wgpu::MapMode::Read, .., send);
        self.wait_for(None, stage)?;
        let mapped = mapped.await.ok_or_else(|| Error::Readback {
            stage,
            message: "the map's result was lost".into(),
        })?;
        self.settle_scopes().await?;
        self.take_uncaught(stage)?;
        mapped_f32(buffer, mapped, stage)
    }
}
