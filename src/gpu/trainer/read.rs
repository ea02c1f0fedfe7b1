//! Reading a trainer's state back to the host, for checks and for saving.

use crate::error::Result;
use crate::gpu::trainer::Trainer;
use crate::tensor::Tensor4;

/// Everything the trainer holds on the GPU, readable for checks.
#[derive(Debug, Clone)]
pub struct TrainerState {
    pub w: Tensor4,
    /// The bias (zeros for a layer without bias).
    pub b: Vec<f32>,
    /// Momentum buffers (zeros until the first step with momentum).
    pub w_momentum: Vec<f32>,
    pub b_momentum: Vec<f32>,
}

impl Trainer<'_> {
    fn read(&self, buffer: &wgpu::Buffer, len: u64, stage: &'static str) -> Result<Vec<f32>> {
        self.ctx.read_back(buffer, len as usize, stage)
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
        [s.k, s.c, s.r, s.s]
    }

    fn out_dims(&self) -> [u32; 4] {
        let s = &self.shape;
        [s.n, s.k, s.p(), s.q()]
    }

    /// The current weights, bias and momentum buffers.
    pub fn read_state(&self) -> Result<TrainerState> {
        let (k, weights) = (u64::from(self.shape.k), self.shape.weight_len());
        let b = self.layer.bias_buffer();
        Ok(TrainerState {
            w: self.tensor("w", self.weight_dims(), self.layer.weight().buffer())?,
            b: self.read(b, k, "reading b")?,
            w_momentum: self.read(&self.buffers.w_momentum, weights, "reading the w momentum")?,
            b_momentum: self.read(&self.buffers.b_momentum, k, "reading the b momentum")?,
        })
    }

    /// The loss gradients (without weight decay) dL/dw and dL/db of the last step, taken before
    /// its update.
    pub fn read_grads(&self) -> Result<(Tensor4, Vec<f32>)> {
        let dw = self.tensor("dw", self.weight_dims(), &self.buffers.dw)?;
        Ok((
            dw,
            self.read(&self.buffers.db, u64::from(self.shape.k), "reading db")?,
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
