// relu_bwd.wgsl — the gradient through a ReLU, from its output: dz = dy where y > 0 (or y is
// NaN), else 0, as PyTorch's threshold_backward on the ReLU's result.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the ElementwiseParams struct generated from
// `gpu::params::ElementwiseParams`, common/grid.wgsl, common/nan.wgsl.
//
// Bindings (group 0):
//   0  params  uniform             ElementwiseParams
//   1  y       storage, read       the ReLU's output (any shape, len elements)
//   2  dy      storage, read       dL/dy, same shape
//   3  dz      storage, read_write dL/dz (the gradient before the ReLU), overwritten
//
// One invocation per element, on a folded grid (common/grid.wgsl). No reduction.
//
// CPU twin: `cpu::relu_bwd`.

@group(0) @binding(0) var<uniform> params: ElementwiseParams;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.len) {
        return;
    }
    let v = y[i];
    dz[i] = select(0.0, dy[i], v > 0.0 || is_nan(v));
}
