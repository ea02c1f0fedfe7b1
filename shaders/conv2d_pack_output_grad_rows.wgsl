// conv2d_pack_output_grad_rows.wgsl — dL/dz (N, K, P, Q) copied into rows of
// `output_grad_rows_width()` floats: element (n, k, p, j) is dz[n, k, p, j − lead], lead =
// `output_grad_rows_lead()`, or 0 where that column is outside the row. The window dX's
// sliding path (conv2d_bwd_input_window.wgsl) reads a block's columns from it as vec4s. A
// copy: no arithmetic.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ConvParams struct (dX's), common/grid.wgsl
// and common/output_grad_rows.wgsl.
//
// Bindings (group 0):
//   0  params   uniform            ConvParams (dX's; groups_x, groups_y this grid's)
//   1  dz       storage, read      dL/dz (N, K, P, Q) f32
//   2  dz_rows  storage, read_write the rows, as above, as vec4s
//
// Invocation i (of ⌈N·K·P / WORKGROUP_SIZE⌉ workgroups) writes row i.
//
// CPU twin: `cpu::pack_output_grad_rows`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read_write> dz_rows: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.n * params.k * params.p) {
        return;
    }
    let vecs = output_grad_rows_width() / 4u;
    let q = i32(params.q);
    for (var v = 0u; v < vecs; v++) {
        let first = i32(4u * v) - i32(output_grad_rows_lead());
        let cols = vec4<i32>(first) + vec4<i32>(0, 1, 2, 3);
        let after_start = cols >= vec4<i32>(0);
        let before_end = cols < vec4<i32>(q);
        let inside = select(vec4<bool>(false), before_end, after_start);
        let at = vec4<u32>(clamp(cols, vec4<i32>(0), vec4<i32>(q - 1))) + vec4<u32>(i * params.q);
        let row = vec4<f32>(dz[at.x], dz[at.y], dz[at.z], dz[at.w]);
        dz_rows[i * vecs + v] = select(vec4<f32>(0.0), row, inside);
    }
}
