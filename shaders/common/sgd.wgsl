// common/sgd.wgsl — one torch.optim.SGD step (dampening 0) on one parameter. Reads the kernel's
// params.lr, .momentum, .weight_decay and .nesterov.

// Parameter p with loss gradient g0 and momentum buffer m: returns (p', m'), m' = m when
// momentum is 0.
fn sgd_step(p: f32, g0: f32, m: f32) -> vec2<f32> {
    var g = g0 + params.weight_decay * p;
    var buf = m;
    if (params.momentum != 0.0) {
        buf = params.momentum * m + g;
        if (params.nesterov == 1u) {
            g = g + params.momentum * buf;
        } else {
            g = buf;
        }
    }
    return vec2<f32>(p - params.lr * g, buf);
}
