// loss_reduce.wgsl — the mean of the partial sums: L = Σ (y − t)² / M, appended to the loss log.
//
// Bindings (group 0):
//   0  params    uniform             LossParams (mirrors `gpu::params::LossParams`)
//   1  partials  storage, read       partial sums from loss_mse_relu_bwd.wgsl
//   2  log       storage, read_write LossLog: count, then one loss per step since the last reset
//
// One workgroup: invocation j sums partials j, j + 256, ... in order, the workgroup adds those
// in a fixed tree, and invocation 0 writes log.values[log.count] = sum / M and increments the
// count. The host clears the count when it reads the log. Deterministic: no atomics.
//
// CPU twin: `cpu::loss_mse_relu_bwd` (its loss).

struct LossParams {
    m: u32,
    partials: u32,
    groups_x: u32,
    groups_y: u32,
    scale: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

struct LossLog {
    count: u32,
    values: array<f32>,
}

const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> log: LossLog;

var<workgroup> sums: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
    var acc = 0.0;
    for (var j = lid; j < params.partials; j += WORKGROUP_SIZE) {
        acc += partials[j];
    }
    sums[lid] = acc;
    workgroupBarrier();
    for (var half = WORKGROUP_SIZE / 2u; half > 0u; half = half / 2u) {
        if (lid < half) {
            sums[lid] = sums[lid] + sums[lid + half];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let slot = log.count;
        if (slot < arrayLength(&log.values)) {
            log.values[slot] = sums[0] / f32(params.m);
        }
        log.count = slot + 1u;
    }
}
