//! A tensor that lives on the GPU: f32, row-major, four dims (NCHW for activations, KCRS for
//! weights). Nothing comes back to the host unless [`DeviceTensor::download`] asks for it.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gpu::memory::{GpuBuffer, STORAGE};
use crate::gpu::GpuContext;
use crate::tensor::Tensor4;

/// f32 data on the device with its four dims, and the context it was made on: using it with
/// another context is an error ([`Error::WrongContext`]), never a wrong result.
///
/// ```
/// use wgconv::{AdapterRequest, DeviceTensor, GpuContext, Tensor4};
/// # fn main() -> Result<(), wgconv::Error> {
/// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
/// let x = DeviceTensor::upload(&ctx, "x", &Tensor4::new("x", [2, 1, 1, 3], vec![1.; 6])?)?;
/// let flat = x.reshape([2, 3, 1, 1])?; // the same data, other dims
/// assert_eq!(flat.download(&ctx)?.dims, [2, 3, 1, 1]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DeviceTensor {
    dims: [usize; 4],
    buffer: Arc<GpuBuffer>,
    ctx: GpuContext,
}

/// Bytes of a tensor of `dims`, refused before anything is allocated when over the device's
/// buffer limit.
fn checked_bytes(ctx: &GpuContext, name: &str, dims: [usize; 4]) -> Result<u64> {
    let max = ctx.limits.max_buffer_size;
    let bytes = dims
        .iter()
        .try_fold(4u64, |acc, &d| acc.checked_mul(d as u64));
    match bytes {
        // Buffers are allocated in multiples of 16 bytes.
        Some(b) if b.next_multiple_of(16) <= max => Ok(b),
        _ => Err(Error::LimitExceeded {
            what: format!("the tensor {name} of dims {dims:?}"),
            limit: "max_buffer_size",
            needed: bytes.unwrap_or(u64::MAX),
            max,
        }),
    }
}

impl DeviceTensor {
    /// Copies `t` to the device. NaN and infinity are allowed here; the operations that need
    /// finite inputs check their host inputs.
    pub fn upload(ctx: &GpuContext, name: &str, t: &Tensor4) -> Result<Self> {
        t.ensure_len(name)?;
        checked_bytes(ctx, name, t.dims)?;
        let buffer = ctx.scoped("uploading a tensor", || {
            ctx.buffer_init(name, bytemuck::cast_slice(&t.data), STORAGE)
        })?;
        Ok(Self::of_buffer(ctx, t.dims, buffer))
    }

    fn of_buffer(ctx: &GpuContext, dims: [usize; 4], buffer: GpuBuffer) -> Self {
        DeviceTensor {
            dims,
            buffer: Arc::new(buffer),
            ctx: ctx.clone(),
        }
    }

    /// A tensor of zeros.
    pub fn zeros(ctx: &GpuContext, name: &str, dims: [usize; 4]) -> Result<Self> {
        let bytes = checked_bytes(ctx, name, dims)?;
        let buffer = ctx.scoped("allocating a tensor", || ctx.buffer(name, bytes, STORAGE))?;
        Ok(Self::of_buffer(ctx, dims, buffer))
    }

    /// The same data under other dims with as many elements (as `torch.reshape` of a contiguous
    /// tensor): nothing is copied, and a write to one is seen by the other.
    pub fn reshape(&self, dims: [usize; 4]) -> Result<Self> {
        let len = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if len != Some(self.len()) {
            return Err(Error::Shape(crate::shape::ShapeError::Mismatch {
                what: "elements of a reshaped tensor",
                expected: format!("{} (dims {:?})", self.len(), self.dims),
                got: format!("dims {dims:?}"),
            }));
        }
        Ok(self.share_as(dims))
    }

    /// Another handle on the same data (what a training forward keeps for backward).
    pub(crate) fn share_as(&self, dims: [usize; 4]) -> Self {
        DeviceTensor {
            dims,
            buffer: Arc::clone(&self.buffer),
            ctx: self.ctx.clone(),
        }
    }

    /// The context it was made on.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// Refuses a tensor made on another context than `ctx`; `what` names it in the error.
    pub fn ensure_on(&self, ctx: &GpuContext, what: &str) -> Result<()> {
        if self.ctx.same_as(ctx) {
            return Ok(());
        }
        Err(Error::WrongContext {
            what: what.to_string(),
        })
    }

    /// The four dims.
    pub fn dims(&self) -> [usize; 4] {
        self.dims
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the work that writes it and copies it back to the host.
    pub fn download(&self, ctx: &GpuContext) -> Result<Tensor4> {
        self.ensure_on(ctx, "the tensor downloaded")?;
        let data = ctx.read_back(&self.buffer, self.len(), "downloading a tensor")?;
        Ok(Tensor4::new("downloaded tensor", self.dims, data)?)
    }

    /// Downloads several tensors with one copy and one wait (e.g. the losses of many steps).
    pub fn download_all(ctx: &GpuContext, tensors: &[&DeviceTensor]) -> Result<Vec<Tensor4>> {
        for t in tensors {
            t.ensure_on(ctx, "a tensor downloaded")?;
        }
        let buffers: Vec<(&wgpu::Buffer, usize)> =
            tensors.iter().map(|t| (t.buffer(), t.len())).collect();
        let data = ctx.read_back_all(&buffers, "downloading tensors")?;
        tensors
            .iter()
            .zip(data)
            .map(|(t, d)| Ok(Tensor4::new("downloaded tensor", t.dims, d)?))
            .collect()
    }

    /// [`DeviceTensor::download`] without blocking (in a browser, the only way).
    pub async fn download_async(&self, ctx: &GpuContext) -> Result<Tensor4> {
        self.ensure_on(ctx, "the tensor downloaded")?;
        let data = ctx
            .read_back_async(&self.buffer, self.len(), "downloading a tensor")
            .await?;
        Ok(Tensor4::new("downloaded tensor", self.dims, data)?)
    }

    /// Overwrites the contents with `t`, which must have the same dims.
    pub fn write(&self, ctx: &GpuContext, t: &Tensor4) -> Result<()> {
        self.ensure_on(ctx, "the tensor written")?;
        if t.dims != self.dims {
            return Err(Error::Shape(crate::shape::ShapeError::Mismatch {
                what: "dims of the tensor written to the device",
                expected: format!("{:?}", self.dims),
                got: format!("{:?}", t.dims),
            }));
        }
        t.ensure_len("the tensor written to the device")?;
        ctx.scoped("writing a tensor", || {
            ctx.queue
                .write_buffer(&self.buffer, 0, bytemuck::cast_slice(&t.data))
        })
    }

    /// Its wgpu buffer (f32, row-major, zero-padded to a multiple of 16 bytes), for an
    /// application that binds it in its own kernels. The context's queue orders that work after
    /// wgconv's.
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }
}
