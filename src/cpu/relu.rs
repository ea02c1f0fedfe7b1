//! Twins of the activation: `shaders/common/activation.wgsl` and `shaders/relu_bwd.wgsl`.

/// max(0, z), NaN kept (as PyTorch's ReLU).
pub fn relu(z: f64) -> f64 {
    if z.is_nan() {
        z
    } else {
        z.max(0.0)
    }
}

/// Twin of `shaders/relu_bwd.wgsl`: dz = dy where y > 0 (or y is NaN), else 0; y is the
/// ReLU's output. Exact: it only selects.
pub fn relu_bwd(y: &[f64], dy: &[f64]) -> Vec<f64> {
    y.iter()
        .zip(dy)
        .map(|(&y, &g)| if y > 0.0 || y.is_nan() { g } else { 0.0 })
        .collect()
}
