//! `MaxPool2d`: max pooling forward and backward on the device, as `torch.nn.MaxPool2d`.

use crate::error::{Error, Result};
use crate::gpu::launch::{count, elementwise_grid, ensure_bindable, scratch, Recording};
use crate::gpu::memory::GpuBuffer;
use crate::gpu::params::PoolParams;
use crate::gpu::tensor::DeviceTensor;

/// `nn.MaxPool2d(kernel_size, stride, padding)` (dilation 1, floor mode): the first maximum of a
/// window wins a tie, and NaN propagates. It has no parameters and needs no context: it runs on
/// its input's.
///
/// ```
/// use wgconv::{AdapterRequest, DeviceTensor, GpuContext, MaxPool2d, Tensor4};
/// # fn main() -> Result<(), wgconv::Error> {
/// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
/// let x = Tensor4::new("x", [1, 1, 2, 4], vec![1., 5., 2., 2., 3., 4., 0., 1.])?;
/// let y = MaxPool2d::new(2, 2).forward(&DeviceTensor::upload(&ctx, "x", &x)?)?;
/// assert_eq!(y.download(&ctx)?.data, [5., 2.]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2d {
    /// (height, width) of the window.
    pub kernel: (u32, u32),
    pub stride: (u32, u32),
    /// Implicit −∞ padding on each side, at most half the window.
    pub padding: (u32, u32),
}

/// What [`MaxPool2d::forward_train`] keeps: where each window's maximum was.
#[derive(Debug)]
pub struct MaxPoolSaved {
    x_dims: [usize; 4],
    y_dims: [usize; 4],
    /// u32 (N, C, P, Q): the winner's h·W + w in its plane.
    argmax: GpuBuffer,
}

impl MaxPool2d {
    /// A square window of `kernel` moved by `stride`, no padding (`nn.MaxPool2d(kernel, stride)`).
    pub fn new(kernel: u32, stride: u32) -> Self {
        MaxPool2d {
            kernel: (kernel, kernel),
            stride: (stride, stride),
            padding: (0, 0),
        }
    }

    pub fn with_padding(self, padding: (u32, u32)) -> Self {
        MaxPool2d { padding, ..self }
    }

    /// (N, C, P, Q) for an input of `x_dims`, P = ⌊(H + 2·pad − kernel)/stride⌋ + 1; refuses
    /// what PyTorch refuses.
    pub fn output_dims(&self, x_dims: [usize; 4]) -> Result<[usize; 4]> {
        let [n, c, h, w] = x_dims;
        let axis = |len: usize, k: u32, s: u32, p: u32, name: &str| -> Result<usize> {
            if k == 0 || s == 0 {
                return Err(Error::Invalid(format!(
                    "MaxPool2d: {name} kernel {k} and stride {s} must be > 0"
                )));
            }
            if 2 * p > k {
                return Err(Error::Invalid(format!(
                    "MaxPool2d: {name} padding {p} must be at most half the kernel {k}"
                )));
            }
            let padded = len + 2 * p as usize;
            if padded < k as usize {
                return Err(Error::Invalid(format!(
                    "MaxPool2d: the {name} kernel {k} is larger than the padded input ({padded})"
                )));
            }
            Ok((padded - k as usize) / s as usize + 1)
        };
        let p = axis(h, self.kernel.0, self.stride.0, self.padding.0, "height")?;
        let q = axis(w, self.kernel.1, self.stride.1, self.padding.1, "width")?;
        Ok([n, c, p, q])
    }

    /// y (N, C, P, Q) for x (N, C, H, W), on x's context.
    pub fn forward(&self, x: &DeviceTensor) -> Result<DeviceTensor> {
        Ok(self.run(x, false)?.0)
    }

    /// The forward of a training step, with what the backward needs.
    pub fn forward_train(&self, x: &DeviceTensor) -> Result<(DeviceTensor, MaxPoolSaved)> {
        let (y, argmax) = self.run(x, true)?;
        let saved = MaxPoolSaved {
            x_dims: x.dims(),
            y_dims: y.dims(),
            argmax,
        };
        Ok((y, saved))
    }

    fn params(&self, x_dims: [usize; 4], y_dims: [usize; 4]) -> Result<PoolParams> {
        let [n, c, h, w] = x_dims.map(|d| count("MaxPool2d dims", d as u64));
        let [_, _, p, q] = y_dims.map(|d| count("MaxPool2d dims", d as u64));
        Ok(PoolParams {
            n: n?,
            c: c?,
            h: h?,
            w: w?,
            p: p?,
            q: q?,
            kernel_h: self.kernel.0,
            kernel_w: self.kernel.1,
            stride_h: self.stride.0,
            stride_w: self.stride.1,
            pad_h: self.padding.0,
            pad_w: self.padding.1,
            ..Default::default()
        })
    }

    fn run(&self, x: &DeviceTensor, save: bool) -> Result<(DeviceTensor, GpuBuffer)> {
        let ctx = x.context();
        let y_dims = self.output_dims(x.dims())?;
        let out_len: u64 = y_dims.iter().map(|&d| d as u64).product();
        ensure_bindable(ctx, "the input of MaxPool2d", x.len() as u64)?;
        ensure_bindable(ctx, "the output of MaxPool2d", out_len)?;
        let grid = elementwise_grid(ctx, out_len)?;
        let params = PoolParams {
            groups_x: grid.0,
            groups_y: grid.1,
            save_index: u32::from(save),
            ..self.params(x.dims(), y_dims)?
        };
        let y = DeviceTensor::zeros(ctx, "max pool y", y_dims)?;
        let argmax = ctx.scoped("running max_pool2d_fwd", || -> Result<GpuBuffer> {
            let argmax = scratch(ctx, "max pool argmax", if save { out_len } else { 1 });
            let mut rec = Recording::new(ctx, "max_pool2d_fwd");
            let named = [("x", x.buffer()), ("y", y.buffer()), ("argmax", &*argmax)];
            let kernel = &ctx.kernels.max_pool_fwd;
            rec.dispatch(kernel, bytemuck::bytes_of(&params), &named, grid)?;
            rec.submit();
            Ok(argmax)
        })??;
        Ok((y, argmax))
    }

    /// dL/dx (N, C, H, W) from dy = dL/dy of the forward that made `saved`: each window's
    /// gradient goes to its maximum. A new tensor (overwritten, not accumulated).
    pub fn backward(&self, saved: &MaxPoolSaved, dy: &DeviceTensor) -> Result<DeviceTensor> {
        let ctx = dy.context();
        if dy.dims() != saved.y_dims || self.output_dims(saved.x_dims)? != saved.y_dims {
            return Err(Error::Shape(crate::shape::ShapeError::Mismatch {
                what: "dims of dy for MaxPool2d::backward (its forward's output)",
                expected: format!("{:?}", saved.y_dims),
                got: format!("{:?}", dy.dims()),
            }));
        }
        let in_len: u64 = saved.x_dims.iter().map(|&d| d as u64).product();
        let grid = elementwise_grid(ctx, in_len)?;
        let params = PoolParams {
            groups_x: grid.0,
            groups_y: grid.1,
            ..self.params(saved.x_dims, saved.y_dims)?
        };
        let dx = DeviceTensor::zeros(ctx, "max pool dx", saved.x_dims)?;
        ctx.scoped("running max_pool2d_bwd", || -> Result<()> {
            let mut rec = Recording::new(ctx, "max_pool2d_bwd");
            let named = [
                ("dy", dy.buffer()),
                ("argmax", &*saved.argmax),
                ("dx", dx.buffer()),
            ];
            let kernel = &ctx.kernels.max_pool_bwd;
            rec.dispatch(kernel, bytemuck::bytes_of(&params), &named, grid)?;
            rec.submit();
            Ok(())
        })??;
        Ok(dx)
    }
}
