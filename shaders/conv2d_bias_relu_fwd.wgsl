// conv2d_bias_relu_fwd.wgsl — fused convolution + bias + ReLU, forward (the simple version).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct generated from
// `gpu::params::ConvParams`, common/grid.wgsl, common/padding.wgsl, common/activation.wgsl, and common/bias_read.wgsl
// (or common/no_bias.wgsl for a layer without bias).
//
// Bindings (group 0):
//   0  params  uniform            ConvParams
//   1  x       storage, read      input          (N, C, H, W) f32
//   2  w       storage, read      weights        (K, C/G, R, S) f32
//   3  y       storage, read_write output         (N, K, P, Q) f32, y = ReLU(z) (NaN kept) or z (params.relu)
//   4  z       storage, read_write pre-activation (N, K, P, Q) f32, written only if write_z == 1
//   5  b       storage, read      bias           (K) f32 (common/bias_read.wgsl; absent without)
//
// One invocation computes one output element (n, k, p, q), at the flat index
// i = ((n·K + k)·P + p)·Q + q, so neighbouring invocations read neighbouring x. Filter k of
// group g = k / (K/G) reads input channels g·C/G .. (g+1)·C/G; tap (r, s) reads padded position
// (p·sh + r·dh − top, q·sw + s·dw − left), through `padded_source`.
// The grid is folded (common/grid.wgsl); invocations past the last output return.
// No workgroup memory, no barriers.
//
// CPU twin: `cpu::conv2d_bias_relu_fwd`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> z: array<f32>;

// acc plus the window's products in (c', r, s) order, zero padding: a tap outside the image
// is skipped. Kept apart from `add_window_padded` so that the common case's loop holds no
// padding-mode branch (on lavapipe that branch alone made this kernel 35 % slower).
fn add_window_zeros(acc0: f32, x_plane0: u32, w_plane0: u32, cg: u32, h0: i32, w0: i32) -> f32 {
    var acc = acc0;
    for (var ci = 0u; ci < cg; ci++) {
        let x_plane = (x_plane0 + ci) * params.h;
        let w_plane = (w_plane0 + ci) * params.r;
        var hi = h0;
        for (var r = 0u; r < params.r; r++) {
            if (hi >= 0 && hi < i32(params.h)) {
                let x_row = (x_plane + u32(hi)) * params.w;
                let w_row = (w_plane + r) * params.s;
                var wi = w0;
                for (var s = 0u; s < params.s; s++) {
                    if (wi >= 0 && wi < i32(params.w)) {
                        acc += w[w_row + s] * x[x_row + u32(wi)];
                    }
                    wi += i32(params.dilation_w);
                }
            }
            hi += i32(params.dilation_h);
        }
    }
    return acc;
}

// The same sum where the padding copies pixels (reflect, replicate, circular): each tap reads
// the pixel `padded_source` names.
fn add_window_padded(acc0: f32, x_plane0: u32, w_plane0: u32, cg: u32, h0: i32, w0: i32) -> f32 {
    var acc = acc0;
    for (var ci = 0u; ci < cg; ci++) {
        let x_plane = (x_plane0 + ci) * params.h;
        let w_plane = (w_plane0 + ci) * params.r;
        for (var r = 0u; r < params.r; r++) {
            let hp = h0 + i32(r * params.dilation_h);
            let hi = padded_source(hp, i32(params.h), params.pad_mode);
            let x_row = (x_plane + u32(hi)) * params.w;
            let w_row = (w_plane + r) * params.s;
            for (var s = 0u; s < params.s; s++) {
                let wp = w0 + i32(s * params.dilation_w);
                let wi = padded_source(wp, i32(params.w), params.pad_mode);
                acc += w[w_row + s] * x[x_row + u32(wi)];
            }
        }
    }
    return acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.n * params.k * params.p * params.q) {
        return;
    }
    let q = i % params.q;
    let p = (i / params.q) % params.p;
    let k = (i / (params.q * params.p)) % params.k;
    let n = i / (params.q * params.p * params.k);
    let cg = params.c / params.conv_groups;
    let c0 = (k / (params.k / params.conv_groups)) * cg;

    // Top-left corner of the window in input coordinates; negative inside the padding.
    let h0 = i32(p * params.stride_h) - i32(params.pad_top);
    let w0 = i32(q * params.stride_w) - i32(params.pad_left);
    let x_plane = n * params.c + c0;
    var acc: f32;
    if (params.pad_mode == 0u) {
        acc = add_window_zeros(bias(k), x_plane, k * cg, cg, h0, w0);
    } else {
        acc = add_window_padded(bias(k), x_plane, k * cg, cg, h0, w0);
    }
    if (params.write_z == 1u) {
        z[i] = acc;
    }
    y[i] = activate(acc);
}
