// conv2d_bwd_input_window.wgsl — the input gradient, a block of four channels × four pixels of
// a row per invocation (the window version: for adapters that run invocations on CPU cores,
// where loads cost more than the products). Each dz read serves four channels and each weight
// four pixels; the channels are the workgroup's, so their weight reads have the same address
// in every invocation.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, CHANNEL_BLOCK, the ConvParams struct
// generated from `gpu::params::ConvParams`, common/grid.wgsl, common/block_sums.wgsl (the
// block's sums).
//
// Bindings (group 0): as conv2d_bwd_input.wgsl
//   0  params  uniform             ConvParams
//   1  w       storage, read       weights (K, C/G, R, S), as used by the forward pass
//   2  dz      storage, read       dL/dz (N, K, P, Q)
//   3  dx      storage, read_write dL/dx (N, C, H, W), overwritten
//
// Workgroup (g·⌈(C/G)/4⌉ + cb)·chunks + chunk owns channels c0 … c0 + 3 of group g
// (c0 = g·C/G + 4·cb; those < (g + 1)·C/G); its invocation lid computes, for each,
// dx[n, c, h, w0 … w0 + 3] (those < W) at index chunk·WORKGROUP_SIZE + lid =
// (n·H + h)·⌈W/4⌉ + w0/4. Each element is the simple version's sum, in its order:
// dz[n, k, p, q] · w[k, c', r, s] over the filters k of group g, then r, then s, a tap whose
// p = (h + top − r·dh)/sh or q = (w + left − s·dw)/sw is not whole or not inside the output
// skipped; so the bits are the simple version's. With a padding mode other than zeros the host
// runs it on the padded input, as the simple version.
//
// CPU twin: `cpu::conv2d_bwd_input`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// The output column q that tap s of input column `col` reads, or -1 where none does.
fn output_column(col: u32, s: u32) -> i32 {
    let pw = i32(col + params.pad_left) - i32(s * params.dilation_w);
    if (pw < 0 || pw % i32(params.stride_w) != 0) {
        return -1;
    }
    let q = pw / i32(params.stride_w);
    return select(-1, q, q < i32(params.q));
}

// dz[row + q], or 0 where q is -1.
fn read_dz(row: u32, q: i32) -> f32 {
    return select(0.0, dz[row + u32(max(q, 0))], q >= 0);
}

// Stores channel c's four sums (those < W) at element index `at`.
fn store(at: u32, w0: u32, sums: vec4<f32>) {
    for (var j = 0u; j < min(4u, params.w - w0); j++) {
        dx[at + j] = sums[j];
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let blocks = (params.w + 3u) / 4u;
    let rows = params.n * params.h * blocks;
    let chunks = (rows + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
    let cg = params.c / params.conv_groups;
    let kg = params.k / params.conv_groups;
    let cblocks = (cg + CHANNEL_BLOCK - 1u) / CHANNEL_BLOCK;
    let group = flat_workgroup(wid, params.groups_x, params.groups_y);
    let cb = group / chunks;
    let i = (group % chunks) * WORKGROUP_SIZE + lid;
    if (cb >= params.conv_groups * cblocks || i >= rows) {
        return;
    }
    let g = cb / cblocks;
    let ci0 = (cb % cblocks) * CHANNEL_BLOCK;
    // The block's last channel, counted from ci0.
    let last = min(CHANNEL_BLOCK, cg - ci0) - 1u;
    let w0 = (i % blocks) * 4u;
    let h = (i / blocks) % params.h;
    let n = i / (blocks * params.h);
    let plane = params.r * params.s;
    acc0 = vec4<f32>(0.0);
    acc1 = vec4<f32>(0.0);
    acc2 = vec4<f32>(0.0);
    acc3 = vec4<f32>(0.0);
    for (var k = g * kg; k < (g + 1u) * kg; k++) {
        for (var r = 0u; r < params.r; r++) {
            let ph = i32(h + params.pad_top) - i32(r * params.dilation_h);
            if (ph < 0 || ph % i32(params.stride_h) != 0) {
                continue;
            }
            let p = u32(ph) / params.stride_h;
            if (p >= params.p) {
                continue;
            }
            let row = ((n * params.k + k) * params.p + p) * params.q;
            let w_row = ((k * cg + ci0) * params.r + r) * params.s;
            for (var s = 0u; s < params.s; s++) {
                let cols = vec4<i32>(
                    output_column(w0, s),
                    output_column(w0 + 1u, s),
                    output_column(w0 + 2u, s),
                    output_column(w0 + 3u, s),
                );
                let dv = vec4<f32>(
                    read_dz(row, cols.x),
                    read_dz(row, cols.y),
                    read_dz(row, cols.z),
                    read_dz(row, cols.w),
                );
                add_block_tap(dv, w_row + s, plane, last, cols >= vec4<i32>(0));
            }
        }
    }
    let hw = params.h * params.w;
    let at = ((n * params.c + g * cg + ci0) * params.h + h) * params.w + w0;
    store(at, w0, acc0);
    if (last >= 1u) {
        store(at + hw, w0, acc1);
    }
    if (last >= 2u) {
        store(at + 2u * hw, w0, acc2);
    }
    if (last >= 3u) {
        store(at + 3u * hw, w0, acc3);
    }
}
