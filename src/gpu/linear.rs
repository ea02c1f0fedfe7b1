//! `Linear`: a fully connected layer, y = x·Wᵀ + b, as `torch.nn.Linear(in, out)` after a
//! flatten. It runs as a 1×1 convolution of the flattened input (N, in, 1, 1): the same
//! kernels, simple and tiled (the tiled one is then a plain GEMM), and the same backward.

use crate::error::{Error, Result};
use crate::gpu::conv2d::{Activation, Conv2d, Conv2dConfig, Conv2dGrads, Conv2dSaved};
use crate::gpu::tensor::DeviceTensor;
use crate::gpu::GpuContext;
use crate::tensor::Tensor4;

/// `nn.Linear(in_features, out_features)` with its weight (out, in) and bias (out) on the
/// device. Any input (N, C, H, W) with C·H·W = in is taken as flattened (`nn.Flatten`);
/// the output is (N, out, 1, 1).
///
/// ```
/// use wgconv::{AdapterRequest, DeviceTensor, GpuContext, Linear, Tensor4};
/// # fn main() -> Result<(), wgconv::Error> {
/// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
/// // y = W·x + b with W = [[1, 2, 3], [0, 0, 1]], b = [0.5, 0].
/// let w = Tensor4::new("w", [2, 3, 1, 1], vec![1., 2., 3., 0., 0., 1.])?;
/// let fc = Linear::from_weights(&ctx, &w, Some(&[0.5, 0.]))?;
/// let x = DeviceTensor::upload(&ctx, "x", &Tensor4::new("x", [1, 3, 1, 1], vec![1., 1., 2.])?)?;
/// assert_eq!(fc.forward(&x)?.download(&ctx)?.data, [9.5, 2.]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Linear {
    conv: Conv2d,
}

/// What [`Linear::forward_train`] keeps: the 1×1 convolution's, and the input's own dims.
#[derive(Debug)]
pub struct LinearSaved {
    conv: Conv2dSaved,
    x_dims: [usize; 4],
}

impl Linear {
    /// A layer initialised as PyTorch's default: weight and bias uniform in ±1/√in (seeded).
    pub fn new(
        ctx: &GpuContext,
        in_features: usize,
        out_features: usize,
        seed: u64,
    ) -> Result<Self> {
        let config = Self::config(in_features, out_features, true)?;
        Ok(Linear {
            conv: Conv2d::new(ctx, config, seed)?,
        })
    }

    /// A layer holding `w` (out, in, 1, 1) and `b` (out), or no bias.
    pub fn from_weights(ctx: &GpuContext, w: &Tensor4, b: Option<&[f32]>) -> Result<Self> {
        let [out, inp, h, wd] = w.dims;
        if h != 1 || wd != 1 {
            return Err(Error::Invalid(format!(
                "Linear weights are (out, in, 1, 1); got {:?}",
                w.dims
            )));
        }
        let config = Self::config(inp, out, b.is_some())?;
        Ok(Linear {
            conv: Conv2d::from_weights(ctx, config, w, b)?,
        })
    }

    fn config(in_features: usize, out_features: usize, bias: bool) -> Result<Conv2dConfig> {
        let dim = |v: usize, what: &str| {
            u32::try_from(v).ok().filter(|&v| v > 0).ok_or_else(|| {
                Error::Invalid(format!("Linear: {what} {v} must be in 1 ..= 2³² − 1"))
            })
        };
        Ok(Conv2dConfig::new(
            dim(in_features, "in_features")?,
            dim(out_features, "out_features")?,
            (1, 1),
        )
        .with_bias(bias)
        .with_activation(Activation::None))
    }

    /// The same layer followed by a ReLU (`nn.Linear` then `nn.ReLU`).
    pub fn with_relu(self) -> Self {
        Linear {
            conv: self.conv.with_activation(Activation::Relu),
        }
    }

    pub fn in_features(&self) -> usize {
        self.conv.config().in_channels as usize
    }

    pub fn out_features(&self) -> usize {
        self.conv.config().out_channels as usize
    }

    /// Whether a ReLU follows it.
    pub fn has_relu(&self) -> bool {
        self.conv.config().has_relu()
    }

    /// The weight (out, in, 1, 1) on the device (PyTorch's (out, in), row-major).
    pub fn weight(&self) -> &DeviceTensor {
        self.conv.weight()
    }

    /// The bias (out, 1, 1, 1) on the device, if it has one.
    pub fn bias(&self) -> Option<&DeviceTensor> {
        self.conv.bias()
    }

    pub fn context(&self) -> &GpuContext {
        self.conv.context()
    }

    /// The 1×1 convolution it runs as.
    pub fn as_conv(&self) -> &Conv2d {
        &self.conv
    }

    fn flat(&self, x: &DeviceTensor) -> Result<DeviceTensor> {
        let [n, c, h, w] = x.dims();
        if c * h * w != self.in_features() {
            return Err(Error::Shape(crate::shape::ShapeError::Mismatch {
                what: "features of Linear's input (C·H·W of x)",
                expected: self.in_features().to_string(),
                got: format!("{} (x is {:?})", c * h * w, x.dims()),
            }));
        }
        x.reshape([n, c * h * w, 1, 1])
    }

    /// y (N, out, 1, 1) for x (N, C, H, W) with C·H·W = in.
    pub fn forward(&self, x: &DeviceTensor) -> Result<DeviceTensor> {
        self.conv.forward(&self.flat(x)?)
    }

    /// The forward of a training step, with what the backward needs.
    pub fn forward_train(&self, x: &DeviceTensor) -> Result<(DeviceTensor, LinearSaved)> {
        let (y, conv) = self.conv.forward_train(&self.flat(x)?)?;
        let saved = LinearSaved {
            conv,
            x_dims: x.dims(),
        };
        Ok((y, saved))
    }

    /// dL/dW (out, in, 1, 1), dL/db and, with `input_grad`, dL/dx in x's own dims, from
    /// dy (N, out, 1, 1). New tensors (overwritten, not accumulated).
    pub fn backward(
        &self,
        saved: &LinearSaved,
        dy: &DeviceTensor,
        input_grad: bool,
    ) -> Result<Conv2dGrads> {
        let mut grads = self.conv.backward(&saved.conv, dy, input_grad)?;
        if let Some(dx) = grads.input.take() {
            grads.input = Some(dx.reshape(saved.x_dims)?);
        }
        Ok(grads)
    }
}
