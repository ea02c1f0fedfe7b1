// conv2d_bwd_weight_window.wgsl — weight and bias gradients with a whole R×S window of sums of
// four filters per invocation (the window version: for adapters that run invocations on CPU
// cores, where loads cost far more than products). The four filters' dz at a column come as
// one vec4 from the packed copy conv2d_pack_output_grad.wgsl makes before it.
// conv2d_bwd_weight_reduce.wgsl then adds the splits, as for the tiled version.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, WINDOW_TAPS (the most R·S it holds),
// WEIGHT_FILTER_BLOCK (4), BIAS_COLUMNS (1 with a bias, 0 without), the ConvParams struct
// generated from `gpu::params::ConvParams`, common/grid.wgsl, common/padding.wgsl,
// common/window_columns.wgsl (the columns a block reads), common/input_rows.wgsl.
//
// Bindings (group 0):
//   0  params   uniform             ConvParams
//   1  x        storage, read       input (N, C, H, W)
//   2  dz_blocks storage, read      dL/dz in blocks of four filters (N, P, Q, G·⌈(K/G)/4⌉, 4),
//                                   as vec4s (conv2d_pack_output_grad.wgsl)
//   3  partial  storage, read_write (splits, K, (C/G)·R·S + 1 with a bias, + 0 without):
//                                   each split's sums, overwritten
//   4  x_rows   storage, read       x's rows for the sliding path (conv2d_pack_input_rows.wgsl,
//                                   common/input_rows.wgsl); any buffer where it is not taken
//
// Invocation i = (split·G·⌈(K/G)/4⌉ + kb)·(C/G) + c' sums, for filters k0 … k0 + 3 of block kb
// (those in its group g) and every tap (r, s) of channel c' at once, dw[k, c', r, s] =
// Σ dz[n, k, p, q] · x[n, g·C/G + c', src(p·sh + r·dh − top), src(q·sw + s·dw − left)] over the
// output rows (n, p) of its split (rows split·chunk …, chunk = ⌈N·P / splits⌉) and every q, in
// (n, p, q) order, a tap in zero padding skipped. It reads the row in blocks of eight columns:
// each dz once for the R·S taps and, at stride 1, each x once for the S taps of a row (sliding
// by a column, from rows of x packed for vec4 loads); a row of one column (Q = 1) alone. The
// host sizes the splits so that an invocation runs fewer than 65,535 loop iterations
// (`grids::window_splits`): llvmpipe ends every loop of an invocation past that many in all,
// and the sums would come out short. With a bias, invocation c' = 0 also sums dz
// into the split's column (C/G)·R·S (db[k]). Deterministic: fixed ranges and orders, no atomics.
//
// CPU twin: `cpu::conv2d_bwd_weight`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dz_blocks: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
@group(0) @binding(4) var<storage, read> x_rows: array<vec4<f32>>;

// acc[r·S + s]: the four filters' sums of tap (r, s).
var<private> acc: array<vec4<f32>, WINDOW_TAPS>;
// The four filters' sums of dz (db).
var<private> bias_acc: vec4<f32>;
// The four filters' dz at columns q0 + j of the block, and whether each column is < Q.
var<private> d0: vec4<f32>;
var<private> d1: vec4<f32>;
var<private> d2: vec4<f32>;
var<private> d3: vec4<f32>;
var<private> d4: vec4<f32>;
var<private> d5: vec4<f32>;
var<private> d6: vec4<f32>;
var<private> d7: vec4<f32>;
var<private> live0: vec4<bool>;
var<private> live1: vec4<bool>;

// Blocks of four filters, all groups': the vec4s of dz_blocks per output pixel.
fn filter_blocks() -> u32 {
    let kg = params.k / params.conv_groups;
    return params.conv_groups * ((kg + WEIGHT_FILTER_BLOCK - 1u) / WEIGHT_FILTER_BLOCK);
}

// The block's four filters' dz at column q (clamped to the row: a column ≥ Q is not live) of
// the row whose column 0 is dz_blocks[row_at]: one vec4 load.
fn block_dz(row_at: u32, q: u32) -> vec4<f32> {
    return dz_blocks[row_at + min(q, params.q - 1u) * filter_blocks()];
}

// acc[t] += d_j · x_j for the eight columns j where keep.
fn add_tap(t: u32, x0: vec4<f32>, x1: vec4<f32>, keep0: vec4<bool>, keep1: vec4<bool>) {
    var a = acc[t];
    a = select(a, a + d0 * x0.x, keep0.x);
    a = select(a, a + d1 * x0.y, keep0.y);
    a = select(a, a + d2 * x0.z, keep0.z);
    a = select(a, a + d3 * x0.w, keep0.w);
    a = select(a, a + d4 * x1.x, keep1.x);
    a = select(a, a + d5 * x1.y, keep1.y);
    a = select(a, a + d6 * x1.z, keep1.z);
    a = select(a, a + d7 * x1.w, keep1.w);
    acc[t] = a;
}

// The taps of input row `row` (n·C + c)·H + h for row r of the window, stride_w = dilation_w
// = 1 and zero padding (or none) at the sides: the inputs of tap s + 1 are those of tap s one
// column on. They come from x_rows four at a time (zeros in the padding, as the simple version
// reads none there: the same values, and the same taps skipped).
fn add_row_sliding(row: u32, r: u32, q0: u32) {
    let c0 = i32(q0) - i32(params.pad_left);
    let cols0 = vec4<i32>(c0) + vec4<i32>(0, 1, 2, 3);
    let cols1 = cols0 + vec4<i32>(4);
    let at = row * (input_rows_width() / 4u) + q0 / 4u;
    var x0 = x_rows[at];
    var x1 = x_rows[at + 1u];
    var ahead = x_rows[at + 2u];
    for (var s = 0u; s < params.s; s++) {
        let shift = vec4<i32>(i32(s));
        let keep0 = select(vec4<bool>(false), inside(cols0 + shift), live0);
        let keep1 = select(vec4<bool>(false), inside(cols1 + shift), live1);
        add_tap(r * params.s + s, x0, x1, keep0, keep1);
        if (s + 1u < params.s) {
            x0 = vec4<f32>(x0.yzw, x1.x);
            x1 = vec4<f32>(x1.yzw, ahead.x);
            ahead = vec4<f32>(ahead.yzw, 0.0);
            if ((s + 1u) % 4u == 0u) {
                ahead = x_rows[at + 2u + (s + 1u) / 4u];
            }
        }
    }
}

// The same for any stride, dilation and padding mode: each tap's columns read anew.
fn add_row_strided(x_row: u32, r: u32, q0: u32) {
    let zero = vec4<i32>(0);
    for (var s = 0u; s < params.s; s++) {
        let cols0 = source_columns(q0, s);
        let cols1 = source_columns(q0 + 4u, s);
        let keep0 = select(vec4<bool>(false), cols0 >= zero, live0);
        let keep1 = select(vec4<bool>(false), cols1 >= zero, live1);
        add_tap(r * params.s + s, read_columns(x_row, cols0), read_columns(x_row, cols1), keep0, keep1);
    }
}

// Adds the taps of output row (n, p), and its dz to bias_acc, in blocks of eight columns.
fn add_blocks(x_plane: u32, row_at: u32, p: u32, sliding: bool) {
    for (var b = 0u; b < (params.q + 7u) / 8u; b++) {
        let q0 = 8u * b;
        live0 = vec4<u32>(q0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.q);
        live1 = vec4<u32>(q0) + vec4<u32>(4u, 5u, 6u, 7u) < vec4<u32>(params.q);
        d0 = block_dz(row_at, q0 + 0u);
        d1 = block_dz(row_at, q0 + 1u);
        d2 = block_dz(row_at, q0 + 2u);
        d3 = block_dz(row_at, q0 + 3u);
        d4 = block_dz(row_at, q0 + 4u);
        d5 = block_dz(row_at, q0 + 5u);
        d6 = block_dz(row_at, q0 + 6u);
        d7 = block_dz(row_at, q0 + 7u);
        bias_acc = select(bias_acc, bias_acc + d0, live0.x);
        bias_acc = select(bias_acc, bias_acc + d1, live0.y);
        bias_acc = select(bias_acc, bias_acc + d2, live0.z);
        bias_acc = select(bias_acc, bias_acc + d3, live0.w);
        bias_acc = select(bias_acc, bias_acc + d4, live1.x);
        bias_acc = select(bias_acc, bias_acc + d5, live1.y);
        bias_acc = select(bias_acc, bias_acc + d6, live1.z);
        bias_acc = select(bias_acc, bias_acc + d7, live1.w);
        for (var r = 0u; r < params.r; r++) {
            let hp = i32(p * params.stride_h + r * params.dilation_h) - i32(params.pad_top);
            let hi = padded_source(hp, i32(params.h), params.pad_mode);
            if (hi >= 0) {
                if (sliding) {
                    add_row_sliding(x_plane + u32(hi), r, q0);
                } else {
                    add_row_strided((x_plane + u32(hi)) * params.w, r, q0);
                }
            }
        }
    }
}

// The same for a row of one column (Q = 1, a linear layer's): that column's taps alone, so
// none of a block's seven empty columns is read or multiplied. The same sums in the same order.
fn add_column(x_plane: u32, row_at: u32, p: u32) {
    let d = block_dz(row_at, 0u);
    bias_acc += d;
    for (var r = 0u; r < params.r; r++) {
        let hp = i32(p * params.stride_h + r * params.dilation_h) - i32(params.pad_top);
        let hi = padded_source(hp, i32(params.h), params.pad_mode);
        if (hi >= 0) {
            let x_row = (x_plane + u32(hi)) * params.w;
            for (var s = 0u; s < params.s; s++) {
                let col = source_column(0u, s);
                if (col >= 0) {
                    let t = r * params.s + s;
                    acc[t] = acc[t] + d * x[x_row + u32(col)];
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
    let cg = params.c / params.conv_groups;
    let kg = params.k / params.conv_groups;
    let kblocks = (kg + WEIGHT_FILTER_BLOCK - 1u) / WEIGHT_FILTER_BLOCK;
    let blocks = params.conv_groups * kblocks;
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.splits * blocks * cg) {
        return;
    }
    let ci = i % cg;
    let kb = (i / cg) % blocks;
    let split = i / (cg * blocks);
    let g = kb / kblocks;
    let k0 = g * kg + (kb % kblocks) * WEIGHT_FILTER_BLOCK;
    // The block's last filter, counted from k0.
    let last = min(WEIGHT_FILTER_BLOCK, (g + 1u) * kg - k0) - 1u;
    let c = g * cg + ci;
    let taps = params.r * params.s;
    for (var t = 0u; t < taps; t++) {
        acc[t] = vec4<f32>(0.0);
    }
    bias_acc = vec4<f32>(0.0);
    let sliding = params.stride_w == 1u && params.dilation_w == 1u
        && (params.pad_mode == 0u || params.pad_left + params.pad_right == 0u);
    let rows = params.n * params.p;
    let chunk = (rows + params.splits - 1u) / params.splits;
    let end = min(rows, (split + 1u) * chunk);
    for (var row = split * chunk; row < end; row++) {
        let n = row / params.p;
        let p = row % params.p;
        let x_plane = (n * params.c + c) * params.h;
        let row_at = row * params.q * filter_blocks() + kb;
        if (params.q == 1u) {
            add_column(x_plane, row_at, p);
        } else {
            add_blocks(x_plane, row_at, p, sliding);
        }
    }
    let cols = cg * taps + BIAS_COLUMNS;
    for (var f = 0u; f < WEIGHT_FILTER_BLOCK; f++) {
        if (f <= last) {
            let out = (split * params.k + k0 + f) * cols;
            for (var t = 0u; t < taps; t++) {
                partial[out + ci * taps + t] = acc[t][f];
            }
            if (BIAS_COLUMNS == 1u && ci == 0u) {
                partial[out + cg * taps] = bias_acc[f];
            }
        }
    }
}
