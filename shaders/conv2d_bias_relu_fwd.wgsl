// conv2d_bias_relu_fwd.wgsl — fused convolution + bias + ReLU, forward (the simple version).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct generated from
// `gpu::params::ConvParams`, common/grid.wgsl, common/padding.wgsl, and common/bias_read.wgsl
// (or common/no_bias.wgsl for a layer without bias).
//
// Bindings (group 0):
//   0  params  uniform            ConvParams
//   1  x       storage, read      input          (N, C, H, W) f32
//   2  w       storage, read      weights        (K, C/G, R, S) f32
//   3  y       storage, read_write output         (N, K, P, Q) f32, y = max(0, z)
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
    let h = i32(params.h);
    let wd = i32(params.w);

    var acc = bias(k);
    for (var ci = 0u; ci < cg; ci++) {
        let x_plane = (n * params.c + c0 + ci) * params.h;
        let w_plane = (k * cg + ci) * params.r;
        for (var r = 0u; r < params.r; r++) {
            let hi = padded_source(h0 + i32(r * params.dilation_h), h, params.pad_mode);
            if (hi < 0) {
                continue; // a zero-padding row
            }
            let x_row = (x_plane + u32(hi)) * params.w;
            let w_row = (w_plane + r) * params.s;
            for (var s = 0u; s < params.s; s++) {
                let wi = padded_source(w0 + i32(s * params.dilation_w), wd, params.pad_mode);
                if (wi < 0) {
                    continue; // a zero-padding column
                }
                acc += w[w_row + s] * x[x_row + u32(wi)];
            }
        }
    }
    if (params.write_z == 1u) {
        z[i] = acc;
    }
    y[i] = max(acc, 0.0);
}
