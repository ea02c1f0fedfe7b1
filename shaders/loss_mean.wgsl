// loss_mean.wgsl — a loss as one number on the device: L = Σ partials / M.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the LossParams struct generated from
// `gpu::params::LossParams`, common/reduce.wgsl.
//
// Bindings (group 0):
//   0  params    uniform             LossParams (m, partials)
//   1  partials  storage, read       the terms: loss_mse_relu_bwd.wgsl's workgroup sums of
//                                    (y − t)², or loss_cross_entropy.wgsl's per-sample losses
//   2  loss      storage, read_write one f32, overwritten
//
// One workgroup: invocation j sums partials j, j + 256, ... in order, the workgroup adds those in
// a fixed tree (common/reduce.wgsl), and invocation 0 writes the sum / M. The trainer's
// loss_reduce.wgsl sums the same way into its loss log. Deterministic: no atomics.
//
// CPU twins: `cpu::mse_loss`, `cpu::cross_entropy` (their loss).

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
    var acc = 0.0;
    for (var j = lid; j < params.partials; j += WORKGROUP_SIZE) {
        acc += partials[j];
    }
    let total = tree_sum(acc, lid, lid, WORKGROUP_SIZE);
    if (lid == 0u) {
        loss[0] = total / f32(params.m);
    }
}
