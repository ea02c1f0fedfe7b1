//! The one-call forward, host tensors in and out: `GpuContext::conv2d_bias_relu_fwd`.

use crate::error::Result;
use crate::gpu::conv2d::{Conv2d, Conv2dConfig, ForwardOptions};
use crate::gpu::forward::check_forward_inputs;
use crate::gpu::kernel::KernelVersion;
use crate::gpu::tensor::DeviceTensor;
use crate::gpu::versions::forward_version_for;
use crate::gpu::GpuContext;
use crate::shape::ConvShape;
use crate::tensor::Tensor4;

/// What [`GpuContext::conv2d_bias_relu_fwd`] returns: y and z back on the host.
#[derive(Debug, Clone)]
pub struct ForwardOutput {
    /// y = max(0, z), (N, K, P, Q).
    pub y: Tensor4,
    /// The pre-activation z, when it was asked for.
    pub z: Option<Tensor4>,
    /// How many batch chunks the work was split into.
    pub chunks: usize,
}

impl GpuContext {
    /// One forward pass from host tensors to host tensors: uploads w (K, C/G, R, S), b (K, or
    /// empty for a shape without bias) and
    /// x (N, C, H, W), runs a [`Conv2d`] and reads y (and z when `want_z`) back. For repeated
    /// passes build the [`Conv2d`] once instead.
    ///
    /// ```no_run
    /// use wgconv::{AdapterRequest, ConvShape, GpuContext, Tensor4};
    /// # fn main() -> Result<(), wgconv::Error> {
    /// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
    /// let shape = ConvShape::SEED; // 24×24 image, two 5×5 filters
    /// let x = Tensor4::new("x", [1, 1, 24, 24], vec![0.5; 576])?;
    /// let w = Tensor4::new("w", [2, 1, 5, 5], vec![0.04; 50])?;
    /// let out = ctx.conv2d_bias_relu_fwd(&shape, &x, &w, &[0.0, -1.0], false)?;
    /// assert_eq!(out.y.dims, [1, 2, 20, 20]);
    /// # Ok(()) }
    /// ```
    pub fn conv2d_bias_relu_fwd(
        &self,
        shape: &ConvShape,
        x: &Tensor4,
        w: &Tensor4,
        b: &[f32],
        want_z: bool,
    ) -> Result<ForwardOutput> {
        self.conv2d_bias_relu_fwd_with(forward_version_for(shape), shape, x, w, b, want_z)
    }

    /// [`GpuContext::conv2d_bias_relu_fwd`] with a chosen kernel version.
    pub fn conv2d_bias_relu_fwd_with(
        &self,
        version: KernelVersion,
        shape: &ConvShape,
        x: &Tensor4,
        w: &Tensor4,
        b: &[f32],
        want_z: bool,
    ) -> Result<ForwardOutput> {
        check_forward_inputs(shape, x, w, b)?;
        let bias = shape.bias.then_some(b);
        let layer = Conv2d::from_weights(self, Conv2dConfig::of_shape(shape), w, bias)?;
        let x = DeviceTensor::upload(self, "x", x)?;
        let options = ForwardOptions {
            want_z,
            kernel: Some(version),
        };
        let out = layer.forward_with(&x, options)?;
        let z = match &out.z {
            Some(z) => Some(z.download(self)?),
            None => None,
        };
        Ok(ForwardOutput {
            y: out.y.download(self)?,
            z,
            chunks: out.chunks,
        })
    }
}
