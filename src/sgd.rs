//! The optimiser's settings, validated before any GPU work.

use crate::error::{Error, Result};

/// Plain SGD as `torch.optim.SGD` with weight and bias in one parameter group (dampening 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// Learning rate, > 0.
    pub lr: f32,
    /// Momentum in [0, 1); 0 disables the momentum buffer.
    pub momentum: f32,
    /// L2 weight decay ≥ 0, added to the gradient as wd·param.
    pub weight_decay: f32,
    /// Nesterov momentum (needs momentum > 0).
    pub nesterov: bool,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }

    /// Errors name the setting that is out of range.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::Invalid(format!(
                "learning rate must be a finite number > 0 (got {})",
                self.lr
            )));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(Error::Invalid(format!(
                "momentum must be in [0, 1) (got {})",
                self.momentum
            )));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::Invalid(format!(
                "weight decay must be a finite number ≥ 0 (got {})",
                self.weight_decay
            )));
        }
        if self.nesterov && self.momentum == 0.0 {
            return Err(Error::Invalid(
                "Nesterov momentum needs a momentum > 0".into(),
            ));
        }
        Ok(())
    }
}
