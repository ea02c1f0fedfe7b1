// common/no_bias.wgsl — the layer has no bias: no binding; the bias reads 0 and its gradient
// goes nowhere (the kernels skip it where HAS_BIAS is false).

fn bias(k: u32) -> f32 {
    return 0.0;
}

fn store_db(k: u32, v: f32) {}

fn load_bias(k: u32) -> vec2<f32> {
    return vec2<f32>(0.0);
}

fn store_bias(k: u32, value: f32, momentum: f32, grad: f32) {}
