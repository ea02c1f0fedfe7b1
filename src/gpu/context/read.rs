//! Blocking readback: storage buffers copied to a MAP_READ staging buffer, waited for, mapped.

use std::sync::mpsc;

use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;

impl GpuContext {
    /// Copies the first `len` floats of a storage buffer back to the host.
    pub(crate) fn read_back(
        &self,
        buffer: &wgpu::Buffer,
        len: usize,
        stage: &'static str,
    ) -> Result<Vec<f32>> {
        Ok(self.read_back_all(&[(buffer, len)], stage)?.remove(0))
    }

    /// The first `len` floats of each buffer, with one staging buffer, one submission and one
    /// wait for all of them.
    pub(crate) fn read_back_all(
        &self,
        buffers: &[(&wgpu::Buffer, usize)],
        stage: &'static str,
    ) -> Result<Vec<Vec<f32>>> {
        let offsets: Vec<u64> = buffers
            .iter()
            .scan(0u64, |at, &(_, len)| {
                let here = *at;
                *at += len as u64 * 4;
                Some(here)
            })
            .collect();
        let total: u64 = buffers.iter().map(|&(_, len)| len as u64 * 4).sum();
        let (staging, submission) = self.scoped(stage, || {
            let staging = self.buffer("readback", total.max(4), crate::gpu::memory::READBACK);
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(stage) });
            for (&(buffer, len), &at) in buffers.iter().zip(&offsets) {
                encoder.copy_buffer_to_buffer(buffer, 0, &staging, at, len as u64 * 4);
            }
            (staging, self.queue.submit([encoder.finish()]))
        })?;
        self.wait(submission, stage)?;
        let data = self.read_f32(&staging, stage)?;
        Ok(buffers
            .iter()
            .zip(&offsets)
            .map(|(&(_, len), &at)| data[at as usize / 4..at as usize / 4 + len].to_vec())
            .collect())
    }

    /// Maps a MAP_READ buffer (after its copy was submitted) and returns its f32 contents.
    pub(crate) fn read_f32(&self, buffer: &wgpu::Buffer, stage: &'static str) -> Result<Vec<f32>> {
        // A browser maps buffers only from its event loop, which a blocking wait never yields to.
        if cfg!(target_arch = "wasm32") {
            return Err(Error::Readback {
                stage,
                message: "a browser cannot wait for a readback: use the async readers".into(),
            });
        }
        let (tx, rx) = mpsc::channel();
        buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.wait_for(None, stage)?;
        let mapped = rx.recv_timeout(self.timeout).map_err(|_| Error::Timeout {
            stage,
            seconds: self.timeout.as_secs_f64(),
        })?;
        mapped_f32(buffer, mapped, stage)
    }
}

/// The f32s of `buffer` once its map completed with `mapped`; unmaps it.
pub(super) fn mapped_f32(
    buffer: &wgpu::Buffer,
    mapped: std::result::Result<(), wgpu::BufferAsyncError>,
    stage: &'static str,
) -> Result<Vec<f32>> {
    let readback = |e: &dyn std::fmt::Display| Error::Readback {
        stage,
        message: e.to_string(),
    };
    mapped.map_err(|e| readback(&e))?;
    let data = {
        let view = buffer.get_mapped_range(..).map_err(|e| readback(&e))?;
        bytemuck::pod_collect_to_vec::<u8, f32>(&view)
    };
    buffer.unmap();
    Ok(data)
}
