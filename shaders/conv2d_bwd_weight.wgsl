// conv2d_bwd_weight.wgsl — weight and bias gradients in one reduction (the simple version).
//
// Bindings (group 0):
//   0  params  uniform             ConvParams (mirrors `gpu::params::ConvParams`)
//   1  x       storage, read       input (N, C, H, W)
//   2  dz      storage, read       dL/dz (N, K, P, Q)
//   3  dw      storage, read_write dL/dw (K, C, R, S), overwritten
//   4  db      storage, read_write dL/db (K), overwritten
//
// One workgroup per gradient element e (folded grid): e < K·C·R·S is dw[k,c,r,s] =
//   Σ over n,p,q of dz[n,k,p,q] · x[n, c, p·sh + r − ph, q·sw + s − pw] (padding reads 0);
// e = K·C·R·S + k is db[k] = Σ over n,p,q of dz[n,k,p,q].
// Invocation j sums the terms j, j + 64, ... of the N·P·Q sum in order; the workgroup adds the
// 64 partial sums in a fixed tree. Deterministic: no atomics, the same order every run.
//
// CPU twin: `cpu::conv2d_bwd_weight`.

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

const WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;

var<workgroup> sums: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let e = wid.x + params.groups_x * (wid.y + params.groups_y * wid.z);
    let weights = params.k * params.c * params.r * params.s;
    let pq = params.p * params.q;
    let terms = params.n * pq;
    var acc = 0.0;
    if (e < weights) {
        let s = e % params.s;
        let r = (e / params.s) % params.r;
        let c = (e / (params.s * params.r)) % params.c;
        let k = e / (params.s * params.r * params.c);
        for (var j = lid; j < terms; j += WORKGROUP_SIZE) {
            let n = j / pq;
            let p = (j / params.q) % params.p;
            let q = j % params.q;
            let hi = i32(p * params.stride_h + r) - i32(params.pad_h);
            let wi = i32(q * params.stride_w + s) - i32(params.pad_w);
            if (hi >= 0 && hi < i32(params.h) && wi >= 0 && wi < i32(params.w)) {
                let xv = x[((n * params.c + c) * params.h + u32(hi)) * params.w + u32(wi)];
                acc += dz[(n * params.k + k) * pq + p * params.q + q] * xv;
            }
        }
    } else if (e < weights + params.k) {
        let k = e - weights;
        for (var j = lid; j < terms; j += WORKGROUP_SIZE) {
            let n = j / pq;
            acc += dz[(n * params.k + k) * pq + j % pq];
        }
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
        if (e < weights) {
            dw[e] = sums[0];
        } else if (e < weights + params.k) {
            db[e - weights] = sums[0];
        }
    }
}
