//! The readers of [`super::read`] without blocking, for a browser (web/src/grad.rs reads a
//! step's own buffers with them): each copies its buffer to a staging buffer and awaits the map.

use crate::error::Result;
use crate::gpu::trainer::{Trainer, TrainerState};
use crate::tensor::Tensor4;

impl Trainer {
    async fn read_async(&self, buffer: &wgpu::Buffer, len: u64) -> Result<Vec<f32>> {
        self.ctx
            .read_back_async(buffer, len as usize, "reading a training buffer")
            .await
    }

    async fn read_bias_async(&self, buffer: Option<&wgpu::Buffer>) -> Result<Vec<f32>> {
        match buffer {
            Some(buffer) => self.read_async(buffer, self.shape.bias_len()).await,
            None => Ok(Vec::new()),
        }
    }

    async fn tensor_async(
        &self,
        name: &str,
        dims: [u32; 4],
        buffer: &wgpu::Buffer,
    ) -> Result<Tensor4> {
        let dims = dims.map(|d| d as usize);
        let len = dims.iter().product::<usize>() as u64;
        Ok(Tensor4::new(
            name,
            dims,
            self.read_async(buffer, len).await?,
        )?)
    }

    /// [`Trainer::read_state`] without blocking: the same values.
    pub async fn read_state_async(&self) -> Result<TrainerState> {
        let s = &self.shape;
        let weight_dims = [s.k, s.channels_per_group(), s.r, s.s];
        Ok(TrainerState {
            w: self
                .tensor_async("w", weight_dims, self.layer.weight().buffer())
                .await?,
            b: self.read_bias_async(self.layer.bias_buffer()).await?,
            w_momentum: self
                .read_async(&self.buffers.w_momentum, s.weight_len())
                .await?,
            b_momentum: self
                .read_bias_async(self.buffers.b_momentum.as_deref())
                .await?,
        })
    }

    /// [`Trainer::read_grads`] without blocking: dL/dw and dL/db of the last step, taken
    /// before its update.
    pub async fn read_grads_async(&self) -> Result<(Tensor4, Vec<f32>)> {
        let s = &self.shape;
        let weight_dims = [s.k, s.channels_per_group(), s.r, s.s];
        let dw = self
            .tensor_async("dw", weight_dims, &self.buffers.dw)
            .await?;
        Ok((dw, self.read_bias_async(self.buffers.db.as_deref()).await?))
    }

    /// [`Trainer::read_output_and_dz`] without blocking: y and dL/dz of the last step.
    pub async fn read_output_and_dz_async(&self) -> Result<(Tensor4, Tensor4)> {
        let s = &self.shape;
        let out_dims = [s.n, s.k, s.p(), s.q()];
        Ok((
            self.tensor_async("y", out_dims, &self.buffers.y).await?,
            self.tensor_async("dz", out_dims, &self.buffers.dz).await?,
        ))
    }
}
