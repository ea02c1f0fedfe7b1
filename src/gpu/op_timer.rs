//! GPU time of the ops' dispatches: while armed ([`GpuContext::time_ops`]), every compute pass an
//! op records writes a timestamp at its start and end; the sum of the passes' spans is the GPU
//! time of the work, without the host's encoding and submission between passes.

use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::gpu::memory::READBACK;
use crate::gpu::GpuContext;

/// Passes one armed timer can stamp.
const MAX_PASSES: u32 = 1024;

/// The query set of an armed timer and the next free query.
pub(crate) struct OpTimer {
    queries: wgpu::QuerySet,
    next: u32,
}

/// Where a context keeps its armed timer, if any.
pub(crate) type TimerSlot = Mutex<Option<OpTimer>>;

/// The timestamp writes of the next pass, when a timer is armed and has room.
fn pass_writes(timer: &mut Option<OpTimer>) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
    let t = timer.as_mut().filter(|t| t.next + 2 <= MAX_PASSES)?;
    let at = t.next;
    t.next += 2;
    Some(wgpu::ComputePassTimestampWrites {
        query_set: &t.queries,
        beginning_of_pass_write_index: Some(at),
        end_of_pass_write_index: Some(at + 1),
    })
}

/// Records `f` into a compute pass of `encoder` labelled `label`, stamped when a timer is armed.
pub(crate) fn record_pass(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    label: &str,
    f: impl FnOnce(&mut wgpu::ComputePass<'_>),
) -> Result<()> {
    let mut timer = ctx.op_timer.lock().map_err(|_| Error::Internal {
        stage: "recording an op",
        message: "timer lock poisoned".into(),
    })?;
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some(label),
        timestamp_writes: pass_writes(&mut timer),
    });
    f(&mut pass);
    Ok(())
}

impl GpuContext {
    /// Runs `f` (which runs ops on this context) and returns its result with the GPU time of
    /// the passes it recorded, in ms; None where the adapter has no timestamp queries (time it
    /// by the wall clock then) or `f` recorded more passes than one timer holds (1,024).
    pub fn time_ops<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<(T, Option<f64>)> {
        if !self.key_limits().timestamp_query {
            return Ok((f()?, None));
        }
        let stage = "timing ops";
        let queries = self.scoped(stage, || {
            self.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("op timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: MAX_PASSES,
            })
        })?;
        self.set_timer(Some(OpTimer { queries, next: 0 }))?;
        let out = f();
        let timer = self.set_timer(None)?;
        let out = out?;
        let Some(timer) = timer.filter(|t| t.next > 0 && t.next < MAX_PASSES) else {
            return Ok((out, None));
        };
        Ok((out, Some(self.read_spans(&timer, stage)?)))
    }

    fn set_timer(&self, timer: Option<OpTimer>) -> Result<Option<OpTimer>> {
        let mut slot = self.op_timer.lock().map_err(|_| Error::Internal {
            stage: "timing ops",
            message: "timer lock poisoned".into(),
        })?;
        Ok(std::mem::replace(&mut *slot, timer))
    }

    /// The sum over the stamped passes of end − start, in ms.
    fn read_spans(&self, timer: &OpTimer, stage: &'static str) -> Result<f64> {
        let bytes = u64::from(timer.next) * 8;
        let read = self.scoped(stage, || {
            let resolve = self.buffer(
                "op timestamps",
                bytes,
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            );
            let read = self.buffer("op timestamps readback", bytes, READBACK);
            let mut encoder = self.device.create_command_encoder(&Default::default());
            encoder.resolve_query_set(&timer.queries, 0..timer.next, &resolve, 0);
            encoder.copy_buffer_to_buffer(&resolve, 0, &read, 0, bytes);
            self.queue.submit([encoder.finish()]);
            read
        })?;
        let words = self.read_f32(&read, stage)?;
        let tick = |i: usize| {
            u64::from(words[2 * i].to_bits()) | (u64::from(words[2 * i + 1].to_bits()) << 32)
        };
        let period_ns = f64::from(self.queue.get_timestamp_period());
        let ticks: u64 = (0..timer.next as usize / 2)
            .map(|p| tick(2 * p + 1).saturating_sub(tick(2 * p)))
            .sum();
        Ok(ticks as f64 * period_ns / 1e6)
    }
}
