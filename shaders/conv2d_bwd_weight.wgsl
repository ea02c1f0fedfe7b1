// conv2d_bwd_weight.wgsl — weight and bias gradients in one reduction (the simple version).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct generated from
// `gpu::params::ConvParams`, common/grid.wgsl, common/reduce.wgsl.
//
// Bindings (group 0):
//   0  params  uniform             ConvParams
//   1  x       storage, read       input (N, C, H, W)
//   2  dz      storage, read       dL/dz (N, K, P, Q)
//   3  dw      storage, read_write dL/dw (K, C, R, S), overwritten
//   4  db      storage, read_write dL/db (K), overwritten
//
// One workgroup per gradient element e (folded grid): e < K·C·R·S is dw[k,c,r,s] =
//   Σ over n,p,q of dz[n,k,p,q] · x[n, c, p·sh + r − ph, q·sw + s − pw] (padding reads 0);
// e = K·C·R·S + k is db[k] = Σ over n,p,q of dz[n,k,p,q].
// Invocation j sums the terms j, j + 64, ... of the N·P·Q sum in order; the workgroup adds the
// 64 partial sums in a fixed tree (common/reduce.wgsl). Deterministic: no atomics, the same order
// every run.
//
// CPU twin: `cpu::conv2d_bwd_weight`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let e = flat_workgroup(wid, params.groups_x, params.groups_y);
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
    let sum = tree_sum(acc, lid, lid, WORKGROUP_SIZE);
    if (lid == 0u) {
        if (e < weights) {
            dw[e] = sum;
        } else if (e < weights + params.k) {
            db[e - weights] = sum;
        }
    }
}
