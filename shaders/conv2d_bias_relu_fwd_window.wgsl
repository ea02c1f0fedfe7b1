// conv2d_bias_relu_fwd_window.wgsl — fused convolution + bias + ReLU, forward, a block of four
// filters × four outputs of a row per invocation (the window version: for adapters that run
// invocations on CPU cores, where loads cost more than the products). Each input read serves
// four filters and each weight four outputs; the filters are the workgroup's, so their weight
// reads have the same address in every invocation (one load, not one per lane).
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, FILTER_BLOCK, the ConvParams struct
// generated from `gpu::params::ConvParams`, common/grid.wgsl, common/padding.wgsl,
// common/nan.wgsl, common/activation.wgsl, common/block_sums.wgsl (the block's sums), and
// common/bias_read.wgsl (or common/no_bias.wgsl).
//
// Bindings (group 0):
//   0  params  uniform            ConvParams
//   1  x       storage, read      input          (N, C, H, W) f32
//   2  w       storage, read      weights        (K, C/G, R, S) f32
//   3  y       storage, read_write output         (N, K, P, Q) f32, y = ReLU(z) (NaN kept) or z (params.relu)
//   4  z       storage, read_write pre-activation (N, K, P, Q) f32, written only if write_z == 1
//   5  b       storage, read      bias           (K) f32 (common/bias_read.wgsl; absent without)
//
// Workgroup (g·⌈(K/G)/4⌉ + kb)·chunks + chunk owns filters k0 … k0 + 3 of group g
// (k0 = g·K/G + 4·kb; those < (g + 1)·K/G); its invocation lid computes, for each,
// y[n, k, p, q0 … q0 + 3] (those < Q) at index chunk·WORKGROUP_SIZE + lid =
// (n·P + p)·⌈Q/4⌉ + q0/4 (chunks: ⌈N·P·⌈Q/4⌉ / WORKGROUP_SIZE⌉). Each output's sum is the simple version's, in the same order: the bias,
// then the window's products in (c', r, s) order, a tap in zero padding skipped; so the bits
// are the simple version's. A layer without padding reads every tap without checks (a read
// past the row of an output ≥ Q is never stored; a filter past the block's last reads the
// last one's weights and is never stored).
//
// CPU twin: `cpu::conv2d_bias_relu_fwd`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> z: array<f32>;

// The taps of outputs (p, q0 + j), every tap inside the image.
fn add_windows_unpadded(x_plane0: u32, w_plane0: u32, cg: u32, last: u32, p: u32, q0: u32) {
    let step = params.stride_w;
    let plane = cg * params.r * params.s;
    let all = vec4<bool>(true);
    for (var ci = 0u; ci < cg; ci++) {
        let x_plane = (x_plane0 + ci) * params.h;
        let w_plane = (w_plane0 + ci) * params.r;
        for (var r = 0u; r < params.r; r++) {
            let x_row = (x_plane + p * params.stride_h + r * params.dilation_h) * params.w;
            let w_row = (w_plane + r) * params.s;
            for (var s = 0u; s < params.s; s++) {
                let at = x_row + q0 * step + s * params.dilation_w;
                let xv = vec4<f32>(x[at], x[at + step], x[at + 2u * step], x[at + 3u * step]);
                add_block_tap(xv, w_row + s, plane, last, all);
            }
        }
    }
}

// The x a tap of output column q reads at padded row hp (zeros: -1 where it reads padding).
fn source_column(q: u32, s: u32) -> i32 {
    let wp = i32(q * params.stride_w + s * params.dilation_w) - i32(params.pad_left);
    return padded_source(wp, i32(params.w), params.pad_mode);
}

// x[row + column], or 0 where the column reads zero padding (-1).
fn read_column(row: u32, column: i32) -> f32 {
    return select(0.0, x[row + u32(max(column, 0))], column >= 0);
}

// The same sums where the window can reach into the padding (`padded_source`; a zero-padding
// tap is skipped, as the simple version skips it).
fn add_windows_padded(x_plane0: u32, w_plane0: u32, cg: u32, last: u32, p: u32, q0: u32) {
    let plane = cg * params.r * params.s;
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
                let cols = vec4<i32>(
                    source_column(q0, s),
                    source_column(q0 + 1u, s),
                    source_column(q0 + 2u, s),
                    source_column(q0 + 3u, s),
                );
                let xv = vec4<f32>(
                    read_column(x_row, cols.x),
                    read_column(x_row, cols.y),
                    read_column(x_row, cols.z),
                    read_column(x_row, cols.w),
                );
                add_block_tap(xv, w_row + s, plane, last, cols >= vec4<i32>(0));
            }
        }
    }
}

// Stores filter k's four sums (those < Q) at output index `out`.
fn store(out: u32, q0: u32, sums: vec4<f32>) {
    for (var j = 0u; j < min(4u, params.q - q0); j++) {
        if (params.write_z == 1u) {
            z[out + j] = sums[j];
        }
        y[out + j] = activate(sums[j]);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let blocks = (params.q + 3u) / 4u;
    let rows = params.n * params.p * blocks;
    let chunks = (rows + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
    let kg = params.k / params.conv_groups;
    let kblocks = (kg + FILTER_BLOCK - 1u) / FILTER_BLOCK;
    let group = flat_workgroup(wid, params.groups_x, params.groups_y);
    let kb = group / chunks;
    let i = (group % chunks) * WORKGROUP_SIZE + lid;
    if (kb >= params.conv_groups * kblocks || i >= rows) {
        return;
    }
    let g = kb / kblocks;
    let k0 = g * kg + (kb % kblocks) * FILTER_BLOCK;
    // The block's last filter, counted from k0.
    let last = min(FILTER_BLOCK, (g + 1u) * kg - k0) - 1u;
    let q0 = (i % blocks) * 4u;
    let p = (i / blocks) % params.p;
    let n = i / (blocks * params.p);
    let cg = params.c / params.conv_groups;
    acc0 = vec4<f32>(bias(k0));
    acc1 = vec4<f32>(bias(k0 + min(1u, last)));
    acc2 = vec4<f32>(bias(k0 + min(2u, last)));
    acc3 = vec4<f32>(bias(k0 + min(3u, last)));
    let x_plane = n * params.c + g * cg;
    if (params.pad_top + params.pad_bottom + params.pad_left + params.pad_right == 0u) {
        add_windows_unpadded(x_plane, k0 * cg, cg, last, p, q0);
    } else {
        add_windows_padded(x_plane, k0 * cg, cg, last, p, q0);
    }
    let pq = params.p * params.q;
    let out = ((n * params.k + k0) * params.p + p) * params.q + q0;
    store(out, q0, acc0);
    if (last >= 1u) {
        store(out + pq, q0, acc1);
    }
    if (last >= 2u) {
        store(out + 2u * pq, q0, acc2);
    }
    if (last >= 3u) {
        store(out + 3u * pq, q0, acc3);
    }
}
