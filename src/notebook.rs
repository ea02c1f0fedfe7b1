//! The notebook's layer: its built-in 24×24 input image and its two 5×5 edge filters.

use crate::tensor::Tensor4;

/// Smoothing across the edge: binomial weights 1 4 6 4 1 (sum 16).
const SMOOTH: [f32; 5] = [1.0, 4.0, 6.0, 4.0, 1.0];
/// Derivative along the edge normal: −1 −2 0 2 1.
const DERIV: [f32; 5] = [-1.0, -2.0, 0.0, 2.0, 1.0];
/// 16 (smoothing sum) × 3 (derivative response to a unit step): a clean 0→1 step gives 1.
const NORM: f32 = 48.0;

/// The notebook's two 5×5 filters, (K=2, C=1, R=5, S=5): 5×5 Sobel edge detectors scaled so
/// that a sharp step from 0 to 1 gives a response of exactly 1.
///
/// - filter 1, `w¹[i][j] = SMOOTH[i]·DERIV[j]/48`: **vertical edges**, positive where the image
///   gets brighter from left to right, negative where it gets darker;
/// - filter 2, `w²[i][j] = DERIV[i]·SMOOTH[j]/48`: **horizontal edges**, positive where it gets
///   brighter from top to bottom.
pub fn filters() -> Tensor4 {
    let outer = |rows: &[f32; 5], cols: &[f32; 5]| {
        rows.iter()
            .flat_map(|r| cols.iter().map(move |c| r * c / NORM))
            .collect::<Vec<f32>>()
    };
    let mut data = outer(&SMOOTH, &DERIV);
    data.extend(outer(&DERIV, &SMOOTH));
    Tensor4 {
        dims: [2, 1, 5, 5],
        data,
    }
}

/// The seed filters for a C-channel input: each channel gets the filter divided by C, so the
/// filters see the mean intensity.
pub fn filters_for_channels(c: usize) -> Tensor4 {
    let base = filters();
    let mut data = Vec::with_capacity(2 * c * 25);
    for k in 0..2 {
        for _ in 0..c {
            data.extend(base.data[k * 25..(k + 1) * 25].iter().map(|v| v / c as f32));
        }
    }
    Tensor4 {
        dims: [2, c, 5, 5],
        data,
    }
}

/// The built-in 24×24 grayscale input (N = C = 1), values in [0, 1]: a bright square
/// (rows 2–13, columns 3–14, value 1) whose corner lies in the first 5×5 window, and a dimmer
/// disc (value 0.6, radius 4.5, centre (17.5, 17.5)) in the lower right.
pub fn image() -> Tensor4 {
    let mut data = vec![0.0f32; 24 * 24];
    for i in 0..24 {
        for j in 0..24 {
            let v = if (2..=13).contains(&i) && (3..=14).contains(&j) {
                1.0
            } else {
                let (di, dj) = (i as f32 - 17.5, j as f32 - 17.5);
                if di * di + dj * dj <= 4.5 * 4.5 {
                    0.6
                } else {
                    0.0
                }
            };
            data[i * 24 + j] = v;
        }
    }
    Tensor4 {
        dims: [1, 1, 24, 24],
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_filters_give_one_on_a_unit_step() {
        let w = filters();
        // Vertical edge: columns 3 and 4 of the window are 1, the rest 0.
        let vertical: f32 = (0..5)
            .flat_map(|i| (3..5).map(move |j| (i, j)))
            .map(|(i, j)| w.at(0, 0, i, j))
            .sum();
        assert!((vertical - 1.0).abs() < 1e-6, "{vertical}");
        let horizontal: f32 = (3..5)
            .flat_map(|i| (0..5).map(move |j| (i, j)))
            .map(|(i, j)| w.at(1, 0, i, j))
            .sum();
        assert!((horizontal - 1.0).abs() < 1e-6, "{horizontal}");
        // Each filter sums to zero: a flat image gives no response.
        for k in 0..2 {
            let s: f32 = w.data[k * 25..(k + 1) * 25].iter().sum();
            assert!(s.abs() < 1e-6);
        }
    }
}
