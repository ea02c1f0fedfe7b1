// conv2d_pack_output_grad.wgsl — dL/dz (N, K, P, Q) copied into blocks of WEIGHT_FILTER_BLOCK
// (4) filters, (N, P, Q, G·⌈(K/G)/4⌉, 4), for the window dW (conv2d_bwd_weight_window.wgsl),
// which reads a column's four filters' dz as one vec4 instead of four loads. A block's filters
// past its group's last are zeros. A copy: no arithmetic.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, WEIGHT_FILTER_BLOCK, the ConvParams struct
// and common/grid.wgsl.
//
// Bindings (group 0):
//   0  params     uniform            ConvParams (the layer's; groups_x, groups_y this grid's)
//   1  dz         storage, read      dL/dz (N, K, P, Q) f32
//   2  dz_blocks  storage, read_write packed dz, as above
//
// Invocation i (of ⌈N·P·Q / WORKGROUP_SIZE⌉ workgroups) writes output pixel i's blocks: the
// vec4s dz_blocks[i·G·⌈(K/G)/4⌉ …], one division an invocation (on llvmpipe a division costs
// far more than the copy).
//
// CPU twin: `cpu::pack_output_grad`.

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read_write> dz_blocks: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    let pq = params.p * params.q;
    if (i >= params.n * pq) {
        return;
    }
    let n = i / pq;
    let kg = params.k / params.conv_groups;
    let kblocks = (kg + WEIGHT_FILTER_BLOCK - 1u) / WEIGHT_FILTER_BLOCK;
    // dz[n, k, pixel] is dz[at + k·pq].
    let at = n * params.k * pq + (i - n * pq);
    var out = i * params.conv_groups * kblocks;
    for (var g = 0u; g < params.conv_groups; g++) {
        for (var b = 0u; b < kblocks; b++) {
            // Filters kk … kk + 3 of group g (those < K/G: the rest read the last, kept 0).
            let kk = vec4<u32>(b * WEIGHT_FILTER_BLOCK) + vec4<u32>(0u, 1u, 2u, 3u);
            let k = vec4<u32>(g * kg) + min(kk, vec4<u32>(kg - 1u));
            let at4 = vec4<u32>(at) + k * pq;
            let v = vec4<f32>(dz[at4.x], dz[at4.y], dz[at4.z], dz[at4.w]);
            dz_blocks[out] = select(vec4<f32>(0.0), v, kk < vec4<u32>(kg));
            out++;
        }
    }
}
