// common/bias_read.wgsl — the layer has a bias: binding `b` (K) f32, read.

@group(0) @binding(BIAS_BINDING) var<storage, read> b: array<f32>;

fn bias(k: u32) -> f32 {
    return b[k];
}
