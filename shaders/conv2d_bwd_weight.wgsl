// conv2d_bwd_weight.wgsl — weight and bias gradients in one reduction (the simple version).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct generated from
// `gpu::params::ConvParams`, common/grid.wgsl, common/reduce.wgsl, common/padding.wgsl,
// common/weight_tap.wgsl, and common/bias_grad.wgsl (or common/no_bias.wgsl for a layer without
// bias).
//
// Bindings (group 0):
//   0  params  uniform             ConvParams
//   1  x       storage, read       input (N, C, H, W)
//   2  dz      storage, read       dL/dz (N, K, P, Q)
//   3  dw      storage, read_write dL/dw (K, C/G, R, S), overwritten
//   4  db      storage, read_write dL/db (K), overwritten (common/bias_grad.wgsl; absent without)
//
// One workgroup per gradient element e (folded grid): e < K·(C/G)·R·S is dw[k,c',r,s] =
//   Σ over n,p,q of dz[n,k,p,q] · x[n, g·C/G + c', src(p·sh + r·dh − top), src(q·sw + s·dw − left)]
// (g = k's group, src = `padded_source`; zero padding reads 0); with a bias,
// e = K·(C/G)·R·S + k is db[k] = Σ over n,p,q of dz[n,k,p,q].
// Invocation j sums the terms j, j + 64, ... of the N·P·Q sum in order (walking (n, p, q) by
// adds, common/weight_tap.wgsl's term_after); the workgroup adds the
// 64 partial sums in a fixed tree (common/reduce.wgsl). Deterministic: no atomics, the same order
// every run.
//
// CPU twin: `cpu::conv2d_bwd_weight`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let e = flat_workgroup(wid, params.groups_x, params.groups_y);
    let cg = params.c / params.conv_groups;
    let weights = params.k * cg * params.r * params.s;
    let biases = select(0u, params.k, HAS_BIAS);
    let terms = params.n * params.p * params.q;
    let step = term_of(WORKGROUP_SIZE);
    var acc = 0.0;
    if (e < weights) {
        let s = e % params.s;
        let r = (e / params.s) % params.r;
        let ci = (e / (params.s * params.r)) % cg;
        let k = e / (params.s * params.r * cg);
        let c = (k / (params.k / params.conv_groups)) * cg + ci;
        var t = term_of(lid);
        for (var j = lid; j < terms; j += WORKGROUP_SIZE) {
            let tap = weight_tap_at(t, k, c, r, s);
            if (tap.inside) {
                acc += dz[tap.dz] * x[tap.x];
            }
            t = term_after(t, step);
        }
    } else if (e < weights + biases) {
        let k = e - weights;
        var t = term_of(lid);
        for (var j = lid; j < terms; j += WORKGROUP_SIZE) {
            acc += dz[((t.n * params.k + k) * params.p + t.p) * params.q + t.q];
            t = term_after(t, step);
        }
    }
    let sum = tree_sum(acc, lid, lid, WORKGROUP_SIZE);
    if (lid == 0u) {
        if (e < weights) {
            dw[e] = sum;
        } else if (e < weights + biases) {
            store_db(e - weights, sum);
        }
    }
}
