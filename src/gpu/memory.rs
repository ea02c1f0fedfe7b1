//! Every GPU buffer the crate creates, counted: live buffers and their bytes, on any backend
//! (OpenGL's allocator reports nothing, so the crate keeps its own books).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use wgpu::util::DeviceExt;

/// Live buffers the crate created and the bytes they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryUse {
    pub buffers: u64,
    pub bytes: u64,
}

/// The running totals behind [`MemoryUse`], shared by every [`GpuBuffer`] of one context.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    buffers: AtomicU64,
    bytes: AtomicU64,
}

impl Ledger {
    pub(crate) fn now(&self) -> MemoryUse {
        MemoryUse {
            buffers: self.buffers.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

/// A wgpu buffer that is counted in its context's `Ledger` while it lives.
#[derive(Debug)]
pub struct GpuBuffer {
    buffer: wgpu::Buffer,
    ledger: Arc<Ledger>,
}

impl GpuBuffer {
    fn counted(buffer: wgpu::Buffer, ledger: &Arc<Ledger>) -> Self {
        ledger.buffers.fetch_add(1, Ordering::Relaxed);
        ledger.bytes.fetch_add(buffer.size(), Ordering::Relaxed);
        GpuBuffer {
            buffer,
            ledger: Arc::clone(ledger),
        }
    }

    /// Size in bytes (a multiple of 4, at least 4).
    pub fn size(&self) -> u64 {
        self.buffer.size()
    }
}

impl std::ops::Deref for GpuBuffer {
    type Target = wgpu::Buffer;
    fn deref(&self) -> &wgpu::Buffer {
        &self.buffer
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        self.ledger.buffers.fetch_sub(1, Ordering::Relaxed);
        self.ledger
            .bytes
            .fetch_sub(self.buffer.size(), Ordering::Relaxed);
    }
}

/// Usage of a storage buffer the host may fill and read back.
pub(crate) const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);
/// Usage of a buffer the host maps to read.
pub(crate) const READBACK: wgpu::BufferUsages =
    wgpu::BufferUsages::MAP_READ.union(wgpu::BufferUsages::COPY_DST);

/// `bytes` zero-padded to a multiple of 16 and at least 16: vec4 loads never run off the end,
/// and no buffer is empty.
fn padded(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out.resize(bytes.len().next_multiple_of(16).max(16), 0);
    out
}

/// Creates a counted buffer of `size` bytes (rounded up to 16), zeroed.
pub(crate) fn buffer(
    device: &wgpu::Device,
    ledger: &Arc<Ledger>,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> GpuBuffer {
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size.next_multiple_of(16).max(16),
        usage,
        mapped_at_creation: false,
    });
    GpuBuffer::counted(buffer, ledger)
}

/// Creates a counted buffer holding `bytes` (zero-padded to a multiple of 16).
pub(crate) fn buffer_init(
    device: &wgpu::Device,
    ledger: &Arc<Ledger>,
    label: &str,
    bytes: &[u8],
    usage: wgpu::BufferUsages,
) -> GpuBuffer {
    let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: &padded(bytes),
        usage,
    });
    GpuBuffer::counted(buffer, ledger)
}
