// conv2d_pack_input_weights.wgsl — the weights (K, C/G, R, S) copied into blocks of
// CHANNEL_BLOCK (4) channels, (K, ⌈(C/G)/4⌉, R, S, 4), for the window dX
// (conv2d_bwd_input_window.wgsl), which reads a tap's four channels' weights as one vec4. A
// block's channels past C/G are zeros. A copy: no arithmetic.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, CHANNEL_BLOCK, the ConvParams struct and
// common/grid.wgsl.
//
// Bindings (group 0):
//   0  params    uniform            ConvParams (the layer's; groups_x, groups_y this grid's)
//   1  w         storage, read      weights (K, C/G, R, S) f32
//   2  w_blocks  storage, read_write packed weights, as above
//
// Invocation i (of ⌈K·⌈(C/G)/4⌉·R·S·4 / WORKGROUP_SIZE⌉ workgroups) writes w_blocks[i].
//
// CPU twin: `cpu::pack_input_weights`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> w_blocks: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    let cg = params.c / params.conv_groups;
    let cblocks = (cg + CHANNEL_BLOCK - 1u) / CHANNEL_BLOCK;
    let taps = params.r * params.s;
    if (i >= params.k * cblocks * taps * CHANNEL_BLOCK) {
        return;
    }
    let j = i % CHANNEL_BLOCK;
    let tap = (i / CHANNEL_BLOCK) % taps;
    let cb = (i / (CHANNEL_BLOCK * taps)) % cblocks;
    let k = i / (CHANNEL_BLOCK * taps * cblocks);
    let ci = cb * CHANNEL_BLOCK + j;
    var v = 0.0;
    if (ci < cg) {
        v = w[(k * cg + ci) * taps + tap];
    }
    w_blocks[i] = v;
}
