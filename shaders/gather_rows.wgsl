// gather_rows.wgsl — rows of a tensor picked by an index list: out[b, e] = src[indices[start + b], e],
// copied as 32-bit words (f32 data and u32 labels alike, bit for bit). What a training epoch
// uses to cut its shuffled batches from a data set kept on the device.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the GatherParams struct generated from
// `gpu::params::GatherParams`, common/grid.wgsl.
//
// Bindings (group 0):
//   0  params   uniform             GatherParams
//   1  src      storage, read       the data set, rows of row_len words
//   2  indices  storage, read       row indices (u32), each below src's rows (checked on upload)
//   3  out      storage, read_write rows × row_len words, overwritten
//
// One invocation per output word, on a folded grid (common/grid.wgsl). No reduction.
//
// CPU twin: `cpu::gather_rows`.

@group(0) @binding(0) var<uniform> params: GatherParams;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.rows * params.row_len) {
        return;
    }
    let b = i / params.row_len;
    let e = i % params.row_len;
    out[i] = src[indices[params.start + b] * params.row_len + e];
}
