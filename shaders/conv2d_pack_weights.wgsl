// conv2d_pack_weights.wgsl — the weights (K, C/G, R, S) copied into blocks of FILTER_BLOCK
// filters, (G·⌈(K/G)/FILTER_BLOCK⌉, C/G, R, S, FILTER_BLOCK), for the window forward
// (conv2d_bias_relu_fwd_window.wgsl), which reads a tap's FILTER_BLOCK weights as vec4s. A
// block's filters past its group's last are zeros. A copy: no arithmetic.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, FILTER_BLOCK, the ConvParams struct and
// common/grid.wgsl.
//
// Bindings (group 0):
//   0  params    uniform            ConvParams (the layer's; groups_x, groups_y this grid's)
//   1  w         storage, read      weights (K, C/G, R, S) f32
//   2  w_blocks  storage, read_write packed weights, as above
//
// Invocation i (of ⌈G·⌈(K/G)/FILTER_BLOCK⌉·(C/G)·R·S·FILTER_BLOCK / WORKGROUP_SIZE⌉ workgroups)
// writes w_blocks[i].
//
// CPU twin: `cpu::pack_weights`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> w_blocks: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    let kg = params.k / params.conv_groups;
    let kblocks = (kg + FILTER_BLOCK - 1u) / FILTER_BLOCK;
    let taps = (params.c / params.conv_groups) * params.r * params.s;
    if (i >= params.conv_groups * kblocks * taps * FILTER_BLOCK) {
        return;
    }
    let j = i % FILTER_BLOCK;
    let tap = (i / FILTER_BLOCK) % taps;
    let block = i / (FILTER_BLOCK * taps);
    // The filter, counted within its group.
    let kk = (block % kblocks) * FILTER_BLOCK + j;
    var v = 0.0;
    if (kk < kg) {
        v = w[((block / kblocks) * kg + kk) * taps + tap];
    }
    w_blocks[i] = v;
}
