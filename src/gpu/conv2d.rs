//! `Conv2d`: a convolution layer (conv + bias + ReLU) whose weights and bias live on the
//! device, like `torch.nn.Conv2d` followed by `ReLU`.

use crate::error::{Error, Result};
use crate::gpu::forward::{check_forward_inputs, images_per_dispatch, ForwardPlan};
use crate::gpu::kernel::KernelVersion;
use crate::gpu::memory::STORAGE;
use crate::gpu::op_timer::record_pass;
use crate::gpu::tensor::DeviceTensor;
use crate::gpu::tune::TunedPass;
use crate::gpu::GpuContext;
use crate::shape::ConvShape;
use crate::tensor::Tensor4;

mod backward;
mod config;
mod host;
pub(crate) mod input_grad;

pub(crate) use backward::check_training_bindings;
pub use backward::{BackwardOptions, Conv2dGrads, Conv2dSaved};
pub use config::{Activation, Conv2dConfig};
pub use host::ForwardOutput;
pub(crate) use input_grad::bwd_input_params;

/// What [`Conv2d::forward_with`] may be asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardOptions {
    /// Also keep the pre-activation z = conv(x, w) + b.
    pub want_z: bool,
    /// The kernel version; None lets the crate pick.
    pub kernel: Option<KernelVersion>,
}

/// y = ReLU(z) and, when asked for, z; both (N, K, P, Q) on the device.
#[derive(Debug)]
pub struct Conv2dOutput {
    pub y: DeviceTensor,
    pub z: Option<DeviceTensor>,
    /// Batch chunks the work was split into (1 unless a tensor exceeded the binding limit).
    pub chunks: usize,
}

/// A convolution layer with its weights (K, C, R, S) and bias (K) on the device, followed by
/// its activation (ReLU unless configured otherwise). It holds a clone of its context.
///
/// ```
/// use wgconv::{AdapterRequest, Conv2d, Conv2dConfig, DeviceTensor, GpuContext, Tensor4};
/// # fn main() -> Result<(), wgconv::Error> {
/// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
/// // One 2×2 filter summing its window, bias −1: y = ReLU(Σ x − 1).
/// let w = Tensor4::new("w", [1, 1, 2, 2], vec![1.0; 4])?;
/// let layer = Conv2d::from_weights(&ctx, Conv2dConfig::new(1, 1, (2, 2)), &w, Some(&[-1.0]))?;
/// let x = Tensor4::new("x", [1, 1, 2, 3], vec![0., 1., 0., 0., 0., -2.])?;
/// let (y, saved) = layer.forward_train(&DeviceTensor::upload(&ctx, "x", &x)?)?;
/// assert_eq!(y.download(&ctx)?.data, [0.0, 0.0]); // Σ = 1 and −1: both cut by the ReLU
/// // Backward for an upstream gradient: nothing passes a cut ReLU.
/// let dy = DeviceTensor::upload(&ctx, "dy", &Tensor4::new("dy", [1, 1, 1, 2], vec![1.0, 1.0])?)?;
/// let grads = layer.backward(&saved, &dy, true)?;
/// assert_eq!(grads.weight.download(&ctx)?.data, [0.0; 4]);
/// # Ok(()) }
/// ```
pub struct Conv2d {
    ctx: GpuContext,
    config: Conv2dConfig,
    weight: DeviceTensor,
    /// None for a layer without bias: its kernels bind none.
    bias: Option<DeviceTensor>,
}

impl std::fmt::Debug for Conv2d {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conv2d")
            .field("config", &self.config)
            .field("adapter", &self.ctx.adapter().name)
            .finish_non_exhaustive()
    }
}

impl Conv2d {
    /// A layer initialised as PyTorch does by default, from a seeded generator: weights and
    /// bias uniform in ±1/√(C·R·S).
    pub fn new(ctx: &GpuContext, config: Conv2dConfig, seed: u64) -> Result<Self> {
        let [k, c, r, s] = config.weight_dims();
        let shape = config.smallest_shape()?;
        // The weights are drawn on the host first: refuse what the device cannot hold before.
        let what = || format!("the weights (K, C, R, S) = ({k}, {c}, {r}, {s})");
        let (max, limit) = ctx.binding_limit();
        let needed = shape.weight_len() * 4;
        if needed > max {
            return Err(Error::LimitExceeded {
                what: what(),
                limit,
                needed,
                max,
            });
        }
        crate::limits::ensure_host_fits(what, Some(needed))?;
        let w = crate::init::random_filters(k, c, r, s, seed);
        let b = crate::init::random_bias(k, c * r * s, seed);
        Self::from_weights(ctx, config, &w, config.options.bias.then_some(&b[..]))
    }

    /// A layer holding `w` (K, C, R, S) and `b` (K), which must match `config` (and be None
    /// exactly when the config has no bias) and be finite.
    pub fn from_weights(
        ctx: &GpuContext,
        config: Conv2dConfig,
        w: &Tensor4,
        b: Option<&[f32]>,
    ) -> Result<Self> {
        let k = config.weight_dims()[0];
        let shape = config.smallest_shape()?;
        match (config.options.bias, b) {
            (true, Some(_)) | (false, None) => {}
            (has, _) => {
                return Err(Error::Invalid(format!(
                    "the layer is configured {} bias but {} was given",
                    if has { "with" } else { "without" },
                    if has { "none" } else { "one" }
                )))
            }
        };
        let x_dims = [shape.n, shape.c, shape.h, shape.w].map(|d| d as usize);
        check_forward_inputs(&shape, &Tensor4::zeros(x_dims), w, b.unwrap_or(&[]))?;
        // The weights are padded to 16 bytes on the device: the tiled kernel reads vec4.
        let weight = DeviceTensor::upload(ctx, "w", w)?;
        let bias = match b {
            Some(b) => Some(DeviceTensor::upload(
                ctx,
                "b",
                &Tensor4::new("b", [k, 1, 1, 1], b.to_vec())?,
            )?),
            None => None,
        };
        Ok(Conv2d {
            ctx: ctx.clone(),
            config,
            weight,
            bias,
        })
    }

    /// A layer of `config` over weights and bias already on the device (shared, not copied),
    /// whose dims the caller matched to the config.
    pub(crate) fn of_parts(
        ctx: &GpuContext,
        config: Conv2dConfig,
        weight: DeviceTensor,
        bias: Option<DeviceTensor>,
    ) -> Self {
        Conv2d {
            ctx: ctx.clone(),
            config,
            weight,
            bias,
        }
    }

    /// The same layer (the same weights on the device) followed by `activation`.
    pub fn with_activation(mut self, activation: super::conv2d::Activation) -> Self {
        self.config.activation = activation;
        self
    }

    pub fn config(&self) -> &Conv2dConfig {
        &self.config
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// The weights (K, C, R, S) on the device.
    pub fn weight(&self) -> &DeviceTensor {
        &self.weight
    }

    /// The bias (K, 1, 1, 1) on the device, if the layer has one.
    pub fn bias(&self) -> Option<&DeviceTensor> {
        self.bias.as_ref()
    }

    /// The bias buffer the kernels read, if the layer has one.
    pub(crate) fn bias_buffer(&self) -> Option<&wgpu::Buffer> {
        self.bias.as_ref().map(DeviceTensor::buffer)
    }

    /// Copies the weights and bias back to the host.
    pub fn read_weights(&self) -> Result<(Tensor4, Option<Vec<f32>>)> {
        let w = self.weight.download(&self.ctx)?;
        let b = match self.bias() {
            Some(b) => Some(b.download(&self.ctx)?.data),
            None => None,
        };
        Ok((w, b))
    }

    /// The layer as `.safetensors` bytes under PyTorch's names: `weight` (K, C, R, S) and, when
    /// it has one, `bias` (K), as `torch.nn.Conv2d.state_dict()` names them.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let (w, b) = self.read_weights()?;
        crate::weights::safetensors_bytes(&w, b.as_deref())
    }

    /// A layer of `config` from `.safetensors` bytes holding `weight` and (exactly when the
    /// config has a bias) `bias`, as [`Conv2d::to_safetensors`] or PyTorch writes them.
    pub fn from_safetensors(ctx: &GpuContext, config: Conv2dConfig, bytes: &[u8]) -> Result<Self> {
        use crate::weights::{has_tensor, parse_safetensors};
        let origin = "safetensors";
        let weight = parse_safetensors(bytes, "weight", origin)?;
        let dims = <[usize; 4]>::try_from(weight.shape.as_slice()).map_err(|_| {
            Error::Invalid(format!(
                "{origin}: weight has shape {:?}; (K, C, R, S) expected",
                weight.shape
            ))
        })?;
        let w = Tensor4::new("weight", dims, weight.data)?;
        let bias = match (config.options.bias, has_tensor(bytes, "bias")) {
            (true, _) => {
                let b = parse_safetensors(bytes, "bias", origin)?;
                if b.shape.len() != 1 {
                    return Err(Error::Invalid(format!(
                        "{origin}: bias has shape {:?}; (K) expected",
                        b.shape
                    )));
                }
                Some(b.data)
            }
            (false, true) => {
                return Err(Error::Invalid(format!(
                    "{origin}: holds a bias, but the layer is configured without bias"
                )))
            }
            (false, false) => None,
        };
        Self::from_weights(ctx, config, &w, bias.as_deref())
    }

    /// y = ReLU(conv(x, w) + b) for x (N, C, H, W), on the device (y = z without activation).
    /// NaN in x or the weights comes out as NaN, as in PyTorch.
    pub fn forward(&self, x: &DeviceTensor) -> Result<DeviceTensor> {
        Ok(self.forward_with(x, ForwardOptions::default())?.y)
    }

    /// [`Conv2d::forward`] with z on request and a chosen kernel version. A batch whose tensors
    /// exceed the binding limit runs in chunks of whole images.
    pub fn forward_with(&self, x: &DeviceTensor, options: ForwardOptions) -> Result<Conv2dOutput> {
        let shape = self.config.shape_for(x.dims())?;
        x.ensure_on(&self.ctx, "the input x of Conv2d::forward")?;
        let version = match options.kernel {
            Some(v) => v,
            None => self.ctx.tuned(
                (
                    TunedPass::Forward,
                    &shape,
                    if options.want_z { "z" } else { "" },
                ),
                self.ctx.forward_rule(&shape),
                |v| {
                    let kernel = Some(v);
                    self.forward_with(x, ForwardOptions { kernel, ..options })
                        .map(|_| ())
                },
            )?,
        };
        let per_chunk = images_per_dispatch(&self.ctx, &shape, version)?;
        let out_dims = [shape.n, shape.k, shape.p(), shape.q()].map(|d| d as usize);
        let y = DeviceTensor::zeros(&self.ctx, "y", out_dims)?;
        let z = match options.want_z {
            true => Some(DeviceTensor::zeros(&self.ctx, "z", out_dims)?),
            false => None,
        };
        let chunks = if per_chunk >= shape.n {
            self.run_whole(&shape, version, x, &y, z.as_ref())?;
            1
        } else {
            self.run_chunked(&shape, version, per_chunk, x, &y, z.as_ref())?
        };
        Ok(Conv2dOutput { y, z, chunks })
    }

    fn run_whole(
        &self,
        shape: &ConvShape,
        version: KernelVersion,
        x: &DeviceTensor,
        y: &DeviceTensor,
        z: Option<&DeviceTensor>,
    ) -> Result<()> {
        let ctx = &self.ctx;
        ctx.scoped("running conv2d_bias_relu_fwd", || {
            let plan =
                ForwardPlan::new(ctx, shape, version, (z.is_some(), self.config.has_relu()))?;
            // Unwritten without z, but a buffer of its own: WebGPU refuses one buffer bound
            // twice for writing.
            let unused;
            let z = match z {
                Some(z) => z.buffer(),
                None => {
                    unused = ctx.buffer("z (unused)", 4, STORAGE);
                    &*unused
                }
            };
            let bind = plan.bind(
                ctx,
                [x.buffer(), self.weight.buffer(), y.buffer(), z],
                self.bias_buffer(),
            )?;
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            record_pass(ctx, &mut encoder, "conv2d_bias_relu_fwd", |pass| {
                plan.record(ctx, pass, &bind)
            })?;
            ctx.queue.submit([encoder.finish()]);
            Ok(())
        })?
    }

    /// Runs `per_chunk` images at a time through scratch buffers within the binding limit,
    /// copying each chunk in and its outputs out, all in one submission.
    fn run_chunked(
        &self,
        shape: &ConvShape,
        version: KernelVersion,
        per_chunk: u32,
        x: &DeviceTensor,
        y: &DeviceTensor,
        z: Option<&DeviceTensor>,
    ) -> Result<usize> {
        let ctx = &self.ctx;
        let image_in = u64::from(shape.c) * u64::from(shape.h) * u64::from(shape.w) * 4;
        let image_out = u64::from(shape.k) * u64::from(shape.p()) * u64::from(shape.q()) * 4;
        let chunk_in = u64::from(per_chunk) * image_in;
        let chunk_out = u64::from(per_chunk) * image_out;
        let relu = self.config.has_relu();
        ctx.scoped("running conv2d_bias_relu_fwd in batch chunks", || {
            let xs = ctx.buffer("x chunk", chunk_in, STORAGE);
            let ys = ctx.buffer("y chunk", chunk_out, STORAGE);
            let zs = ctx.buffer("z chunk", if z.is_some() { chunk_out } else { 4 }, STORAGE);
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            let mut chunks = 0;
            let mut start = 0u32;
            while start < shape.n {
                let n = per_chunk.min(shape.n - start);
                let part = shape.with_batch(n)?;
                let plan = ForwardPlan::new(ctx, &part, version, (z.is_some(), relu))?;
                let bind = plan.bind(
                    ctx,
                    [&xs, self.weight.buffer(), &ys, &zs],
                    self.bias_buffer(),
                )?;
                let (bytes_in, bytes_out) = (u64::from(n) * image_in, u64::from(n) * image_out);
                let (at_in, at_out) = (u64::from(start) * image_in, u64::from(start) * image_out);
                encoder.copy_buffer_to_buffer(x.buffer(), at_in, &xs, 0, bytes_in);
                record_pass(ctx, &mut encoder, "conv2d_bias_relu_fwd", |pass| {
                    plan.record(ctx, pass, &bind)
                })?;
                encoder.copy_buffer_to_buffer(&ys, 0, y.buffer(), at_out, bytes_out);
                if let Some(z) = z {
                    encoder.copy_buffer_to_buffer(&zs, 0, z.buffer(), at_out, bytes_out);
                }
                chunks += 1;
                start += n;
            }
            ctx.queue.submit([encoder.finish()]);
            Ok(chunks)
        })?
    }
}
