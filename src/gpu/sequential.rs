//! `Sequential`: layers in order, with a forward, a training forward that keeps what each
//! layer's backward needs, a backward in reverse order, named parameters, and load/save under
//! the names the equivalent `torch.nn.Sequential` gives them.

mod state_dict;

use crate::error::{Error, Result};
use crate::gpu::conv2d::{Conv2d, Conv2dGrads, Conv2dSaved};
use crate::gpu::linear::{Linear, LinearSaved};
use crate::gpu::optim::{Gradients, Parameters};
use crate::gpu::pool::{MaxPool2d, MaxPoolSaved};
use crate::gpu::tensor::DeviceTensor;
use crate::gpu::GpuContext;

/// One layer of a [`Sequential`].
#[derive(Debug)]
pub enum Layer {
    /// A convolution with its activation (conv + ReLU is two PyTorch modules).
    Conv2d(Conv2d),
    MaxPool2d(MaxPool2d),
    /// A fully connected layer; PyTorch's equivalent has an `nn.Flatten` before it unless the
    /// layer before is also a `Linear`.
    Linear(Linear),
}

impl From<Conv2d> for Layer {
    fn from(l: Conv2d) -> Self {
        Layer::Conv2d(l)
    }
}

impl From<MaxPool2d> for Layer {
    fn from(l: MaxPool2d) -> Self {
        Layer::MaxPool2d(l)
    }
}

impl From<Linear> for Layer {
    fn from(l: Linear) -> Self {
        Layer::Linear(l)
    }
}

/// What a layer's training forward kept.
#[derive(Debug)]
enum Saved {
    Conv2d(Conv2dSaved),
    MaxPool2d(MaxPoolSaved),
    Linear(LinearSaved),
}

/// Layers run in order on the device, as `torch.nn.Sequential`.
///
/// The state dict names follow the equivalent `nn.Sequential`, where a fused conv + ReLU is two
/// modules and a `Linear` after a non-linear layer has an `nn.Flatten` before it: conv (ReLU) →
/// max-pool → linear is `nn.Sequential(nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten,
/// nn.Linear)`, whose parameters are `0.weight`, `0.bias`, `4.weight`, `4.bias`
/// ([`Sequential::torch_code`] writes it out).
///
/// A training step, on mini-batches (a two-layer network learning to tell a bright top half
/// from a bright bottom half):
///
/// ```
/// use wgconv::{cross_entropy, AdapterRequest, Conv2d, Conv2dConfig, DeviceLabels, DeviceTensor};
/// use wgconv::{GpuContext, Linear, MaxPool2d, Sequential, Sgd, SgdOptimizer, Tensor4};
/// # fn main() -> Result<(), wgconv::Error> {
/// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
/// let mut net = Sequential::new(&ctx)
///     .push(Conv2d::new(&ctx, Conv2dConfig::new(1, 4, (3, 3)), 0)?) // 8×8 → 4 maps 6×6, ReLU
///     .push(MaxPool2d::new(2, 2))                                  // → 3×3
///     .push(Linear::new(&ctx, 4 * 3 * 3, 2, 1)?);                  // → 2 logits
/// assert_eq!(net.torch_code(), "nn.Sequential(nn.Conv2d(1, 4, kernel_size=(3, 3)), nn.ReLU(), \
///     nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2)), nn.Flatten(), nn.Linear(36, 2))");
/// let mut sgd = SgdOptimizer::new(Sgd { momentum: 0.9, ..Sgd::new(0.05) });
/// let mut losses = Vec::new();
/// for step in 0..30u32 {
///     // A batch of 8 images: label 1 where the bottom half is the bright one.
///     let labels: Vec<u32> = (0..8).map(|i| (i + step) % 2).collect();
///     let mut x = vec![0.0f32; 8 * 64];
///     for (n, &l) in labels.iter().enumerate() {
///         for p in 0..64 {
///             let bright = (p / 32) as u32 == l;
///             x[n * 64 + p] = if bright { 1.0 } else { 0.1 * ((n + p) % 3) as f32 };
///         }
///     }
///     let x = DeviceTensor::upload(&ctx, "x", &Tensor4::new("x", [8, 1, 8, 8], x)?)?;
///     let labels = DeviceLabels::upload(&ctx, &labels, 2)?;
///     let logits = net.forward_train(&x)?;
///     let (loss, dlogits) = cross_entropy(&ctx, &logits, &labels)?;
///     let grads = net.backward(&dlogits)?;
///     sgd.step(&mut net, &grads)?;
///     losses.push(loss.download(&ctx)?.data[0]);
/// }
/// assert!(losses[29] < 0.5 * losses[0], "{losses:?}");
/// let bytes = net.to_safetensors()?; // loads into the nn.Sequential above with strict=True
/// # let _ = bytes;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Sequential {
    ctx: GpuContext,
    layers: Vec<Layer>,
    saved: Vec<Saved>,
}

impl Sequential {
    /// No layers yet.
    pub fn new(ctx: &GpuContext) -> Self {
        Sequential {
            ctx: ctx.clone(),
            layers: Vec::new(),
            saved: Vec::new(),
        }
    }

    /// Appends a layer. Its context is checked against the network's at the first forward.
    pub fn push(mut self, layer: impl Into<Layer>) -> Self {
        self.layers.push(layer.into());
        self
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    fn check_contexts(&self) -> Result<()> {
        for (i, layer) in self.layers.iter().enumerate() {
            let ctx = match layer {
                Layer::Conv2d(l) => l.context(),
                Layer::Linear(l) => l.context(),
                Layer::MaxPool2d(_) => continue,
            };
            if !ctx.same_as(&self.ctx) {
                return Err(Error::WrongContext {
                    what: format!("layer {i} of the Sequential"),
                });
            }
        }
        Ok(())
    }

    /// The output of every layer in turn, for x on the network's context.
    pub fn forward(&self, x: &DeviceTensor) -> Result<DeviceTensor> {
        self.check_contexts()?;
        x.ensure_on(&self.ctx, "the input of Sequential::forward")?;
        let mut y = x.share_as(x.dims());
        for layer in &self.layers {
            y = match layer {
                Layer::Conv2d(l) => l.forward(&y)?,
                Layer::MaxPool2d(l) => l.forward(&y)?,
                Layer::Linear(l) => l.forward(&y)?,
            };
        }
        Ok(y)
    }

    /// [`Sequential::forward`], keeping what [`Sequential::backward`] needs (replacing what an
    /// earlier training forward kept).
    pub fn forward_train(&mut self, x: &DeviceTensor) -> Result<DeviceTensor> {
        self.check_contexts()?;
        x.ensure_on(&self.ctx, "the input of Sequential::forward_train")?;
        self.saved.clear();
        let mut y = x.share_as(x.dims());
        for layer in &self.layers {
            let saved;
            (y, saved) = match layer {
                Layer::Conv2d(l) => l.forward_train(&y).map(|(y, s)| (y, Saved::Conv2d(s)))?,
                Layer::MaxPool2d(l) => {
                    l.forward_train(&y).map(|(y, s)| (y, Saved::MaxPool2d(s)))?
                }
                Layer::Linear(l) => l.forward_train(&y).map(|(y, s)| (y, Saved::Linear(s)))?,
            };
            self.saved.push(saved);
        }
        Ok(y)
    }

    /// The gradient of every parameter from dy = dL/d(output) of the last training forward,
    /// by the parameters' names; the layers' backwards run in reverse order, each passing dX
    /// to the one before (the first layer computes none). Gradients are overwritten, never
    /// accumulated.
    pub fn backward(&mut self, dy: &DeviceTensor) -> Result<Gradients> {
        if self.saved.len() != self.layers.len() || self.layers.is_empty() {
            return Err(Error::Invalid(
                "Sequential::backward needs a forward_train first".into(),
            ));
        }
        let names = state_dict::module_indices(&self.layers);
        let mut grads = Gradients::new();
        let mut upstream = dy.share_as(dy.dims());
        for (i, (layer, saved)) in self.layers.iter().zip(&self.saved).enumerate().rev() {
            let want_dx = i > 0;
            let into = |g: Conv2dGrads, grads: &mut Gradients| {
                grads.insert(format!("{}.weight", names[i]), g.weight);
                if let Some(b) = g.bias {
                    grads.insert(format!("{}.bias", names[i]), b);
                }
                g.input
            };
            let dx = match (layer, saved) {
                (Layer::Conv2d(l), Saved::Conv2d(s)) => {
                    into(l.backward(s, &upstream, want_dx)?, &mut grads)
                }
                (Layer::Linear(l), Saved::Linear(s)) => {
                    into(l.backward(s, &upstream, want_dx)?, &mut grads)
                }
                (Layer::MaxPool2d(l), Saved::MaxPool2d(s)) => Some(l.backward(s, &upstream)?),
                _ => {
                    return Err(Error::Internal {
                        stage: "Sequential::backward",
                        message: "a saved forward of another layer".into(),
                    })
                }
            };
            match dx {
                Some(dx) => upstream = dx,
                None => break,
            }
        }
        // Names were pushed last layer first; keep the parameters' order.
        let mut ordered = Gradients::new();
        for (name, _) in self.parameters() {
            if let Some(g) = grads.get(&name) {
                ordered.insert(name.clone(), g.share_as(g.dims()));
            }
        }
        Ok(ordered)
    }
}

impl Parameters for Sequential {
    fn parameters(&self) -> Vec<(String, &DeviceTensor)> {
        let names = state_dict::module_indices(&self.layers);
        let mut out = Vec::new();
        for (layer, index) in self.layers.iter().zip(names) {
            let (w, b) = match layer {
                Layer::Conv2d(l) => (l.weight(), l.bias()),
                Layer::Linear(l) => (l.weight(), l.bias()),
                Layer::MaxPool2d(_) => continue,
            };
            out.push((format!("{index}.weight"), w));
            out.extend(b.map(|b| (format!("{index}.bias"), b)));
        }
        out
    }
}

impl Parameters for Conv2d {
    fn parameters(&self) -> Vec<(String, &DeviceTensor)> {
        let mut out = vec![("weight".to_string(), self.weight())];
        out.extend(self.bias().map(|b| ("bias".to_string(), b)));
        out
    }
}

impl Parameters for Linear {
    fn parameters(&self) -> Vec<(String, &DeviceTensor)> {
        self.as_conv().parameters()
    }
}
