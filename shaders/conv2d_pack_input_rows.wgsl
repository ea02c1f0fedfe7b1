// conv2d_pack_input_rows.wgsl — the input x (N, C, H, W) copied into rows of
// `input_rows_width()` floats, (N, C, H, ⌈…⌉): element (n, c, h, j) is x[n, c, h, j − pad_left],
// or 0 where that column is outside the row. The window dW's sliding path
// (conv2d_bwd_weight_window.wgsl) reads a block's columns from it as vec4s: three loads for a
// row of three taps instead of ten. A copy: no arithmetic.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct, common/grid.wgsl and
// common/input_rows.wgsl.
//
// Bindings (group 0):
//   0  params  uniform            ConvParams (the layer's; groups_x, groups_y this grid's)
//   1  x       storage, read      input (N, C, H, W) f32
//   2  x_rows  storage, read_write the rows, as above, as vec4s
//
// Invocation i (of ⌈N·C·H / WORKGROUP_SIZE⌉ workgroups) writes row i.
//
// CPU twin: `cpu::pack_input_rows`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> x_rows: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.n * params.c * params.h) {
        return;
    }
    let vecs = input_rows_width() / 4u;
    let w = i32(params.w);
    for (var v = 0u; v < vecs; v++) {
        let first = i32(4u * v) - i32(params.pad_left);
        let cols = vec4<i32>(first) + vec4<i32>(0, 1, 2, 3);
        let after_start = cols >= vec4<i32>(0);
        let before_end = cols < vec4<i32>(w);
        let inside = select(vec4<bool>(false), before_end, after_start);
        let at = vec4<u32>(clamp(cols, vec4<i32>(0), vec4<i32>(w - 1))) + vec4<u32>(i * params.w);
        let row = vec4<f32>(x[at.x], x[at.y], x[at.z], x[at.w]);
        x_rows[i * vecs + v] = select(vec4<f32>(0.0), row, inside);
    }
}
