// sgd_update.wgsl — one SGD step on one parameter tensor, exactly as torch.optim.SGD
// (dampening 0): g = grad + wd·param; with momentum, buf = momentum·buf + g (buf starts at 0,
// so the first step gives buf = g, as PyTorch) and g = buf, or g + momentum·buf with Nesterov;
// param = param − lr·g.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, the SgdParams struct generated from
// `gpu::params::SgdParams`, common/grid.wgsl, common/sgd.wgsl.
//
// Bindings (group 0):
//   0  params  uniform             SgdParams
//   1  param   storage, read_write the parameters, updated in place
//   2  grad    storage, read       their loss gradient (without weight decay)
//   3  buf     storage, read_write the momentum buffer (unused when momentum = 0)
//
// One invocation updates one parameter (common/sgd.wgsl), on a folded grid (common/grid.wgsl).
// The momentum buffer is written only when momentum ≠ 0.
//
// CPU twin: `cpu::sgd_update`.

@group(0) @binding(0) var<uniform> params: SgdParams;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, params.groups_x, params.groups_y) * WORKGROUP_SIZE + lid;
    if (i >= params.len) {
        return;
    }
    let u = sgd_step(param[i], grad[i], buf[i]);
    param[i] = u.x;
    if (params.momentum != 0.0) {
        buf[i] = u.y;
    }
}
