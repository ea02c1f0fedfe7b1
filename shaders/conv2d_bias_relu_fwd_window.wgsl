// conv2d_bias_relu_fwd_window.wgsl — fused convolution + bias + ReLU, forward, a block of
// FILTER_BLOCK (8, or 4 for groups of at most four filters) filters × eight outputs (ROW_BLOCK)
// of a row per invocation (the window version: for adapters that run invocations on CPU cores,
// where a load costs far more than a product). Each input read serves the block's filters, and
// their weights of a tap come in vec4 loads from the packed copy `conv2d_pack_weights.wgsl`
// makes: on llvmpipe a vec4 load costs about what one f32 load does.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, FILTER_BLOCK, ROW_BLOCK, the ConvParams
// struct generated from `gpu::params::ConvParams`, common/grid.wgsl, common/padding.wgsl,
// common/nan.wgsl, common/activation.wgsl, common/window_columns.wgsl (the columns a block
// reads), common/input_rows.wgsl and common/bias_read.wgsl (or common/no_bias.wgsl).
//
// Bindings (group 0):
//   0  params    uniform            ConvParams
//   1  x         storage, read      input          (N, C, H, W) f32
//   2  w_blocks  storage, read      packed weights (G·⌈(K/G)/F⌉, C/G, R, S, F) f32, as vec4s (F = FILTER_BLOCK)
//   3  y         storage, read_write output         (N, K, P, Q) f32, y = ReLU(z) (NaN kept) or z (params.relu)
//   4  z         storage, read_write pre-activation (N, K, P, Q) f32, written only if write_z == 1
//   5  x_rows    storage, read      x's rows for the sliding path (conv2d_pack_input_rows.wgsl);
//                                   any buffer where that path is not taken
//   6  b         storage, read      bias           (K) f32 (common/bias_read.wgsl; absent without)
//
// Workgroup (g·⌈(K/G)/F⌉ + kb)·chunks + chunk owns filters k0 … k0 + F − 1 of group g
// (k0 = g·K/G + F·kb; those < (g + 1)·K/G); its invocation lid computes, for each,
// y[n, k, p, q0 … q0 + 7] (those < Q) at index chunk·WORKGROUP_SIZE + lid =
// (n·P + p)·⌈Q/8⌉ + q0/8 (chunks: ⌈N·P·⌈Q/8⌉ / WORKGROUP_SIZE⌉). Each output's sum is the
// simple version's, in the same order: the bias, then the window's products in (c', r, s)
// order, a tap in zero padding skipped; so the bits are the simple version's. A layer without
// padding reads every tap without checks (a read past the row of an output ≥ Q is never
// stored; a filter past the group's last has zero weights and is never stored).
//
// CPU twin: `cpu::conv2d_bias_relu_fwd`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w_blocks: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> z: array<f32>;
@group(0) @binding(5) var<storage, read> x_rows: array<vec4<f32>>;

// The block's sums, named (a private array would be indexed per lane on llvmpipe): filter f's
// outputs q0 … q0 + 3 in sf_a, q0 + 4 … q0 + 7 in sf_b.
var<private> s0_a: vec4<f32>;
var<private> s0_b: vec4<f32>;
var<private> s1_a: vec4<f32>;
var<private> s1_b: vec4<f32>;
var<private> s2_a: vec4<f32>;
var<private> s2_b: vec4<f32>;
var<private> s3_a: vec4<f32>;
var<private> s3_b: vec4<f32>;
var<private> s4_a: vec4<f32>;
var<private> s4_b: vec4<f32>;
var<private> s5_a: vec4<f32>;
var<private> s5_b: vec4<f32>;
var<private> s6_a: vec4<f32>;
var<private> s6_b: vec4<f32>;
var<private> s7_a: vec4<f32>;
var<private> s7_b: vec4<f32>;

// Adds tap `tap`'s products (the tap's index in the packed weights, counted in taps of
// FILTER_BLOCK floats) to the sums of the inputs x0 (outputs 0–3) and x1 (4–7), where `keep`.
fn add_tap(x0: vec4<f32>, x1: vec4<f32>, tap: u32, keep0: vec4<bool>, keep1: vec4<bool>) {
    let lo = w_blocks[(FILTER_BLOCK / 4u) * tap];
    s0_a = select(s0_a, s0_a + lo.x * x0, keep0);
    s0_b = select(s0_b, s0_b + lo.x * x1, keep1);
    s1_a = select(s1_a, s1_a + lo.y * x0, keep0);
    s1_b = select(s1_b, s1_b + lo.y * x1, keep1);
    s2_a = select(s2_a, s2_a + lo.z * x0, keep0);
    s2_b = select(s2_b, s2_b + lo.z * x1, keep1);
    s3_a = select(s3_a, s3_a + lo.w * x0, keep0);
    s3_b = select(s3_b, s3_b + lo.w * x1, keep1);
    // A constant condition: the block of four has no filters 4–7.
    if (FILTER_BLOCK == 4u) {
        return;
    }
    let hi = w_blocks[2u * tap + 1u];
    s4_a = select(s4_a, s4_a + hi.x * x0, keep0);
    s4_b = select(s4_b, s4_b + hi.x * x1, keep1);
    s5_a = select(s5_a, s5_a + hi.y * x0, keep0);
    s5_b = select(s5_b, s5_b + hi.y * x1, keep1);
    s6_a = select(s6_a, s6_a + hi.z * x0, keep0);
    s6_b = select(s6_b, s6_b + hi.z * x1, keep1);
    s7_a = select(s7_a, s7_a + hi.w * x0, keep0);
    s7_b = select(s7_b, s7_b + hi.w * x1, keep1);
}

// The taps of outputs (p, q0 + j), every tap inside the image.
fn add_windows_unpadded(x_plane0: u32, tap0: u32, cg: u32, p: u32, q0: u32) {
    let step = params.stride_w;
    let all = vec4<bool>(true);
    for (var ci = 0u; ci < cg; ci++) {
        let x_plane = (x_plane0 + ci) * params.h;
        for (var r = 0u; r < params.r; r++) {
            let x_row = (x_plane + p * params.stride_h + r * params.dilation_h) * params.w;
            let tap_row = tap0 + (ci * params.r + r) * params.s;
            for (var s = 0u; s < params.s; s++) {
                let at = x_row + q0 * step + s * params.dilation_w;
                let x0 = vec4<f32>(x[at], x[at + step], x[at + 2u * step], x[at + 3u * step]);
                let at4 = at + 4u * step;
                let x1 = vec4<f32>(x[at4], x[at4 + step], x[at4 + 2u * step], x[at4 + 3u * step]);
                add_tap(x0, x1, tap_row + s, all, all);
            }
        }
    }
}

// The same sums where the window can reach into the padding (`padded_source`; a zero-padding
// tap is skipped, as the simple version skips it).
fn add_windows_padded(x_plane0: u32, tap0: u32, cg: u32, p: u32, q0: u32) {
    for (var ci = 0u; ci < cg; ci++) {
        let x_plane = (x_plane0 + ci) * params.h;
        for (var r = 0u; r < params.r; r++) {
            let hp = i32(p * params.stride_h + r * params.dilation_h) - i32(params.pad_top);
            let hi = padded_source(hp, i32(params.h), params.pad_mode);
            if (hi < 0) {
                continue;
            }
            let x_row = (x_plane + u32(hi)) * params.w;
            let tap_row = tap0 + (ci * params.r + r) * params.s;
            for (var s = 0u; s < params.s; s++) {
                let cols0 = source_columns(q0, s);
                let cols1 = source_columns(q0 + 4u, s);
                let x0 = read_columns(x_row, cols0);
                let x1 = read_columns(x_row, cols1);
                let zero = vec4<i32>(0);
                add_tap(x0, x1, tap_row + s, cols0 >= zero, cols1 >= zero);
            }
        }
    }
}

// The same sums for stride_w = dilation_w = 1 with zero padding (or none) at the sides: the
// eight inputs of tap s + 1 are those of tap s one column on, so a row of S taps reads 8 + S − 1
// inputs, not 8·S, four at a time from x's packed rows (x_rows). A tap in zero padding is
// skipped, as the simple version skips it.
fn add_windows_sliding(x_plane0: u32, tap0: u32, cg: u32, p: u32, q0: u32) {
    let c0 = i32(q0) - i32(params.pad_left);
    let cols0 = vec4<i32>(c0) + vec4<i32>(0, 1, 2, 3);
    let cols1 = cols0 + vec4<i32>(4);
    let sides = params.pad_left + params.pad_right > 0u;
    let all = vec4<bool>(true);
    let row_vecs = input_rows_width() / 4u;
    for (var ci = 0u; ci < cg; ci++) {
        let x_plane = (x_plane0 + ci) * params.h;
        for (var r = 0u; r < params.r; r++) {
            let hp = i32(p * params.stride_h + r * params.dilation_h) - i32(params.pad_top);
            let hi = padded_source(hp, i32(params.h), params.pad_mode);
            if (hi < 0) {
                continue;
            }
            let at = (x_plane + u32(hi)) * row_vecs + q0 / 4u;
            let tap_row = tap0 + (ci * params.r + r) * params.s;
            var x0 = x_rows[at];
            var x1 = x_rows[at + 1u];
            var ahead = x_rows[at + 2u];
            for (var s = 0u; s < params.s; s++) {
                let shift = vec4<i32>(i32(s));
                let keep0 = select(all, inside(cols0 + shift), sides);
                let keep1 = select(all, inside(cols1 + shift), sides);
                add_tap(x0, x1, tap_row + s, keep0, keep1);
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
    }
}

// Stores a filter's eight sums a, b (those < Q) at output index `out`.
fn store(out: u32, q0: u32, a: vec4<f32>, b: vec4<f32>) {
    for (var j = 0u; j < min(8u, params.q - q0); j++) {
        let v = select(b[j % 4u], a[j % 4u], j < 4u);
        if (params.write_z == 1u) {
            z[out + j] = v;
        }
        y[out + j] = activate(v);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let blocks = (params.q + ROW_BLOCK - 1u) / ROW_BLOCK;
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
    let q0 = (i % blocks) * ROW_BLOCK;
    let p = (i / blocks) % params.p;
    let n = i / (blocks * params.p);
    let cg = params.c / params.conv_groups;
    s0_a = vec4<f32>(bias(k0));
    s0_b = s0_a;
    s1_a = vec4<f32>(bias(k0 + min(1u, last)));
    s1_b = s1_a;
    s2_a = vec4<f32>(bias(k0 + min(2u, last)));
    s2_b = s2_a;
    s3_a = vec4<f32>(bias(k0 + min(3u, last)));
    s3_b = s3_a;
    s4_a = vec4<f32>(bias(k0 + min(4u, last)));
    s4_b = s4_a;
    s5_a = vec4<f32>(bias(k0 + min(5u, last)));
    s5_b = s5_a;
    s6_a = vec4<f32>(bias(k0 + min(6u, last)));
    s6_b = s6_a;
    s7_a = vec4<f32>(bias(k0 + min(7u, last)));
    s7_b = s7_a;
    let x_plane = n * params.c + g * cg;
    let tap0 = kb * cg * params.r * params.s;
    let sides = params.pad_left + params.pad_right;
    if (params.stride_w == 1u && params.dilation_w == 1u && (params.pad_mode == 0u || sides == 0u)) {
        add_windows_sliding(x_plane, tap0, cg, p, q0);
    } else if (params.pad_top + params.pad_bottom + sides == 0u) {
        add_windows_unpadded(x_plane, tap0, cg, p, q0);
    } else {
        add_windows_padded(x_plane, tap0, cg, p, q0);
    }
    let pq = params.p * params.q;
    let out = ((n * params.k + k0) * params.p + p) * params.q + q0;
    store(out, q0, s0_a, s0_b);
    if (last >= 1u) {
        store(out + 1u * pq, q0, s1_a, s1_b);
    }
    if (last >= 2u) {
        store(out + 2u * pq, q0, s2_a, s2_b);
    }
    if (last >= 3u) {
        store(out + 3u * pq, q0, s3_a, s3_b);
    }
    if (last >= 4u) {
        store(out + 4u * pq, q0, s4_a, s4_b);
    }
    if (last >= 5u) {
        store(out + 5u * pq, q0, s5_a, s5_b);
    }
    if (last >= 6u) {
        store(out + 6u * pq, q0, s6_a, s6_b);
    }
    if (last >= 7u) {
        store(out + 7u * pq, q0, s7_a, s7_b);
    }
}
