// conv2d_bwd_weight_tiled.wgsl — weight and bias gradients as an implicit GEMM with
// workgroup-memory tiles, register blocking and a split reduction (the fast version; the simple
// one is conv2d_bwd_weight.wgsl). conv2d_bwd_weight_reduce.wgsl then adds the splits.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, TILE, SLICE, BLOCK, BIAS_COLUMNS (1 with a
// bias, 0 without), the ConvParams struct generated from `gpu::params::ConvParams`,
// common/grid.wgsl, common/gemm_tile.wgsl, common/gemm_store.wgsl, common/padding.wgsl,
// common/weight_tap.wgsl.
//
// Bindings (group 0):
//   0  params   uniform             ConvParams
//   1  x        storage, read       input (N, C, H, W)
//   2  dz       storage, read       dL/dz (N, K, P, Q)
//   3  partial  storage, read_write (splits, K, (C/G)·R·S + BIAS_COLUMNS): each split's sums,
//                                   overwritten
//
// One GEMM per group g: rows k over the group's K/G filters, columns j over (C/G)·R·S (+ 1),
// reduction over m = (n, p, q) in N·P·Q; A[k, m] = dz[n, g·K/G + k, p, q],
// B[m, j] = x[n, g·C/G + c', src(p·sh + r·dh − top), src(q·sw + s·dw − left)] for j = (c', r, s)
// (`padded_source`; 0 in zero padding) and, with a bias, B[m, (C/G)·R·S] = 1, so the last column
// is db. The reduction is cut into `splits` contiguous ranges of m; workgroup (tile, split) sums
// its range in m order, 16 m at a time through the tiles of common/gemm_tile.wgsl (its reduction
// index is m here), invocation (tx, ty) holding the 4×4 outputs k = k0 + tx + 16·i,
// j = j0 + ty + 16·jj. Deterministic: fixed ranges and orders.
//
// CPU twin: `cpu::conv2d_bwd_weight`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(BLOCK, BLOCK)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let pq = params.p * params.q;
    let terms = params.n * pq;
    let rs = params.r * params.s;
    let cg = params.c / params.conv_groups;
    let kg = params.k / params.conv_groups;
    let crs = cg * rs;
    let cols = crs + BIAS_COLUMNS;
    let tiles_k = (kg + TILE - 1u) / TILE;
    let tiles_j = (cols + TILE - 1u) / TILE;
    let tiles = tiles_k * tiles_j * params.conv_groups;
    let workgroup = flat_workgroup(wid, params.groups_x, params.groups_y);
    let tile = workgroup % tiles;
    let split = workgroup / tiles;
    let k0 = (tile % tiles_k) * TILE;
    let j0 = ((tile / tiles_k) % tiles_j) * TILE;
    let g = tile / (tiles_k * tiles_j);
    let k_base = g * kg;
    let chunk = (terms + params.splits - 1u) / params.splits;
    let m_begin = min(split * chunk, terms);
    let m_end = min(m_begin + chunk, terms);
    let tx = local.x;
    let ty = local.y;

    var acc = array<vec4<f32>, 4>();

    for (var mb = m_begin; mb < m_end; mb += SLICE) {
        // A slice: 16 m × 64 k.
        for (var t = 0u; t < 4u; t++) {
            let e = lid + WORKGROUP_SIZE * t;
            let mm = e % SLICE;
            let kk = e / SLICE;
            let m = mb + mm;
            let k = k0 + kk;
            var v = 0.0;
            if (m < m_end && k < kg) {
                v = dz[((m / pq) * params.k + k_base + k) * pq + m % pq];
            }
            a_tile[mm * TILE + kk] = v;
        }
        // B slice: 16 m × 64 j.
        for (var t = 0u; t < 4u; t++) {
            let e = lid + WORKGROUP_SIZE * t;
            let mm = e % SLICE;
            let jj = e / SLICE;
            let m = mb + mm;
            let j = j0 + jj;
            var v = 0.0;
            if (m < m_end && j < cols) {
                if (j == crs) {
                    v = 1.0;
                } else {
                    let c = g * cg + j / rs;
                    // Only its x: dz comes through the A slice.
                    let tap = weight_tap(m, 0u, c, (j % rs) / params.s, j % params.s);
                    if (tap.inside) {
                        v = x[tap.x];
                    }
                }
            }
            b_tile[mm * TILE + jj] = v;
        }
        multiply_slice(&acc, tx, ty);
    }

    if (split >= params.splits) {
        return;
    }
    store_tile(&acc, k0 + tx, j0 + ty, kg, cols, split * params.k + k_base);
}

// Element (k, j) of the split and group whose rows of `partial` start at row_base.
fn store_output(k: u32, j: u32, row_base: u32, sum: f32) {
    let cols = (params.c / params.conv_groups) * params.r * params.s + BIAS_COLUMNS;
    partial[(row_base + k) * cols + j] = sum;
}
