// conv2d_bwd_input_tiled.wgsl — the input gradient as an implicit GEMM with workgroup-memory
// tiles and register blocking (the fast version; the simple one is conv2d_bwd_input.wgsl).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, TILE, SLICE, BLOCK, the ConvParams struct
// generated from `gpu::params::ConvParams`, common/grid.wgsl, common/gemm_tile.wgsl,
// common/gemm_store.wgsl.
//
// Bindings (group 0): as conv2d_bwd_input.wgsl
//   0  params  uniform             ConvParams
//   1  w       storage, read       weights (K, C/G, R, S), as used by the forward pass
//   2  dz      storage, read       dL/dz (N, K, P, Q)
//   3  dx      storage, read_write dL/dx (N, C, H, W), overwritten
//
// One GEMM per group g: rows m = (n, h, w) over N·H·W, columns c' over the group's C/G
// channels, reduction j = (k', r, s) over (K/G)·R·S; A[m, j] = dz[n, g·K/G + k', p, q] where
// p = (h + top − r·dh)/sh and q = (w + left − s·dw)/sw are whole and inside the output (else 0),
// B[j, c'] = w[g·K/G + k', c', r, s]. The tile skeleton is common/gemm_tile.wgsl: a 16×16
// workgroup owns 64 (m) × 64 (c'), walks j in slices of 16, and invocation (tx, ty) accumulates
// m = m0 + tx + 16·i, c' = c0 + ty + 16·jj. Each element sums its (K/G)·R·S terms in j order: the
// simple kernel's bound. Padding modes other than zeros: as conv2d_bwd_input.wgsl (the host
// runs it on the padded input, then conv2d_bwd_input_fold.wgsl).
//
// CPU twin: `cpu::conv2d_bwd_input`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(BLOCK, BLOCK)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let hw = params.h * params.w;
    let pq = params.p * params.q;
    let rows = params.n * hw;
    let rs = params.r * params.s;
    let cg = params.c / params.conv_groups;
    let kg = params.k / params.conv_groups;
    let krs = kg * rs;
    let tiles_m = (rows + TILE - 1u) / TILE;
    let tiles_c = (cg + TILE - 1u) / TILE;
    let tile = flat_workgroup(wid, params.groups_x, params.groups_y);
    let m0 = (tile % tiles_m) * TILE;
    let c0 = ((tile / tiles_m) % tiles_c) * TILE;
    let g = tile / (tiles_m * tiles_c);
    let k_base = g * kg;
    let tx = local.x;
    let ty = local.y;

    // The A row this invocation loads is fixed: mm = lid % 64.
    let a_mm = lid % TILE;
    let a_m = m0 + a_mm;
    let a_valid = a_m < rows && c0 < cg && g < params.conv_groups;
    let a_n = a_m / hw;
    let a_hh = i32((a_m % hw) / params.w + params.pad_top);
    let a_ww = i32((a_m % hw) % params.w + params.pad_left);

    var acc = array<vec4<f32>, 4>();

    for (var j0 = 0u; j0 < krs; j0 += SLICE) {
        for (var t = 0u; t < 4u; t++) {
            let jj = lid / TILE + 4u * t;
            let j = j0 + jj;
            var v = 0.0;
            if (a_valid && j < krs) {
                let k = k_base + j / rs;
                let r = (j % rs) / params.s;
                let s = j % params.s;
                let ph = a_hh - i32(r * params.dilation_h);
                let pw = a_ww - i32(s * params.dilation_w);
                if (ph >= 0 && pw >= 0 && ph % i32(params.stride_h) == 0 && pw % i32(params.stride_w) == 0) {
                    let p = u32(ph) / params.stride_h;
                    let q = u32(pw) / params.stride_w;
                    if (p < params.p && q < params.q) {
                        v = dz[(a_n * params.k + k) * pq + p * params.q + q];
                    }
                }
            }
            a_tile[jj * TILE + a_mm] = v;
        }
        for (var t = 0u; t < 4u; t++) {
            let e = lid + WORKGROUP_SIZE * t;
            let jj = e % SLICE;
            let cc = e / SLICE;
            let j = j0 + jj;
            let c = c0 + cc;
            var v = 0.0;
            if (j < krs && c < cg && g < params.conv_groups) {
                let k = k_base + j / rs;
                v = w[(k * cg + c) * rs + j % rs];
            }
            b_tile[jj * TILE + cc] = v;
        }
        multiply_slice(&acc, tx, ty);
    }

    if (g >= params.conv_groups) {
        return;
    }
    store_tile(&acc, m0 + tx, c0 + ty, rows, cg, g * cg);
}

// Element (m, c) of the group whose channels start at c_base.
fn store_output(m: u32, c: u32, c_base: u32, sum: f32) {
    let hw = params.h * params.w;
    dx[(m / hw) * params.c * hw + m % hw + (c_base + c) * hw] = sum;
}
