// conv2d_bias_relu_fwd.wgsl — fused convolution + bias + ReLU, forward (the simple version).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct generated from
// `gpu::params::ConvParams`, common/grid.wgsl.
//
// Bindings (group 0):
//   0  params  uniform            ConvParams
//   1  x       storage, read      input          (N, C, H, W) f32
//   2  w       storage, read      weights        (K, C, R, S) f32
//   3  b       storage, read      bias           (K) f32
//   4  y       storage, read_write output         (N, K, P, Q) f32, y = max(0, z)
//   5  z       storage, read_write pre-activation (N, K, P, Q) f32, written only if write_z == 1
//
// One invocation computes one output element (n, k, p, q), at the flat index
// i = ((n·K + k)·P + p)·Q + q, so neighbouring invocations read neighbouring x.
// The grid is folded (common/grid.wgsl); invocations past the last output return.
// No workgroup memory, no barriers.
//
// CPU twin: `cpu::conv2d_bias_relu_fwd`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> z: array<f32>;

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

    // Top-left corner of the window in input coordinates; negative inside the padding.
    let h0 = i32(p * params.stride_h) - i32(params.pad_h);
    let w0 = i32(q * params.stride_w) - i32(params.pad_w);
    let h = i32(params.h);
    let wd = i32(params.w);

    var acc = b[k];
    for (var c = 0u; c < params.c; c++) {
        let x_plane = (n * params.c + c) * params.h;
        let w_plane = (k * params.c + c) * params.r;
        for (var r = 0u; r < params.r; r++) {
            let hi = h0 + i32(r);
            if (hi < 0 || hi >= h) {
                continue; // a padding row reads 0
            }
            let x_row = (x_plane + u32(hi)) * params.w;
            let w_row = (w_plane + r) * params.s;
            for (var s = 0u; s < params.s; s++) {
                let wi = w0 + i32(s);
                if (wi < 0 || wi >= wd) {
                    continue; // a padding column reads 0
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
