// max_pool2d_bwd.wgsl — the input gradient of max pooling: each input pixel receives the dL/dy
// of every window whose maximum it was (none elsewhere).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the PoolParams struct generated from
// `gpu::params::PoolParams`, common/grid.wgsl.
//
// Bindings (group 0):
//   0  params  uniform             PoolParams
//   1  dy      storage, read       dL/dy (N, C, P, Q)
//   2  argmax  storage, read       u32 (N, C, P, Q) from max_pool2d_fwd.wgsl
//   3  dx      storage, read_write dL/dx (N, C, H, W), overwritten
//
// One invocation per input (n, c, h, w) gathers, in (p, q) order, the windows that hold it:
// p from ⌈(h + ph − kh + 1)/sh⌉ to ⌊(h + ph)/sh⌋ within 0 … P − 1, q likewise. Deterministic: no
// atomics, the same order every run (the order PyTorch's CPU kernel adds them in).
//
// CPU twin: `cpu::max_pool2d_bwd`.

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// The windows along one axis that hold pixel `i`: [first, last] of 0 … count − 1.
fn windows(i: u32, pad: u32, kernel: u32, stride: u32, count: u32) -> vec2<i32> {
    let top = i32(i + pad);
    let first = max(top - i32(kernel) + i32(stride), 0) / i32(stride);
    let last = min(top / i32(stride), i32(count) - 1);
    return vec2<i32>(first, last);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.n * params.c * params.h * params.w) {
        return;
    }
    let w = i % params.w;
    let h = (i / params.w) % params.h;
    let plane = i / (params.w * params.h);
    let at = h * params.w + w;
    let ps = windows(h, params.pad_h, params.kernel_h, params.stride_h, params.p);
    let qs = windows(w, params.pad_w, params.kernel_w, params.stride_w, params.q);
    var acc = 0.0;
    for (var p = ps.x; p <= ps.y; p++) {
        for (var q = qs.x; q <= qs.y; q++) {
            let o = (plane * params.p + u32(p)) * params.q + u32(q);
            if (argmax[o] == at) {
                acc += dy[o];
            }
        }
    }
    dx[i] = acc;
}
