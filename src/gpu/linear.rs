//! `Linear`: a fully connected layer, y = x·Wᵀ + b, as `torch.nn.Linear(in, out)` after a
//! flatten, run on the convolution's kernels in one of two forms over the same weight buffer
//! (W (out, in) row-major is the weight (out, C, H, W) of a convolution whose kernel covers the
//! whole input map, and the weight (out, in, 1, 1) of a 1×1 convolution of the flattened input).
//! Measured on lavapipe (BENCHMARKS.md, 2026-12-01) for (64, 8, 10, 10) → 10: the forward is
//! fastest in the whole-map form (simple kernel), the backward in the 1×1 form with the tiled dW
//! and dX (a plain GEMM each); the whole-map backward was 5–60× slower (its dX scans the whole
//! window for the one tap that hits).

use crate::error::{Error, Result};
use crate::gpu::conv2d::{
    Activation, BackwardOptions, Conv2d, Conv2dConfig, Conv2dGrads, Conv2dSaved,
};
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
    /// The layer as a 1×1 convolution of (N, in, 1, 1): it owns the weight (out, in, 1, 1).
    flat: Conv2d,
}

/// What [`Linear::forward_train`] keeps: the whole-map convolution's.
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
            flat: Conv2d::new(ctx, config, seed)?,
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
            flat: Conv2d::from_weights(ctx, config, w, b)?,
        })
    }

    fn config(in_features: usize, out_features: usize, bias: bool) -> Result<Conv2dConfig> {
        let dim = |v: usize, what: &str| {
            u32::try_from(v).ok().filter(|&v| v > 0).ok_or_else(|| {
                Error::Invalid(format!("Linear: {what} {v} must be in 1 ..= 2³² − 1"))
            })
        };
        let (i, o) = (
            dim(in_features, "in_features")?,
            dim(out_features, "out_features")?,
        );
        Ok(Conv2dConfig::new(i, o, (1, 1))
            .with_bias(bias)
            .with_activation(Activation::None))
    }

    /// The same layer followed by a ReLU (`nn.Linear` then `nn.ReLU`).
    pub fn with_relu(self) -> Self {
        Linear {
            flat: self.flat.with_activation(Activation::Relu),
        }
    }

    pub fn in_features(&self) -> usize {
        self.flat.config().in_channels as usize
    }

    pub fn out_features(&self) -> usize {
        self.flat.config().out_channels as usize
    }

    /// Whether a ReLU follows it.
    pub fn has_relu(&self) -> bool {
        self.flat.config().has_relu()
    }

    /// The weight (out, in, 1, 1) on the device (PyTorch's (out, in), row-major).
    pub fn weight(&self) -> &DeviceTensor {
        self.flat.weight()
    }

    /// The bias (out, 1, 1, 1) on the device, if it has one.
    pub fn bias(&self) -> Option<&DeviceTensor> {
        self.flat.bias()
    }

    pub fn context(&self) -> &GpuContext {
        self.flat.context()
    }

    /// The layer as a 1×1 convolution of the flattened input (N, in, 1, 1).
    pub fn as_conv(&self) -> &Conv2d {
        &self.flat
    }

    /// The convolution whose kernel covers an input of `x_dims`, over the same weight buffer.
    pub fn whole_map_conv(&self, x_dims: [usize; 4]) -> Result<Conv2d> {
        let [_, c, h, w] = x_dims;
        if c.checked_mul(h).and_then(|v| v.checked_mul(w)) != Some(self.in_features()) {
            return Err(Error::Shape(crate::shape::ShapeError::Mismatch {
                what: "features of Linear's input (C·H·W of x)",
                expected: self.in_features().to_string(),
                got: format!("x of dims {x_dims:?}"),
            }));
        }
        // in = C·H·W < 2³² (checked at construction), so each factor fits u32.
        let flat = self.flat.config();
        let config = Conv2dConfig {
            in_channels: c as u32,
            kernel_size: (h as u32, w as u32),
            ..*flat
        };
        let weight = self.weight().share_as([self.out_features(), c, h, w]);
        let bias = self.bias().map(|b| b.share_as(b.dims()));
        Ok(Conv2d::of_parts(self.context(), config, weight, bias))
    }

    /// y (N, out, 1, 1) for x (N, C, H, W) with C·H·W = in.
    pub fn forward(&self, x: &DeviceTensor) -> Result<DeviceTensor> {
        self.whole_map_conv(x.dims())?.forward(x)
    }

    /// The forward of a training step, with what the backward needs.
    pub fn forward_train(&self, x: &DeviceTensor) -> Result<(DeviceTensor, LinearSaved)> {
        let (y, conv) = self.whole_map_conv(x.dims())?.forward_train(x)?;
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
        let [n, ..] = saved.x_dims;
        let flat_saved = saved.conv.flattened(n, self.in_features())?;
        // Measured where the context tunes (`gpu::tune`), else the linear layer's own rule.
        let options = match self.flat.context().tunes() {
            true => BackwardOptions {
                input_grad,
                ..Default::default()
            },
            false => BackwardOptions {
                input_grad,
                ..self.flat.context().linear_backward_rule(flat_saved.shape())
            },
        };
        let mut grads = self.flat.backward_with(&flat_saved, dy, options)?;
        if let Some(dx) = grads.input.take() {
            grads.input = Some(dx.reshape(saved.x_dims)?);
        }
        Ok(grads)
    }
}
