// common/loss_log.wgsl — the loss log the host reads back after a submission.

struct LossLog {
    count: u32,
    values: array<f32>,
}
