//! [`Trainer::run`] without blocking, for a browser: the same submissions, the loss log read
//! back by awaiting its map.

use crate::error::Result;
use crate::gpu::trainer::Trainer;

impl Trainer {
    /// [`Trainer::run`] (without dX), awaiting each submission's loss log instead of blocking:
    /// in a browser the page stays responsive while the GPU works. Same losses, same errors.
    pub async fn run_async(
        &mut self,
        steps: u64,
        mut on_losses: impl FnMut(u64, &[f32]),
    ) -> Result<()> {
        let mut left = steps;
        while left > 0 {
            let n = left.min(u64::from(self.log_capacity)) as u32;
            self.submit_steps(n, false)?;
            let log = self
                .ctx
                .read_f32_async(&self.buffers.loss_read, "reading the loss log")
                .await?;
            let first = self.steps_done;
            on_losses(first, self.take_losses(&log, n)?);
            left -= u64::from(n);
        }
        Ok(())
    }
}
