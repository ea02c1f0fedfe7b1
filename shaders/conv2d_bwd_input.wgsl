// conv2d_bwd_input.wgsl — the input gradient (the simple version).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct generated from
// `gpu::params::ConvParams`, common/grid.wgsl, common/input_element.wgsl.
//
// Bindings (group 0):
//   0  params  uniform             ConvParams
//   1  w       storage, read       weights (K, C/G, R, S), as used by the forward pass
//   2  dz      storage, read       dL/dz (N, K, P, Q)
//   3  dx      storage, read_write dL/dx (N, C, H, W), overwritten
//
// One invocation computes one element dx[n,c,h,w] = Σ dz[n,k,p,q] · w[k,c',r,s] over the filters
// k of c's group g (c = g·C/G + c') and every (r, s) whose window position
// p = (h + top − r·dh)/sh, q = (w + left − s·dw)/sw is whole and inside the output. The grid is
// folded (common/grid.wgsl). Deterministic: each invocation sums in the same order every run.
// With a padding mode other than zeros the host runs it on the padded input (H and W padded,
// top = left = 0) and conv2d_bwd_input_fold.wgsl adds each padded position into the pixel it
// copies.
//
// CPU twin: `cpu::conv2d_bwd_input`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let e = input_element(wid, lid);
    if (!e.inside) {
        return;
    }
    let c = e.plane % params.c;
    let n = e.plane / params.c;
    let cg = params.c / params.conv_groups;
    let kg = params.k / params.conv_groups;
    let g = c / cg;
    let ci = c % cg;
    var acc = 0.0;
    for (var k = g * kg; k < (g + 1u) * kg; k++) {
        for (var r = 0u; r < params.r; r++) {
            let ph = i32(e.h + params.pad_top) - i32(r * params.dilation_h);
            if (ph < 0 || ph % i32(params.stride_h) != 0) {
                continue;
            }
            let p = u32(ph) / params.stride_h;
            if (p >= params.p) {
                continue;
            }
            for (var s = 0u; s < params.s; s++) {
                let pw = i32(e.w + params.pad_left) - i32(s * params.dilation_w);
                if (pw < 0 || pw % i32(params.stride_w) != 0) {
                    continue;
                }
                let q = u32(pw) / params.stride_w;
                if (q >= params.q) {
                    continue;
                }
                acc += dz[((n * params.k + k) * params.p + p) * params.q + q]
                    * w[((k * cg + ci) * params.r + r) * params.s + s];
            }
        }
    }
    dx[e.index] = acc;
}
