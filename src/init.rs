//! PyTorch's default initialisation of a Conv2d layer, from a seeded generator so runs repeat.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::tensor::Tensor4;

/// K random filters of C×R×S, uniform in ±1/√(C·R·S) (PyTorch's default Conv2d range),
/// from a seeded generator so runs repeat.
pub fn random_filters(k: usize, c: usize, r: usize, s: usize, seed: u64) -> Tensor4 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let bound = 1.0 / ((c * r * s) as f32).sqrt();
    let data = (0..k * c * r * s)
        .map(|_| rng.random_range(-bound..=bound))
        .collect();
    Tensor4 {
        dims: [k, c, r, s],
        data,
    }
}

/// K biases uniform in ±1/√fan_in (PyTorch's default Conv2d bias range), seeded; a stream
/// apart from [`random_filters`]' for the same seed.
pub fn random_bias(k: usize, fan_in: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1);
    let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
    (0..k).map(|_| rng.random_range(-bound..=bound)).collect()
}
