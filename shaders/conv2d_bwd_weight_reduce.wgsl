// conv2d_bwd_weight_reduce.wgsl — adds the splits of conv2d_bwd_weight_tiled.wgsl in split
// order: dw[k, j] = Σ_split partial[split, k, j] for j < (C/G)·R·S, and, with a bias, db[k] from
// j = (C/G)·R·S.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct generated from
// `gpu::params::ConvParams`, common/grid.wgsl, and common/bias_grad.wgsl (or
// common/no_bias.wgsl for a layer without bias).
//
// Bindings (group 0):
//   0  params   uniform             ConvParams
//   1  partial  storage, read       (splits, K, (C/G)·R·S + 1 with a bias, + 0 without)
//   2  dw       storage, read_write dL/dw (K, C/G, R, S), overwritten
//   3  db       storage, read_write dL/db (K), overwritten (absent without bias)
//
// One invocation per (k, j), on a folded grid (common/grid.wgsl). Deterministic: the splits are
// added in order.
//
// CPU twin: `cpu::conv2d_bwd_weight`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let crs = (params.c / params.conv_groups) * params.r * params.s;
    let cols = crs + select(0u, 1u, HAS_BIAS);
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.k * cols) {
        return;
    }
    var acc = 0.0;
    for (var split = 0u; split < params.splits; split++) {
        acc += partial[split * params.k * cols + i];
    }
    let k = i / cols;
    let j = i % cols;
    if (j < crs) {
        dw[k * crs + j] = acc;
    } else {
        store_db(k, acc);
    }
}
