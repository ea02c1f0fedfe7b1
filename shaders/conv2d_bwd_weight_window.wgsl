// conv2d_bwd_weight_window.wgsl — weight and bias gradients with a whole R×S window of sums per
// invocation (the window version: for adapters that run invocations on CPU cores, where the
// simple version's one load of dz per term and weight is most of the time).
// conv2d_bwd_weight_reduce.wgsl then adds the splits, as for the tiled version.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, WINDOW_TAPS (the most R·S it holds),
// BIAS_COLUMNS (1 with a bias, 0 without), the ConvParams struct generated from `gpu::params::ConvParams`, common/grid.wgsl,
// common/padding.wgsl.
//
// Bindings (group 0):
//   0  params   uniform             ConvParams
//   1  x        storage, read       input (N, C, H, W)
//   2  dz       storage, read       dL/dz (N, K, P, Q)
//   3  partial  storage, read_write (splits, K, (C/G)·R·S + 1 with a bias, + 0 without):
//                                   each split's sums, overwritten
//
// Invocation i = (split·K + k)·(C/G) + c' sums, for every tap (r, s) of filter k's channel c' at once, dw[k, c', r, s] = Σ dz[n, k, p, q] ·
// x[n, g·C/G + c', src(p·sh + r·dh − top), src(q·sw + s·dw − left)] over the output rows
// (n, p) of its split (rows split·chunk …, chunk = ⌈N·P / splits⌉) and every q, in (n, p, q)
// order: each dz is read once for the R·S taps. The host sizes the splits so that an
// invocation runs fewer than 65,535 loop iterations (`grids::window_splits`): llvmpipe ends
// every loop of an invocation past that many in all, and the sums would come out short.
// With a bias, invocation c' = 0 also sums dz into the split's column (C/G)·R·S (db[k]).
// A layer without padding reads every tap inside the image and skips the checks.
// Deterministic: fixed ranges and orders, no atomics.
//
// CPU twin: `cpu::conv2d_bwd_weight`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

var<private> acc: array<f32, WINDOW_TAPS>;

// acc[(r, s)] += d · the taps of position (p, q) in the input plane at `plane`, none outside.
fn add_taps_unpadded(d: f32, plane: u32, p: u32, q: u32) {
    let corner = plane + (p * params.stride_h) * params.w + q * params.stride_w;
    for (var r = 0u; r < params.r; r++) {
        let row = corner + r * params.dilation_h * params.w;
        for (var s = 0u; s < params.s; s++) {
            acc[r * params.s + s] += d * x[row + s * params.dilation_w];
        }
    }
}

// The same where the window can reach into the padding (`padded_source`; zeros add nothing).
fn add_taps_padded(d: f32, plane: u32, p: u32, q: u32) {
    for (var r = 0u; r < params.r; r++) {
        let hp = i32(p * params.stride_h + r * params.dilation_h) - i32(params.pad_top);
        let hi = padded_source(hp, i32(params.h), params.pad_mode);
        for (var s = 0u; s < params.s; s++) {
            let wp = i32(q * params.stride_w + s * params.dilation_w) - i32(params.pad_left);
            let wi = padded_source(wp, i32(params.w), params.pad_mode);
            if (hi >= 0 && wi >= 0) {
                acc[r * params.s + s] += d * x[plane + u32(hi) * params.w + u32(wi)];
            }
        }
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let cg = params.c / params.conv_groups;
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.splits * params.k * cg) {
        return;
    }
    let ci = i % cg;
    let k = (i / cg) % params.k;
    let split = i / (cg * params.k);
    let c = (k / (params.k / params.conv_groups)) * cg + ci;
    let taps = params.r * params.s;
    for (var t = 0u; t < taps; t++) {
        acc[t] = 0.0;
    }
    var bias_acc = 0.0;
    let unpadded = params.pad_top + params.pad_bottom + params.pad_left + params.pad_right == 0u;
    let rows = params.n * params.p;
    let chunk = (rows + params.splits - 1u) / params.splits;
    let end = min(rows, (split + 1u) * chunk);
    for (var row = split * chunk; row < end; row++) {
        let n = row / params.p;
        let p = row % params.p;
        let plane = (n * params.c + c) * params.h * params.w;
        let at = ((n * params.k + k) * params.p + p) * params.q;
        for (var q = 0u; q < params.q; q++) {
            let d = dz[at + q];
            bias_acc += d;
            if (unpadded) {
                add_taps_unpadded(d, plane, p, q);
            } else {
                add_taps_padded(d, plane, p, q);
            }
        }
    }
    let cols = cg * taps + BIAS_COLUMNS;
    let out = (split * params.k + k) * cols;
    for (var t = 0u; t < taps; t++) {
        partial[out + ci * taps + t] = acc[t];
    }
    if (BIAS_COLUMNS == 1u && ci == 0u) {
        partial[out + cg * taps] = bias_acc;
    }
}
