// common/bias_train.wgsl — the layer has a bias: bindings `b`, `b_momentum` and `db` (K) f32.

@group(0) @binding(BIAS_BINDING) var<storage, read_write> b: array<f32>;
@group(0) @binding(BIAS_BINDING + 1u) var<storage, read_write> b_momentum: array<f32>;
@group(0) @binding(BIAS_BINDING + 2u) var<storage, read_write> db: array<f32>;

// (b[k], its momentum).
fn load_bias(k: u32) -> vec2<f32> {
    return vec2<f32>(b[k], b_momentum[k]);
}

fn store_bias(k: u32, value: f32, momentum: f32, grad: f32) {
    b[k] = value;
    b_momentum[k] = momentum;
    db[k] = grad;
}
