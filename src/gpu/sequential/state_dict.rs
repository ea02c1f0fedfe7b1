//! The equivalent `torch.nn.Sequential`: its module indices, its code, and its state dict as
//! `.safetensors` bytes (PyTorch's names and shapes, so `load_state_dict(strict=True)` takes it).

use crate::error::{Error, Result};
use crate::gpu::optim::Parameters;
use crate::gpu::sequential::{Layer, Sequential};
use crate::gpu::tensor::DeviceTensor;
use crate::tensor::Tensor4;
use crate::weights::parse_safetensors;

/// The PyTorch modules a layer is, given the layer before it: a conv and its ReLU, a flatten
/// before a linear (unless a linear precedes it), the linear and its ReLU.
fn torch_modules(layer: &Layer, before: Option<&Layer>) -> Vec<String> {
    match layer {
        Layer::Conv2d(l) => {
            let c = l.config();
            let mut out = vec![conv_code(c)];
            if c.has_relu() {
                out.push("nn.ReLU()".into());
            }
            out
        }
        Layer::MaxPool2d(p) => vec![format!(
            "nn.MaxPool2d(kernel_size={:?}, stride={:?}{})",
            p.kernel,
            p.stride,
            if p.padding == (0, 0) {
                String::new()
            } else {
                format!(", padding={:?}", p.padding)
            }
        )],
        Layer::Linear(l) => {
            let mut out = Vec::new();
            if !matches!(before, Some(Layer::Linear(_))) {
                out.push("nn.Flatten()".into());
            }
            let bias = if l.bias().is_some() {
                ""
            } else {
                ", bias=False"
            };
            out.push(format!(
                "nn.Linear({}, {}{bias})",
                l.in_features(),
                l.out_features()
            ));
            if l.has_relu() {
                out.push("nn.ReLU()".into());
            }
            out
        }
    }
}

fn conv_code(c: &crate::gpu::Conv2dConfig) -> String {
    let o = &c.options;
    let mut args = format!(
        "nn.Conv2d({}, {}, kernel_size={:?}",
        c.in_channels, c.out_channels, c.kernel_size
    );
    if o.stride != (1, 1) {
        args += &format!(", stride={:?}", o.stride);
    }
    if o.padding != crate::shape::PaddingSpec::default() {
        args += &format!(", padding={:?}", o.padding);
    }
    if o.dilation != (1, 1) {
        args += &format!(", dilation={:?}", o.dilation);
    }
    if o.groups != 1 {
        args += &format!(", groups={}", o.groups);
    }
    if !o.bias {
        args += ", bias=False";
    }
    if o.padding_mode != crate::shape::PaddingMode::Zeros {
        args += &format!(
            ", padding_mode={:?}",
            format!("{:?}", o.padding_mode).to_lowercase()
        );
    }
    args + ")"
}

/// For each layer, the index in the equivalent `nn.Sequential` of its module with parameters
/// (the conv or linear itself, not its ReLU or flatten).
pub(super) fn module_indices(layers: &[Layer]) -> Vec<usize> {
    let mut next = 0;
    let mut out = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let modules = torch_modules(layer, i.checked_sub(1).map(|j| &layers[j]));
        let flatten = usize::from(modules.first().is_some_and(|m| m == "nn.Flatten()"));
        out.push(next + flatten);
        next += modules.len();
    }
    out
}

/// A parameter's shape in PyTorch's state dict: a linear's weight is (out, in), a bias (K).
fn torch_shape(name: &str, t: &DeviceTensor, linear: bool) -> Vec<usize> {
    let d = t.dims();
    match (name.ends_with(".bias"), linear) {
        (true, _) => vec![d[0]],
        (false, true) => vec![d[0], d[1]],
        (false, false) => d.to_vec(),
    }
}

impl Sequential {
    /// The equivalent `torch.nn.Sequential(...)`, as Python.
    pub fn torch_code(&self) -> String {
        let mut modules = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            modules.extend(torch_modules(
                layer,
                i.checked_sub(1).map(|j| &self.layers[j]),
            ));
        }
        format!("nn.Sequential({})", modules.join(", "))
    }

    /// (name, tensor, PyTorch's shape) of every parameter.
    fn state(&self) -> Vec<(String, &DeviceTensor, Vec<usize>)> {
        let linear: Vec<String> = self
            .layers
            .iter()
            .zip(module_indices(&self.layers))
            .filter(|(l, _)| matches!(l, Layer::Linear(_)))
            .map(|(_, i)| format!("{i}."))
            .collect();
        self.parameters()
            .into_iter()
            .map(|(name, t)| {
                let is_linear = linear.iter().any(|p| name.starts_with(p.as_str()));
                let shape = torch_shape(&name, t, is_linear);
                (name, t, shape)
            })
            .collect()
    }

    /// Every parameter as `.safetensors` bytes under the equivalent `nn.Sequential`'s names and
    /// shapes.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let mut host = Vec::new();
        for (name, t, shape) in self.state() {
            host.push((name, shape, t.download(&self.ctx)?.data));
        }
        let views = host
            .iter()
            .map(|(name, shape, data)| {
                safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F32,
                    shape.clone(),
                    bytemuck::cast_slice(data),
                )
                .map(|v| (name.as_str(), v))
                .map_err(|e| Error::Invalid(format!("cannot build a safetensors view: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        safetensors::serialize(views, None)
            .map_err(|e| Error::Invalid(format!("cannot write safetensors: {e}")))
    }

    /// Loads every parameter from `.safetensors` bytes as [`Sequential::to_safetensors`] or
    /// PyTorch writes them: each name present with its shape, and no other name (strict).
    /// Nothing is written unless all of them are right.
    pub fn load_safetensors(&mut self, bytes: &[u8]) -> Result<()> {
        let origin = "safetensors";
        let file = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| Error::Invalid(format!("{origin}: not a valid .safetensors file: {e}")))?;
        let state = self.state();
        let expected: Vec<&str> = state.iter().map(|(n, _, _)| n.as_str()).collect();
        if let Some(extra) = file.names().into_iter().find(|n| !expected.contains(n)) {
            return Err(Error::Invalid(format!(
                "{origin}: unexpected tensor {extra:?}; the network's are {expected:?}"
            )));
        }
        let mut loaded = Vec::with_capacity(state.len());
        for (name, t, shape) in &state {
            let a = parse_safetensors(bytes, name, origin)?;
            if a.shape != *shape {
                return Err(Error::Invalid(format!(
                    "{origin}: {name} has shape {:?}; {shape:?} expected",
                    a.shape
                )));
            }
            let host = Tensor4::new(name, t.dims(), a.data)?;
            host.ensure_finite(name)?;
            loaded.push((*t, host));
        }
        for (t, host) in loaded {
            t.write(&self.ctx, &host)?;
        }
        Ok(())
    }
}
