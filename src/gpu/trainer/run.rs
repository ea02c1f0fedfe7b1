//! Recording and running steps: the fused loop where it fits, else forward, backward and
//! update kernels one after another, many steps to a submission.

use crate::error::{Error, Result};
use crate::gpu::pack::Rows;
use crate::gpu::params::FusedLoopParams;
use crate::gpu::trainer::buffers::loss_log_bytes;
use crate::gpu::trainer::{Trainer, FUSED_STEPS_PER_DISPATCH};

/// Which passes to record, for timing them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// conv + bias + ReLU.
    Forward,
    /// Loss and dz, the loss reduction, dW and db, dX.
    Backward,
    /// Forward, backward (with dX) and the SGD updates.
    Step,
}

impl Trainer {
    fn record_step(&self, pass: &mut wgpu::ComputePass<'_>, with_input_grad: bool) {
        self.forward.record(&self.ctx, pass, &self.binds.forward);
        self.record_backward(pass, with_input_grad);
        self.record_update(pass);
    }

    /// Writes the step count of the fused loop's last, partial dispatch for a run of `steps`.
    fn write_fused_rest(&self, steps: u32) {
        if let Some(fused) = &self.binds.fused {
            let rest = FusedLoopParams {
                steps: steps % FUSED_STEPS_PER_DISPATCH,
                ..fused.params
            };
            if rest.steps > 0 {
                self.ctx
                    .queue
                    .write_buffer(&fused.rest_uniform, 0, bytemuck::bytes_of(&rest));
            }
        }
    }

    /// `steps` steps of the fused loop: full dispatches, then one for the remainder (whose
    /// count [`Self::write_fused_rest`] wrote).
    fn record_fused(&self, pass: &mut wgpu::ComputePass<'_>, steps: u32) {
        if let (Some(kernels), Some(fused)) = (&self.ctx.kernels.fused_loop, &self.binds.fused) {
            let kernel = kernels.get(self.shape.bias);
            for _ in 0..steps / FUSED_STEPS_PER_DISPATCH {
                kernel.dispatch(pass, &fused.full, (1, 1, 1));
            }
            if !steps.is_multiple_of(FUSED_STEPS_PER_DISPATCH) {
                kernel.dispatch(pass, &fused.rest, (1, 1, 1));
            }
        }
    }

    fn record_backward(&self, pass: &mut wgpu::ComputePass<'_>, with_input_grad: bool) {
        let k = &self.ctx.kernels;
        let (b, g) = (&self.binds, &self.grids);
        let bias = self.shape.bias;
        k.loss.dispatch(pass, &b.loss, g.loss);
        k.loss_reduce.dispatch(pass, &b.loss_reduce, (1, 1, 1));
        if let Some(packs) = &b.bwd_weight_packs {
            packs.record(&self.ctx, pass);
        }
        b.bwd_weight_kernel
            .dispatch(pass, &b.bwd_weight, g.bwd_weight);
        if let Some(reduce) = &b.bwd_weight_reduce {
            k.bwd_weight_reduce
                .get(bias)
                .dispatch(pass, reduce, g.bwd_weight_reduce);
        }
        if with_input_grad {
            if let Some((pack, bind)) = &b.bwd_input_pack {
                pack.record(&self.ctx, pass, bind);
            }
            if let Some((Rows::Packed(pack), Some(bind))) = &b.bwd_input_rows {
                pack.record(&self.ctx, pass, bind);
            }
            b.bwd_input_kernel.dispatch(pass, &b.bwd_input, g.bwd_input);
            if let (Some(fold), Some(grid)) = (&b.bwd_input_fold, g.bwd_input_fold) {
                k.bwd_input_fold.dispatch(pass, fold, grid);
            }
        }
    }

    fn record_update(&self, pass: &mut wgpu::ComputePass<'_>) {
        let k = &self.ctx.kernels;
        let (b, g) = (&self.binds, &self.grids);
        k.sgd.dispatch(pass, &b.sgd_w, g.sgd_w);
        if let Some(sgd_b) = &b.sgd_b {
            k.sgd.dispatch(pass, sgd_b, g.sgd_b);
        }
    }

    /// Records `pass` `repeats` times into one compute pass, for timing. Every repeat of
    /// Backward and Step appends to the loss log (cleared first; `loss_reduce.wgsl` drops values
    /// past its capacity). A Step of a trainer with the fused loop runs it (without dX).
    pub fn record_pass(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pass: Pass,
        repeats: u32,
        timestamps: Option<wgpu::ComputePassTimestampWrites<'_>>,
    ) {
        encoder.clear_buffer(&self.buffers.loss_log, 0, Some(4));
        let fused = pass == Pass::Step && self.binds.fused.is_some();
        if fused {
            self.write_fused_rest(repeats);
        }
        let mut cpass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("benchmark"),
            timestamp_writes: timestamps,
        });
        if fused {
            self.record_fused(&mut cpass, repeats);
            return;
        }
        for _ in 0..repeats {
            match pass {
                Pass::Forward => self
                    .forward
                    .record(&self.ctx, &mut cpass, &self.binds.forward),
                Pass::Backward => self.record_backward(&mut cpass, true),
                Pass::Step => self.record_step(&mut cpass, true),
            }
        }
    }

    /// Bytes of the buffers `pass` binds.
    pub fn pass_bytes(&self, pass: Pass) -> u64 {
        let s = &self.shape;
        let (x, y, w, k) = (s.input_len(), s.output_len(), s.weight_len(), s.bias_len());
        let loss_group = u64::from(crate::gpu::wgsl::LOSS_WORKGROUP_SIZE);
        let floats = match pass {
            Pass::Forward => x + w + k + y,
            // y, t, dz, partials, loss log, x, dw, db, w, dx
            Pass::Backward => 3 * y + y.div_ceil(loss_group) + 1 + x + w + k + w + x,
            Pass::Step => x + 3 * (w + k) + 3 * y + y.div_ceil(loss_group) + 1 + 2 * (w + k) + x,
        };
        floats * 4
    }

    /// Copies the fused loop's y and dz of its last step to where the per-pass kernels keep them.
    fn copy_fused_outputs(&self, encoder: &mut wgpu::CommandEncoder) {
        if let Some(last) = &self.buffers.fused_last {
            let bytes = self.shape.output_len() * 4;
            encoder.copy_buffer_to_buffer(last, 0, &self.buffers.y, 0, bytes);
            encoder.copy_buffer_to_buffer(last, bytes, &self.buffers.dz, 0, bytes);
        }
    }

    /// Records and submits one chunk of `n` steps (dX on the last when `with_dx`).
    pub(super) fn submit_steps(&self, n: u32, with_dx: bool) -> Result<wgpu::SubmissionIndex> {
        // The fused loop cannot make dX: a last step that needs it runs unfused.
        let fused_steps = match &self.binds.fused {
            Some(_) => n - u32::from(with_dx),
            None => 0,
        };
        self.write_fused_rest(fused_steps);
        self.ctx.scoped("running training steps", || {
            let mut encoder =
                self.ctx
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("train"),
                    });
            encoder.clear_buffer(&self.buffers.loss_log, 0, Some(4));
            if fused_steps > 0 {
                self.record_fused(&mut begin_pass(&mut encoder, "fused loop"), fused_steps);
                self.copy_fused_outputs(&mut encoder);
            }
            if fused_steps < n {
                let mut steps = begin_pass(&mut encoder, "train steps");
                for i in fused_steps..n {
                    self.record_step(&mut steps, with_dx && i + 1 == n);
                }
            }
            let (log, read) = (&self.buffers.loss_log, &self.buffers.loss_read);
            encoder.copy_buffer_to_buffer(log, 0, read, 0, loss_log_bytes(n));
            self.ctx.queue.submit([encoder.finish()])
        })
    }

    /// Runs `steps` full-batch steps, `log_capacity` per submission. After each submission the
    /// losses of its steps (each taken before that step's update) come back through a small
    /// buffer and go to `on_losses(first_step, losses)`. With `input_grad_last`, the last step
    /// also computes dL/dx (read it with [`Trainer::read_input_grad`]).
    ///
    /// A loss that is NaN or infinite stops the run with [`Error::Diverged`] naming the step.
    pub fn run(
        &mut self,
        steps: u64,
        input_grad_last: bool,
        mut on_losses: impl FnMut(u64, &[f32]),
    ) -> Result<()> {
        let stage = "running training steps";
        let mut left = steps;
        while left > 0 {
            let n = left.min(u64::from(self.log_capacity)) as u32;
            let with_dx = input_grad_last && left == u64::from(n);
            let submission = self.submit_steps(n, with_dx)?;
            self.ctx.wait(submission, stage)?;
            let log = self
                .ctx
                .read_f32(&self.buffers.loss_read, "reading the loss log")?;
            let first = self.steps_done;
            on_losses(first, self.take_losses(&log, n)?);
            left -= u64::from(n);
        }
        Ok(())
    }

    /// The `n` losses of a submission's loss log (its step count, then the losses), checked
    /// (the count, no NaN or infinity), counted as done.
    pub(super) fn take_losses<'l>(&mut self, log: &'l [f32], n: u32) -> Result<&'l [f32]> {
        let count = log.first().map_or(0, |c| c.to_bits());
        if count != n || log.len() <= n as usize {
            return Err(Error::Internal {
                stage: "running training steps",
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
        self.steps_done += u64::from(n);
        Ok(losses)
    }
}

fn begin_pass<'e>(encoder: &'e mut wgpu::CommandEncoder, label: &str) -> wgpu::ComputePass<'e> {
    encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some(label),
        timestamp_writes: None,
    })
}
