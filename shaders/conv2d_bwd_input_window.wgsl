// conv2d_bwd_input_window.wgsl — the input gradient, a block of four channels × eight pixels of
// a row per invocation (the window version: for adapters that run invocations on CPU cores,
// where loads cost far more than the products). Each dz read serves four channels, and a tap's
// four weights come in one vec4 load (from the packed copy conv2d_pack_input_weights.wgsl
// makes), each serving eight pixels; at stride 1 a row's dz are read once for its S taps
// (sliding by a column, four at a time from dz's packed rows), and at a larger stride a tap
// that feeds none of the block's pixels is skipped.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, CHANNEL_BLOCK, INPUT_ROW_BLOCK, the
// ConvParams struct generated from `gpu::params::ConvParams`, common/grid.wgsl,
// common/output_grad_rows.wgsl.
//
// Bindings (group 0):
//   0  params  uniform             ConvParams
//   1  w_blocks storage, read      the weights packed by conv2d_pack_input_weights.wgsl,
//                                  (K, ⌈(C/G)/4⌉, R, S, 4) f32, as vec4s
//   2  dz      storage, read       dL/dz (N, K, P, Q)
//   3  dx      storage, read_write dL/dx (N, C, H, W), overwritten
//   4  dz_rows storage, read       dz's rows for the sliding path
//                                  (conv2d_pack_output_grad_rows.wgsl); any buffer at a larger
//                                  stride
//
// Workgroup (g·⌈(C/G)/4⌉ + cb)·chunks + chunk owns channels c0 … c0 + 3 of group g
// (c0 = g·C/G + 4·cb; those < (g + 1)·C/G); its invocation lid computes, for each,
// dx[n, c, h, w0 + sw·j] for j < 8 (those < W) at index chunk·WORKGROUP_SIZE + lid =
// (n·H + h)·sw·B + ρ·B + b, B = ⌈W / (8·sw)⌉, w0 = 8·sw·b + ρ (sw the stride: the pixels of a
// block are of one class mod sw, and neighbouring lanes share it). Each element is the simple version's sum, in its order:
// dz[n, k, p, q] · w[k, c', r, s] over the filters k of group g, then r, then s, a tap whose
// p = (h + top − r·dh)/sh or q = (w + left − s·dw)/sw is not whole or not inside the output
// skipped; so the bits are the simple version's. With a padding mode other than zeros the host
// runs it on the padded input, as the simple version.
//
// CPU twin: `cpu::conv2d_bwd_input`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> w_blocks: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read> dz_rows: array<vec4<f32>>;

// The block's sums, named (a private array would be indexed per lane on llvmpipe): channel
// c's pixels w0 … w0 + 3 in sc_a, w0 + 4 … w0 + 7 in sc_b.
var<private> s0_a: vec4<f32>;
var<private> s0_b: vec4<f32>;
var<private> s1_a: vec4<f32>;
var<private> s1_b: vec4<f32>;
var<private> s2_a: vec4<f32>;
var<private> s2_b: vec4<f32>;
var<private> s3_a: vec4<f32>;
var<private> s3_b: vec4<f32>;

// Adds dz d0 (pixels 0–3) and d1 (4–7) times the block's four weights of packed tap `tap`
// (one vec4) to the sums where `keep`.
fn add_tap(d0: vec4<f32>, d1: vec4<f32>, tap: u32, keep0: vec4<bool>, keep1: vec4<bool>) {
    let wv = w_blocks[tap];
    let w0 = wv.x;
    let w1 = wv.y;
    let w2 = wv.z;
    let w3 = wv.w;
    s0_a = select(s0_a, s0_a + w0 * d0, keep0);
    s0_b = select(s0_b, s0_b + w0 * d1, keep1);
    s1_a = select(s1_a, s1_a + w1 * d0, keep0);
    s1_b = select(s1_b, s1_b + w1 * d1, keep1);
    s2_a = select(s2_a, s2_a + w2 * d0, keep0);
    s2_b = select(s2_b, s2_b + w2 * d1, keep1);
    s3_a = select(s3_a, s3_a + w3 * d0, keep0);
    s3_b = select(s3_b, s3_b + w3 * d1, keep1);
}

// dz[row + q] for each q, or 0 where q is -1.
fn read_dz(row: u32, q: vec4<i32>) -> vec4<f32> {
    let at = vec4<u32>(max(q, vec4<i32>(0))) + vec4<u32>(row);
    return select(vec4<f32>(0.0), vec4<f32>(dz[at.x], dz[at.y], dz[at.z], dz[at.w]), q >= vec4<i32>(0));
}

// Whether each output column is inside the row.
fn inside(q: vec4<i32>) -> vec4<bool> {
    let before_end = q < vec4<i32>(i32(params.q));
    return select(vec4<bool>(false), before_end, q >= vec4<i32>(0));
}

// The taps of dz row `row` for window row r (weights from `w_row`) at stride_w > 1: the block's
// pixels w0 + sw·j are of one class mod sw, so a tap feeds all of them or none, and those it
// feeds read eight consecutive dz.
fn add_row_strided(row: u32, w_row: u32, w0: u32) {
    let sw = params.stride_w;
    for (var s = 0u; s < params.s; s++) {
        // w0 + left − s·dw, moved up by sw·s·dw to stay ≥ 0: `%` and `/` of a negative i32 are
        // undefined in GLSL, which wgpu's GL backend runs.
        let shift = s * params.dilation_w;
        let m = w0 + params.pad_left + sw * shift - shift;
        if (m % sw != 0u) {
            continue;
        }
        let q0 = vec4<i32>(i32(m / sw) - i32(shift)) + vec4<i32>(0, 1, 2, 3);
        let q1 = q0 + vec4<i32>(4);
        let keep0 = inside(q0);
        let keep1 = inside(q1);
        add_tap(read_dz(row, select(vec4<i32>(-1), q0, keep0)), read_dz(row, select(vec4<i32>(-1), q1, keep1)), w_row + s, keep0, keep1);
    }
}

// The same at stride_w = dilation_w = 1 for dz row `row_index` (n·K + k)·P + p: the columns of
// tap s + 1 are those of tap s one column back. They come from dz_rows four at a time (zeros
// outside the row, whose taps are skipped as before: the same values and sums).
fn add_row_sliding(row_index: u32, w_row: u32, w0: u32) {
    let c0 = i32(w0 + params.pad_left);
    let cols0 = vec4<i32>(c0) + vec4<i32>(0, 1, 2, 3);
    let cols1 = cols0 + vec4<i32>(4);
    // w0 + pad_left + lead is a multiple of 4: the block's first column starts a vec4.
    let first = w0 + params.pad_left + output_grad_rows_lead();
    let at = row_index * (output_grad_rows_width() / 4u) + first / 4u;
    var d0 = dz_rows[at];
    var d1 = dz_rows[at + 1u];
    // The four columns before, where a later tap reads them (lead ≥ S − 1 ≥ 1 then).
    var behind = vec4<f32>(0.0);
    if (params.s > 1u) {
        behind = dz_rows[at - 1u];
    }
    for (var s = 0u; s < params.s; s++) {
        let shift = vec4<i32>(i32(s));
        add_tap(d0, d1, w_row + s, inside(cols0 - shift), inside(cols1 - shift));
        if (s + 1u < params.s) {
            d1 = vec4<f32>(d0.w, d1.xyz);
            d0 = vec4<f32>(behind.w, d0.xyz);
            behind = vec4<f32>(0.0, behind.xyz);
            if ((s + 1u) % 4u == 0u && s + 2u < params.s) {
                behind = dz_rows[at - 1u - (s + 1u) / 4u];
            }
        }
    }
}

// Stores a channel's eight sums a, b at pixels w0 + sw·j (those < W) of the row at `at`.
fn store(at: u32, w0: u32, a: vec4<f32>, b: vec4<f32>) {
    for (var j = 0u; j < INPUT_ROW_BLOCK; j++) {
        let col = w0 + j * params.stride_w;
        if (col < params.w) {
            dx[at + col] = select(b[j % 4u], a[j % 4u], j < 4u);
        }
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // Blocks of a row: sw classes of pixels mod sw, each ⌈W / (8·sw)⌉ blocks of eight.
    let span = INPUT_ROW_BLOCK * params.stride_w;
    let per_class = (params.w + span - 1u) / span;
    let blocks = params.stride_w * per_class;
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
    let block = i % blocks;
    let w0 = (block % per_class) * span + block / per_class;
    let h = (i / blocks) % params.h;
    let n = i / (blocks * params.h);
    let sliding = params.stride_w == 1u && params.dilation_w == 1u;
    s0_a = vec4<f32>(0.0);
    s0_b = vec4<f32>(0.0);
    s1_a = vec4<f32>(0.0);
    s1_b = vec4<f32>(0.0);
    s2_a = vec4<f32>(0.0);
    s2_b = vec4<f32>(0.0);
    s3_a = vec4<f32>(0.0);
    s3_b = vec4<f32>(0.0);
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
            let row = (n * params.k + k) * params.p + p;
            let w_row = ((k * cblocks + cb % cblocks) * params.r + r) * params.s;
            if (sliding) {
                add_row_sliding(row, w_row, w0);
            } else {
                add_row_strided(row * params.q, w_row, w0);
            }
        }
    }
    let hw = params.h * params.w;
    let at = ((n * params.c + g * cg + ci0) * params.h + h) * params.w;
    store(at, w0, s0_a, s0_b);
    if (last >= 1u) {
        store(at + 1u * hw, w0, s1_a, s1_b);
    }
    if (last >= 2u) {
        store(at + 2u * hw, w0, s2_a, s2_b);
    }
    if (last >= 3u) {
        store(at + 3u * hw, w0, s3_a, s3_b);
    }
}
