//! An optimiser over any parameters: SGD as `torch.optim.SGD` (momentum, Nesterov, weight
//! decay), its momentum buffers on the device, kept across steps and batches.

use crate::error::{Error, Result};
use crate::gpu::launch::{count, elementwise_grid, Recording};
use crate::gpu::params::SgdParams;
use crate::gpu::tensor::DeviceTensor;
use crate::sgd::Sgd;

/// Named parameters of a model, in a fixed order: what an optimiser updates.
pub trait Parameters {
    /// (name, tensor) of every parameter, the names as PyTorch's `state_dict()` has them.
    fn parameters(&self) -> Vec<(String, &DeviceTensor)>;
}

/// Gradients by parameter name, as a backward returns them.
#[derive(Debug, Default)]
pub struct Gradients {
    grads: Vec<(String, DeviceTensor)>,
}

impl Gradients {
    pub fn new() -> Self {
        Gradients::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, grad: DeviceTensor) {
        let name = name.into();
        self.grads.retain(|(n, _)| *n != name);
        self.grads.push((name, grad));
    }

    /// The gradient of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&DeviceTensor> {
        self.grads.iter().find(|(n, _)| n == name).map(|(_, g)| g)
    }

    /// (name, gradient) in the order they were inserted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &DeviceTensor)> {
        self.grads.iter().map(|(n, g)| (n.as_str(), g))
    }

    pub fn len(&self) -> usize {
        self.grads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }
}

/// SGD over named parameters; one momentum buffer per name, made at its first step (zeros, so
/// the first step's buffer is the gradient, as PyTorch's).
#[derive(Debug)]
pub struct SgdOptimizer {
    sgd: Sgd,
    momentum: Vec<(String, DeviceTensor)>,
    steps: u64,
}

impl SgdOptimizer {
    pub fn new(sgd: Sgd) -> Self {
        SgdOptimizer {
            sgd,
            momentum: Vec::new(),
            steps: 0,
        }
    }

    pub fn settings(&self) -> &Sgd {
        &self.sgd
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The momentum buffer of parameter `name`, once it has one.
    pub fn momentum(&self, name: &str) -> Option<&DeviceTensor> {
        self.momentum
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m)
    }

    /// One update of every parameter of `model` by its gradient in `grads` (each must have
    /// one, of its dims), recorded in one submission.
    pub fn step(&mut self, model: &mut impl Parameters, grads: &Gradients) -> Result<()> {
        self.sgd.validate()?;
        let params = model.parameters();
        let Some((_, first)) = params.first() else {
            return Ok(());
        };
        let ctx = first.context().clone();
        let mut pairs = Vec::with_capacity(params.len());
        for (name, param) in &params {
            let grad = grads.get(name).ok_or_else(|| {
                Error::Invalid(format!("SgdOptimizer::step: no gradient for {name}"))
            })?;
            check_pair(name, param, grad)?;
            self.ensure_momentum(name, param)?;
            pairs.push((name.as_str(), *param, grad));
        }
        ctx.scoped("running the SGD step", || -> Result<()> {
            let mut rec = Recording::new(&ctx, "sgd step");
            for (name, param, grad) in &pairs {
                let momentum = self.momentum(name).ok_or_else(|| Error::Internal {
                    stage: "running the SGD step",
                    message: format!("no momentum buffer for {name}"),
                })?;
                self.record(&mut rec, param, grad, momentum)?;
            }
            rec.submit();
            Ok(())
        })??;
        self.steps += 1;
        Ok(())
    }

    fn ensure_momentum(&mut self, name: &str, param: &DeviceTensor) -> Result<()> {
        if self.momentum(name).is_none() {
            let buf = DeviceTensor::zeros(param.context(), "momentum", param.dims())?;
            self.momentum.push((name.to_string(), buf));
        }
        Ok(())
    }

    fn record(
        &self,
        rec: &mut Recording<'_>,
        param: &DeviceTensor,
        grad: &DeviceTensor,
        momentum: &DeviceTensor,
    ) -> Result<()> {
        let ctx = param.context();
        let grid = elementwise_grid(ctx, param.len() as u64)?;
        let params = SgdParams {
            len: count("SGD parameters", param.len() as u64)?,
            nesterov: u32::from(self.sgd.nesterov),
            lr: self.sgd.lr,
            momentum: self.sgd.momentum,
            weight_decay: self.sgd.weight_decay,
            groups_x: grid.0,
            groups_y: grid.1,
            ..Default::default()
        };
        let named = [
            ("param", param.buffer()),
            ("grad", grad.buffer()),
            ("buf", momentum.buffer()),
        ];
        rec.dispatch(&ctx.kernels.sgd, bytemuck::bytes_of(&params), &named, grid)
    }
}

fn check_pair(name: &str, param: &DeviceTensor, grad: &DeviceTensor) -> Result<()> {
    grad.ensure_on(param.context(), &format!("the gradient of {name}"))?;
    if grad.len() != param.len() {
        return Err(Error::Shape(crate::shape::ShapeError::Mismatch {
            what: "elements of a gradient, its parameter's",
            expected: format!("{} ({name} {:?})", param.len(), param.dims()),
            got: format!("{} ({:?})", grad.len(), grad.dims()),
        }));
    }
    Ok(())
}
