//! Reading a trainer's state back to the host, for checks and for saving.

use crate::error::Result;
use crate::gpu::trainer::Trainer;
use crate::tensor::Tensor4;

/// Everything the trainer holds on the GPU, readable for checks.
#[derive(Debug, Clone)]
pub struct TrainerState {
    pub w: Tensor4,
    /// The bias (empty for a layer without bias).
    pub b: Vec<f32>,
    /// Momentum buffers (zeros until the first step with momentum).
    pub w_momentum: Vec<f32>,
    /// (Empty without bias.)
    pub b_momentum: Vec<f32>,
}

impl Trainer {
    fn read(&self, buffer: &wgpu::Buffer, len: u64, stage: &'static str) -> Result<Vec<f32>> {
        self.ctx.read_back(buffer, len as usize, stage)
    }

    /// A bias-sized buffer's values; empty for a layer without bias.
    fn read_bias(&self, buffer: Option<&wgpu::Buffer>, stage: &'static str) -> Result<Vec<f32>> {
        match buffer {
            Some(buffer) => self.read(buffer, self.shape.bias_len(), stage),
            None => Ok(Vec::new()),
        }
    }

    fn dims(&self, dims: [u32; 4]) -> [usize; 4] {
        dims.map(|d| d as usize)
    }

    fn tensor(&self, name: &str, dims: [u32; 4], buffer: &wgpu::Buffer) -> Result<Tensor4> {
        let dims = self.dims(dims);
        let len = dims.iter().product::<usize>() as u64;
        Ok(Tensor4::new(
            name,
            dims,
            self.read(buffer, len, "reading a training tensor")?,
        )?)
    }

    fn weight_dims(&self) -> [u32; 4] {
        let s = &self.shape;
        [s.k, s.channels_per_group(), s.r, s.s]
    }

    fn out_dims(&self) -> [u32; 4] {
        let s = &self.shape;
        [s.n, s.k, s.p(), s.q()]
    }

    /// The current weights, bias and momentum buffers.
    pub fn read_state(&self) -> Result<TrainerState> {
        let weights = self.shape.weight_len();
        let b_momentum = self.buffers.b_momentum.as_deref();
        Ok(TrainerState {
            w: self.tensor("w", self.weight_dims(), self.layer.weight().buffer())?,
            b: self.read_bias(self.layer.bias_buffer(), "reading b")?,
            w_momentum: self.read(&self.buffers.w_momentum, weights, "reading the w momentum")?,
            b_momentum: self.read_bias(b_momentum, "reading the b momentum")?,
        })
    }

    /// The loss gradients (without weight decay) dL/dw and dL/db (empty without bias) of the
    /// last step, taken before its update.
    pub fn read_grads(&self) -> Result<(Tensor4, Vec<f32>)> {
        let dw = self.tensor("dw", self.weight_dims(), &self.buffers.dw)?;
        Ok((
            dw,
            self.read_bias(self.buffers.db.as_deref(), "reading db")?,
        ))
    }

    /// dL/dx of the latest step that computed it (a run with `input_grad_last`); zeros before
    /// any did.
    pub fn read_input_grad(&self) -> Result<Tensor4> {
        let s = &self.shape;
        self.tensor("dx", [s.n, s.c, s.h, s.w], &self.buffers.dx)
    }

    /// The forward output y and dL/dz of the last step.
    pub fn read_output_and_dz(&self) -> Result<(Tensor4, Tensor4)> {
        Ok((
            self.tensor("y", self.out_dims(), &self.buffers.y)?,
            self.tensor("dz", self.out_dims(), &self.buffers.dz)?,
        ))
    }
}
