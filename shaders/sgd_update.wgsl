// sgd_update.wgsl — one SGD step on one parameter tensor, exactly as torch.optim.SGD
// (dampening 0): g = grad + wd·param; with momentum, buf = momentum·buf + g (buf starts at 0,
// so the first step gives buf = g, as PyTorch) and g = buf, or g + momentum·buf with Nesterov;
// param = param − lr·g.
//
// Bindings (group 0):
//   0  params  uniform             SgdParams (mirrors `gpu::params::SgdParams`)
//   1  param   storage, read_write the parameters, updated in place
//   2  grad    storage, read       their loss gradient (without weight decay)
//   3  buf     storage, read_write the momentum buffer (unused when momentum = 0)
//
// One invocation updates one parameter.
//
// CPU twin: `cpu::sgd_update`.

struct SgdParams {
    len: u32,
    nesterov: u32,
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    groups_x: u32,
    pad0: u32,
    pad1: u32,
}

const WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<uniform> params: SgdParams;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + params.groups_x * wid.y) * WORKGROUP_SIZE + lid;
    if (i >= params.len) {
        return;
    }
    var g = grad[i] + params.weight_decay * param[i];
    if (params.momentum != 0.0) {
        let b = params.momentum * buf[i] + g;
        buf[i] = b;
        if (params.nesterov == 1u) {
            g = g + params.momentum * b;
        } else {
            g = b;
        }
    }
    param[i] = param[i] - params.lr * g;
}
