// common/activation.wgsl — the layer's activation after the convolution: ReLU when
// params.relu == 1, none when 0. ReLU keeps NaN, as PyTorch's does (max(NaN, 0) gives 0 on many
// drivers). Needs common/nan.wgsl. CPU twin: `cpu::relu`.

fn activate(z: f32) -> f32 {
    if (params.relu == 0u || is_nan(z)) {
        return z;
    }
    return max(z, 0.0);
}
