//! [`Trainer::run`] without blocking, for a browser: the same submissions, the loss log read
//! back by awaiting its map.

use crate::error::{Error, Result};
use crate::gpu::trainer::Trainer;

impl Trainer<'_> {
    /// [`Trainer::run`] (without dX), awaiting each submission's loss log instead of blocking:
    /// in a browser the page stays responsive while the GPU works. Same losses, same errors.
    pub async fn run_async(
        &mut self,
        steps: u64,
        mut on_losses: impl FnMut(u64, &[f32]),
    ) -> Result<()> {
        let stage = "running training steps";
        let mut left = steps;
        while left > 0 {
            let n = left.min(u64::from(self.log_capacity)) as u32;
            self.submit_steps(n, false)?;
            let log = self
                .ctx
                .read_f32_async(&self.buffers.loss_read, "reading the loss log")
                .await?;
            let count = log.first().map_or(0, |c| c.to_bits());
            if count != n || log.len() <= n as usize {
                return Err(Error::Internal {
                    stage,
                    message: format!("the loss log holds {count} steps, expected {n}"),
                });
            }
            let losses = &log[1..=n as usize];
            if let Some(i) = losses.iter().position(|l| !l.is_finite()) {
                return Err(Error::Diverged {
                    step: self.steps_done + i as u64,
                    loss: losses[i],
                });
            }
            on_losses(self.steps_done, losses);
            self.steps_done += u64::from(n);
            left -= u64::from(n);
        }
        Ok(())
    }
}
