// conv2d_bias_relu_fwd_tiled.wgsl — fused convolution + bias + ReLU as an implicit GEMM with
// workgroup-memory tiles and register blocking (the fast version; the simple one is
// conv2d_bias_relu_fwd.wgsl).
//
// Bindings (group 0): as conv2d_bias_relu_fwd.wgsl
//   0  params  uniform            ConvParams (mirrors `gpu::params::ConvParams`)
//   1  x       storage, read      input          (N, C, H, W) f32
//   2  w       storage, read      weights        (K, C, R, S) f32, read as vec4 (the host pads the
//                                 buffer to a multiple of 16 bytes)
//   3  b       storage, read      bias           (K) f32
//   4  y       storage, read_write output         (N, K, P, Q) f32, y = max(0, z)
//   5  z       storage, read_write pre-activation (N, K, P, Q) f32, written only if write_z == 1
//
// The GEMM: rows m = (n, p, q) over N·P·Q, columns k over K, reduction j = (c, r, s) over C·R·S;
// A[m, j] = x[n, c, p·sh + r − ph, q·sw + s − pw] (0 in the padding), B[j, k] = w[k, c, r, s].
// A workgroup of 16×16 invocations owns a 64×64 tile of (m, k) and walks j in slices of 16,
// staging A and B slices in workgroup memory. Invocation (tx, ty) accumulates the 4×4 outputs
// m = m0 + tx + 16·i, k = k0 + ty + 16·jj in four vec4 registers, so neighbouring invocations
// store neighbouring m (coalesced along q). Tiles are flattened and folded over y/z of the grid.
// Tiles wholly inside the GEMM (all 64 rows and filters, all 16 j of the slice) load without
// bounds checks (only the zero padding of the image is tested), and read the weights as one
// vec4 per invocation when C·R·S is a multiple of 4; edge tiles check every index.
// Each output sums its C·R·S products in j order, then adds the bias: the same bound as the
// simple kernel. Barriers are in uniform control flow (the branches and the j loop's bound
// depend only on the workgroup and the uniforms).
//
// CPU twin: `cpu::conv2d_bias_relu_fwd`.

struct ConvParams {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    k: u32,
    r: u32,
    s: u32,
    p: u32,
    q: u32,
    stride_h: u32,
    stride_w: u32,
    pad_h: u32,
    pad_w: u32,
    write_z: u32,
    groups_x: u32,
    groups_y: u32,
    splits: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

const TILE_M: u32 = 64u;
const TILE_K: u32 = 64u;
const SLICE: u32 = 16u;

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> z: array<f32>;

// a_tile[jj * TILE_M + mm], b_tile[jj * TILE_K + kk]
var<workgroup> a_tile: array<f32, 1024>;
var<workgroup> b_tile: array<f32, 1024>;

fn weight(i: u32) -> f32 {
    return w[i >> 2u][i & 3u];
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let pq = params.p * params.q;
    let rows = params.n * pq;
    let crs = params.c * params.r * params.s;
    let rs = params.r * params.s;
    let tiles_m = (rows + TILE_M - 1u) / TILE_M;
    let tile = wid.x + params.groups_x * (wid.y + params.groups_y * wid.z);
    let m0 = (tile % tiles_m) * TILE_M;
    let k0 = (tile / tiles_m) * TILE_K;
    let tx = local.x;
    let ty = local.y;
    let full_tile = m0 + TILE_M <= rows && k0 + TILE_K <= params.k;
    let vec_weights = full_tile && crs % 4u == 0u;

    // The A row this invocation loads is fixed: mm = lid % 64 for all four of its loads.
    let a_mm = lid % TILE_M;
    let a_m = m0 + a_mm;
    let a_valid = a_m < rows && k0 < params.k;
    let a_n = a_m / pq;
    let a_pq = a_m % pq;
    let a_h0 = i32((a_pq / params.q) * params.stride_h) - i32(params.pad_h);
    let a_w0 = i32((a_pq % params.q) * params.stride_w) - i32(params.pad_w);
    let a_plane = a_n * params.c;

    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

    for (var j0 = 0u; j0 < crs; j0 += SLICE) {
        let full_slice = j0 + SLICE <= crs;
        // A slice: 16 j × 64 m; invocation lid loads j = j0 + lid/64 + 4t, m = a_m.
        for (var t = 0u; t < 4u; t++) {
            let jj = lid / TILE_M + 4u * t;
            let j = j0 + jj;
            var v = 0.0;
            if ((full_tile && full_slice) || (a_valid && j < crs)) {
                let c = j / rs;
                let r = (j % rs) / params.s;
                let s = j % params.s;
                let hi = a_h0 + i32(r);
                let wi = a_w0 + i32(s);
                if (hi >= 0 && hi < i32(params.h) && wi >= 0 && wi < i32(params.w)) {
                    v = x[((a_plane + c) * params.h + u32(hi)) * params.w + u32(wi)];
                }
            }
            a_tile[jj * TILE_M + a_mm] = v;
        }
        // B slice: 16 j × 64 k.
        if (vec_weights && full_slice) {
            // Interior: each invocation loads 4 consecutive j of one filter as one vec4.
            let kk = lid / 4u;
            let q4 = lid % 4u;
            let v = w[((k0 + kk) * crs + j0) / 4u + q4];
            b_tile[(4u * q4) * TILE_K + kk] = v.x;
            b_tile[(4u * q4 + 1u) * TILE_K + kk] = v.y;
            b_tile[(4u * q4 + 2u) * TILE_K + kk] = v.z;
            b_tile[(4u * q4 + 3u) * TILE_K + kk] = v.w;
        } else {
            // Edge: neighbouring invocations read neighbouring j of one filter, checked.
            for (var t = 0u; t < 4u; t++) {
                let e = lid + 256u * t;
                let jj = e % SLICE;
                let kk = e / SLICE;
                let j = j0 + jj;
                let k = k0 + kk;
                var v = 0.0;
                if (j < crs && k < params.k) {
                    v = weight(k * crs + j);
                }
                b_tile[jj * TILE_K + kk] = v;
            }
        }
        workgroupBarrier();
        for (var jj = 0u; jj < SLICE; jj++) {
            let a = jj * TILE_M + tx;
            let bv = vec4<f32>(
                b_tile[jj * TILE_K + ty],
                b_tile[jj * TILE_K + ty + 16u],
                b_tile[jj * TILE_K + ty + 32u],
                b_tile[jj * TILE_K + ty + 48u],
            );
            acc0 += a_tile[a] * bv;
            acc1 += a_tile[a + 16u] * bv;
            acc2 += a_tile[a + 32u] * bv;
            acc3 += a_tile[a + 48u] * bv;
        }
        workgroupBarrier();
    }

    var accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        let m = m0 + tx + 16u * i;
        if (m >= rows) {
            continue;
        }
        let base = (m / pq) * params.k * pq + m % pq;
        for (var jk = 0u; jk < 4u; jk++) {
            let k = k0 + ty + 16u * jk;
            if (k < params.k) {
                let zv = accs[i][jk] + b[k];
                let o = base + k * pq;
                if (params.write_z == 1u) {
                    z[o] = zv;
                }
                y[o] = max(zv, 0.0);
            }
        }
    }
}
