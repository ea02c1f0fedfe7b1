// max_pool2d_fwd.wgsl — max pooling, as torch.nn.MaxPool2d(kernel, stride, padding): each output
// is the largest input of its window; the first maximum wins a tie, and a NaN wins (the last
// NaN of the window, as PyTorch's CPU kernel). Padding is never picked.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the PoolParams struct generated from
// `gpu::params::PoolParams`, common/grid.wgsl, common/nan.wgsl.
//
// Bindings (group 0):
//   0  params   uniform             PoolParams
//   1  x        storage, read       input (N, C, H, W)
//   2  y        storage, read_write output (N, C, P, Q), P = ⌊(H + 2·pad_h − kernel_h)/stride_h⌋ + 1
//   3  argmax   storage, read_write u32 (N, C, P, Q): the winner's h·W + w in its plane, written
//                                   only when params.save_index == 1 (for the backward)
//
// One invocation per output (n, c, p, q), window rows p·sh − ph … + kh − 1 clipped to the
// image, scanned row by row, left to right. The grid is folded (common/grid.wgsl).
//
// CPU twin: `cpu::max_pool2d_fwd`.

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.n * params.c * params.p * params.q) {
        return;
    }
    let q = i % params.q;
    let p = (i / params.q) % params.p;
    let plane = i / (params.q * params.p);
    let h0 = i32(p * params.stride_h) - i32(params.pad_h);
    let w0 = i32(q * params.stride_w) - i32(params.pad_w);
    let h_lo = u32(max(h0, 0));
    let w_lo = u32(max(w0, 0));
    let h_hi = u32(min(h0 + i32(params.kernel_h), i32(params.h)));
    let w_hi = u32(min(w0 + i32(params.kernel_w), i32(params.w)));
    // The window's first pixel, then the others in order: the same winner as starting from −∞
    // (a window holds at least one pixel: padding is at most half the kernel). WGSL has no −∞
    // constant (a constant expression may not evaluate to an infinity).
    let x_plane = plane * params.h * params.w;
    var best_at = h_lo * params.w + w_lo;
    var best = x[x_plane + best_at];
    for (var h = h_lo; h < h_hi; h++) {
        for (var w = w_lo; w < w_hi; w++) {
            let at = h * params.w + w;
            let v = x[x_plane + at];
            if (v > best || (is_nan(v) && at != best_at)) {
                best = v;
                best_at = at;
            }
        }
    }
    y[i] = best;
    if (params.save_index == 1u) {
        argmax[i] = best_at;
    }
}
