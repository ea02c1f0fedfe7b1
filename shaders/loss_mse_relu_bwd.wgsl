// loss_mse_relu_bwd.wgsl — MSE loss terms and dL/dz through the ReLU, fused.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the LossParams struct generated from
// `gpu::params::LossParams`, common/grid.wgsl, common/reduce.wgsl.
//
// Bindings (group 0):
//   0  params    uniform             LossParams
//   1  y         storage, read       output of the forward pass (N, K, P, Q), y = max(0, z)
//   2  t         storage, read       target, same shape
//   3  dz        storage, read_write dL/dz (N, K, P, Q)
//   4  partials  storage, read_write one partial sum of (y − t)² per workgroup
//
// One invocation handles one element i < M = N·K·P·Q:
//   dz[i] = 2(y[i] − t[i])/M where y[i] > 0 (the same as z > 0), else 0 (0 at z = 0, as PyTorch);
//   with relu_mask = 0 (the MSE of any two tensors, `ops::mse_loss`) dz[i] = 2(y[i] − t[i])/M;
// then the workgroup sums (y − t)² in a fixed tree order (common/reduce.wgsl) into
// partials[workgroup]. The grid is folded (common/grid.wgsl).
// Deterministic: no atomics. Barriers are reached by every invocation (uniform control flow).
//
// CPU twin: `cpu::loss_mse_relu_bwd`.

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = flat_workgroup(wid, params.groups_x, params.groups_y);
    let i = group * WORKGROUP_SIZE + lid;
    var sq = 0.0;
    if (i < params.m) {
        let d = y[i] - t[i];
        dz[i] = select(0.0, d * params.scale, params.relu_mask == 0u || y[i] > 0.0);
        sq = d * d;
    }
    let sum = tree_sum(sq, lid, lid, WORKGROUP_SIZE);
    if (lid == 0u && group < params.partials) {
        partials[group] = sum;
    }
}
