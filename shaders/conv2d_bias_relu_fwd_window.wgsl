// conv2d_bias_relu_fwd_window.wgsl — fused convolution + bias + ReLU, forward, four outputs of a
// row per invocation (the window version: for adapters that run invocations on CPU cores, where
// loads cost more than the products). Each weight is read once for the four outputs.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct generated from
// `gpu::params::ConvParams`, common/grid.wgsl, common/padding.wgsl, common/nan.wgsl,
// common/activation.wgsl, and common/bias_read.wgsl (or common/no_bias.wgsl).
//
// Bindings (group 0):
//   0  params  uniform            ConvParams
//   1  x       storage, read      input          (N, C, H, W) f32
//   2  w       storage, read      weights        (K, C/G, R, S) f32
//   3  y       storage, read_write output         (N, K, P, Q) f32, y = ReLU(z) (NaN kept) or z (params.relu)
//   4  z       storage, read_write pre-activation (N, K, P, Q) f32, written only if write_z == 1
//   5  b       storage, read      bias           (K) f32 (common/bias_read.wgsl; absent without)
//
// Invocation i = ((n·K + k)·P + p)·⌈Q/4⌉ + q0/4 computes y[n, k, p, q0 … q0 + 3] (those < Q).
// Each output's sum is the simple version's, in the same order: the bias, then the window's
// products in (c', r, s) order, a tap in zero padding skipped; so the bits are the simple
// version's. A layer without padding reads every tap without checks (a read past the row of
// an output ≥ Q is never stored).
//
// CPU twin: `cpu::conv2d_bias_relu_fwd`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> z: array<f32>;

var<private> acc: array<f32, 4>;

// acc[j] plus the taps of outputs (p, q0 + j), every tap inside the image.
fn add_windows_unpadded(x_plane0: u32, w_plane0: u32, cg: u32, p: u32, q0: u32) {
    let step = params.stride_w;
    for (var ci = 0u; ci < cg; ci++) {
        let x_plane = (x_plane0 + ci) * params.h;
        let w_plane = (w_plane0 + ci) * params.r;
        for (var r = 0u; r < params.r; r++) {
            let x_row = (x_plane + p * params.stride_h + r * params.dilation_h) * params.w;
            let w_row = (w_plane + r) * params.s;
            for (var s = 0u; s < params.s; s++) {
                let wv = w[w_row + s];
                let at = x_row + q0 * step + s * params.dilation_w;
                acc[0] += wv * x[at];
                acc[1] += wv * x[at + step];
                acc[2] += wv * x[at + 2u * step];
                acc[3] += wv * x[at + 3u * step];
            }
        }
    }
}

// The x a tap of output column q reads at padded row hp (zeros: -1 where it reads padding).
fn source_column(q: u32, s: u32) -> i32 {
    let wp = i32(q * params.stride_w + s * params.dilation_w) - i32(params.pad_left);
    return padded_source(wp, i32(params.w), params.pad_mode);
}

// The same sums where the window can reach into the padding (`padded_source`; a zero-padding
// tap is skipped, as the simple version skips it).
fn add_windows_padded(x_plane0: u32, w_plane0: u32, cg: u32, p: u32, q0: u32) {
    for (var ci = 0u; ci < cg; ci++) {
        let x_plane = (x_plane0 + ci) * params.h;
        let w_plane = (w_plane0 + ci) * params.r;
        for (var r = 0u; r < params.r; r++) {
            let hp = i32(p * params.stride_h + r * params.dilation_h) - i32(params.pad_top);
            let hi = padded_source(hp, i32(params.h), params.pad_mode);
            if (hi < 0) {
                continue;
            }
            let x_row = (x_plane + u32(hi)) * params.w;
            let w_row = (w_plane + r) * params.s;
            for (var s = 0u; s < params.s; s++) {
                let wv = w[w_row + s];
                for (var j = 0u; j < 4u; j++) {
                    let wi = source_column(q0 + j, s);
                    if (wi >= 0) {
                        acc[j] += wv * x[x_row + u32(wi)];
                    }
                }
            }
        }
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let blocks = (params.q + 3u) / 4u;
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.n * params.k * params.p * blocks) {
        return;
    }
    let q0 = (i % blocks) * 4u;
    let p = (i / blocks) % params.p;
    let k = (i / (blocks * params.p)) % params.k;
    let n = i / (blocks * params.p * params.k);
    let cg = params.c / params.conv_groups;
    let c0 = (k / (params.k / params.conv_groups)) * cg;
    let b = bias(k);
    acc = array<f32, 4>(b, b, b, b);
    let x_plane = n * params.c + c0;
    if (params.pad_top + params.pad_bottom + params.pad_left + params.pad_right == 0u) {
        add_windows_unpadded(x_plane, k * cg, cg, p, q0);
    } else {
        add_windows_padded(x_plane, k * cg, cg, p, q0);
    }
    let out = ((n * params.k + k) * params.p + p) * params.q + q0;
    for (var j = 0u; j < min(4u, params.q - q0); j++) {
        if (params.write_z == 1u) {
            z[out + j] = acc[j];
        }
        y[out + j] = activate(acc[j]);
    }
}
