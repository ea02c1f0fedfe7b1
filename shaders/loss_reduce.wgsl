// loss_reduce.wgsl — the mean of the partial sums: L = Σ (y − t)² / M, appended to the loss log.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the LossParams struct generated from
// `gpu::params::LossParams`, common/reduce.wgsl, common/loss_log.wgsl.
//
// Bindings (group 0):
//   0  params    uniform             LossParams
//   1  partials  storage, read       partial sums from loss_mse_relu_bwd.wgsl
//   2  log       storage, read_write LossLog: count, then one loss per step since the last reset
//
// One workgroup: invocation j sums partials j, j + 256, ... in order, the workgroup adds those
// in a fixed tree (common/reduce.wgsl), and invocation 0 writes log.values[log.count] = sum / M and increments the
// count. The host clears the count when it reads the log. Deterministic: no atomics.
//
// CPU twin: `cpu::loss_mse_relu_bwd` (its loss).

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> log: LossLog;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
    var acc = 0.0;
    for (var j = lid; j < params.partials; j += WORKGROUP_SIZE) {
        acc += partials[j];
    }
    let sum = tree_sum(acc, lid, lid, WORKGROUP_SIZE);
    if (lid == 0u) {
        let slot = log.count;
        if (slot < arrayLength(&log.values)) {
            log.values[slot] = sum / f32(params.m);
        }
        log.count = slot + 1u;
    }
}
