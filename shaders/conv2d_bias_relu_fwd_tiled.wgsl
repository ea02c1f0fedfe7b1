// conv2d_bias_relu_fwd_tiled.wgsl — fused convolution + bias + ReLU as an implicit GEMM with
// workgroup-memory tiles and register blocking (the fast version; the simple one is
// conv2d_bias_relu_fwd.wgsl).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, TILE, SLICE, BLOCK, the ConvParams struct
// generated from `gpu::params::ConvParams`, common/grid.wgsl, common/gemm_tile.wgsl,
// common/gemm_store.wgsl, common/padding.wgsl, common/nan.wgsl, common/activation.wgsl, and
// common/bias_read.wgsl (or common/no_bias.wgsl).
//
// Bindings (group 0): as conv2d_bias_relu_fwd.wgsl
//   0  params  uniform            ConvParams
//   1  x       storage, read      input          (N, C, H, W) f32
//   2  w       storage, read      weights        (K, C/G, R, S) f32, read as vec4 (the host pads
//                                 the buffer to a multiple of 16 bytes)
//   3  y       storage, read_write output         (N, K, P, Q) f32, y = ReLU(z) (NaN kept) or z (params.relu)
//   4  z       storage, read_write pre-activation (N, K, P, Q) f32, written only if write_z == 1
//   5  b       storage, read      bias           (K) f32 (absent without bias)
//
// One GEMM per group g: rows m = (n, p, q) over N·P·Q, columns k over the group's K/G filters,
// reduction j = (c', r, s) over (C/G)·R·S; A[m, j] = x[n, g·C/G + c', src(p·sh + r·dh − top),
// src(q·sw + s·dw − left)] (`padded_source`; 0 in zero padding), B[j, k] = w[g·K/G + k, c', r, s].
// The tile skeleton is common/gemm_tile.wgsl: a workgroup of 16×16 invocations owns a 64×64 tile
// of (m, k) and walks j in slices of 16; invocation (tx, ty) accumulates the 4×4 outputs
// m = m0 + tx + 16·i, k = k0 + ty + 16·jj, so neighbouring invocations store neighbouring m
// (coalesced along q). Tiles (m, k, g) are flattened and folded over y/z of the grid.
// Tiles wholly inside the GEMM (all 64 rows and filters, all 16 j of the slice) load without
// bounds checks (only the padding of the image is tested), and read the weights as one
// vec4 per invocation when (C/G)·R·S is a multiple of 4; edge tiles check every index.
// Each output sums its (C/G)·R·S products in j order, then adds the bias: the same bound as the
// simple kernel. Barriers are in uniform control flow (the branches and the j loop's bound
// depend only on the workgroup and the uniforms).
//
// CPU twin: `cpu::conv2d_bias_relu_fwd`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> z: array<f32>;

fn weight(i: u32) -> f32 {
    return w[i >> 2u][i & 3u];
}

@compute @workgroup_size(BLOCK, BLOCK)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let pq = params.p * params.q;
    let rows = params.n * pq;
    let cg = params.c / params.conv_groups;
    let kg = params.k / params.conv_groups;
    let crs = cg * params.r * params.s;
    let rs = params.r * params.s;
    let tiles_m = (rows + TILE - 1u) / TILE;
    let tiles_k = (kg + TILE - 1u) / TILE;
    let tile = flat_workgroup(wid, params.groups_x, params.groups_y);
    let m0 = (tile % tiles_m) * TILE;
    let k0 = ((tile / tiles_m) % tiles_k) * TILE;
    let g = tile / (tiles_m * tiles_k);
    // Filter k of the group is filter g·K/G + k of the layer.
    let k_base = g * kg;
    let tx = local.x;
    let ty = local.y;
    let full_tile = m0 + TILE <= rows && k0 + TILE <= kg && g < params.conv_groups;
    let vec_weights = full_tile && crs % 4u == 0u;

    // The A row this invocation loads is fixed: mm = lid % 64 for all four of its loads.
    let a_mm = lid % TILE;
    let a_m = m0 + a_mm;
    let a_valid = a_m < rows && k0 < kg && g < params.conv_groups;
    let a_n = a_m / pq;
    let a_pq = a_m % pq;
    let a_h0 = i32((a_pq / params.q) * params.stride_h) - i32(params.pad_top);
    let a_w0 = i32((a_pq % params.q) * params.stride_w) - i32(params.pad_left);
    let a_plane = a_n * params.c + g * cg;

    var acc = array<vec4<f32>, 4>();

    for (var j0 = 0u; j0 < crs; j0 += SLICE) {
        let full_slice = j0 + SLICE <= crs;
        // A slice: 16 j × 64 m; invocation lid loads j = j0 + lid/64 + 4t, m = a_m.
        for (var t = 0u; t < 4u; t++) {
            let jj = lid / TILE + 4u * t;
            let j = j0 + jj;
            var v = 0.0;
            if ((full_tile && full_slice) || (a_valid && j < crs)) {
                let c = j / rs;
                let r = (j % rs) / params.s;
                let s = j % params.s;
                let hi = padded_source(a_h0 + i32(r * params.dilation_h), i32(params.h), params.pad_mode);
                let wi = padded_source(a_w0 + i32(s * params.dilation_w), i32(params.w), params.pad_mode);
                if (hi >= 0 && wi >= 0) {
                    v = x[((a_plane + c) * params.h + u32(hi)) * params.w + u32(wi)];
                }
            }
            a_tile[jj * TILE + a_mm] = v;
        }
        // B slice: 16 j × 64 k.
        if (vec_weights && full_slice) {
            // Interior: each invocation loads 4 consecutive j of one filter as one vec4.
            let kk = lid / 4u;
            let q4 = lid % 4u;
            let v = w[((k_base + k0 + kk) * crs + j0) / 4u + q4];
            b_tile[(4u * q4) * TILE + kk] = v.x;
            b_tile[(4u * q4 + 1u) * TILE + kk] = v.y;
            b_tile[(4u * q4 + 2u) * TILE + kk] = v.z;
            b_tile[(4u * q4 + 3u) * TILE + kk] = v.w;
        } else {
            // Edge: neighbouring invocations read neighbouring j of one filter, checked.
            for (var t = 0u; t < 4u; t++) {
                let e = lid + WORKGROUP_SIZE * t;
                let jj = e % SLICE;
                let kk = e / SLICE;
                let j = j0 + jj;
                let k = k0 + kk;
                var v = 0.0;
                if (j < crs && k < kg && g < params.conv_groups) {
                    v = weight((k_base + k) * crs + j);
                }
                b_tile[jj * TILE + kk] = v;
            }
        }
        multiply_slice(&acc, tx, ty);
    }

    if (g >= params.conv_groups) {
        return;
    }
    store_tile(&acc, m0 + tx, k0 + ty, rows, kg, k_base);
}

// Output (m, k) of the group whose filters start at k_base: z = its sum + the bias, y = activate(z).
fn store_output(m: u32, k: u32, k_base: u32, sum: f32) {
    let pq = params.p * params.q;
    let o = (m / pq) * params.k * pq + m % pq + (k_base + k) * pq;
    let zv = sum + bias(k_base + k);
    if (params.write_z == 1u) {
        z[o] = zv;
    }
    y[o] = activate(zv);
}
