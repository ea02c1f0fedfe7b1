//! GPU-vs-reference comparison with a per-element bound.

use crate::shape::ConvShape;
use crate::tensor::unflatten;

/// The element that came closest to (or went furthest past) its bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Worst {
    /// Its (N, K, P, Q) (or other rank-4) index.
    pub index: [usize; 4],
    pub gpu: f32,
    pub reference: f64,
    pub bound: f64,
}

impl Worst {
    /// |gpu − reference| / bound; infinite for a NaN.
    pub fn ratio(&self) -> f64 {
        error_ratio(self.gpu, self.reference, self.bound)
    }
}

/// The outcome of comparing one output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Elements compared.
    pub checked: usize,
    /// Elements whose error is over their bound (a NaN or infinity counts as over).
    pub over: usize,
    /// The element with the largest error-to-bound ratio (None when nothing was compared).
    pub worst: Option<Worst>,
}

impl Comparison {
    /// True when no element is over its bound.
    pub fn passed(&self) -> bool {
        self.over == 0
    }

    /// The worst error as a fraction of its bound (0 when nothing was compared).
    pub fn worst_ratio(&self) -> f64 {
        self.worst.map_or(0.0, |w| w.ratio())
    }

    /// Merges the comparison of another part of the same output (e.g. another batch chunk).
    pub fn merge(self, other: Comparison) -> Comparison {
        let worst = match (self.worst, other.worst) {
            (Some(a), Some(b)) => Some(if b.ratio() > a.ratio() { b } else { a }),
            (a, b) => a.or(b),
        };
        Comparison {
            checked: self.checked + other.checked,
            over: self.over + other.over,
            worst,
        }
    }
}

fn error_ratio(gpu: f32, reference: f64, bound: f64) -> f64 {
    let err = (f64::from(gpu) - reference).abs();
    if err.is_nan() {
        f64::INFINITY
    } else {
        err / bound
    }
}

/// Compares `gpu` against `reference` element by element, element i held to `bound(i)`.
/// `dims` only labels the worst element's index.
pub fn compare(
    gpu: &[f32],
    reference: &[f64],
    bound: impl Fn(usize) -> f64,
    dims: [usize; 4],
) -> Comparison {
    assert_eq!(gpu.len(), reference.len(), "compare: lengths differ");
    let mut over = 0;
    let mut worst: Option<(usize, f64, f64)> = None;
    for (i, (&g, &r)) in gpu.iter().zip(reference).enumerate() {
        let b = bound(i);
        let ratio = error_ratio(g, r, b);
        if ratio > 1.0 || !g.is_finite() {
            over += 1;
        }
        if worst.is_none_or(|(_, wr, _)| ratio > wr) {
            worst = Some((i, ratio, b));
        }
    }
    Comparison {
        checked: gpu.len(),
        over,
        worst: worst.map(|(i, _, b)| Worst {
            index: unflatten(dims, i),
            gpu: gpu[i],
            reference: reference[i],
            bound: b,
        }),
    }
}

/// The forward bound for one output element whose terms have Σ|w·x| + |b| = `abs_sum`.
///
/// An f32 sum of n = C·R·S + 1 terms (products rounded once each, FMA or not) is within
/// n·2⁻²³·Σ|terms| of the exact sum (Higham's γ_n with u = 2⁻²⁴, doubled for margin over the
/// final rounding). ReLU is 1-Lipschitz, so the same bound holds after it. The floor
/// n·2⁻¹²⁶ (f32::MIN_POSITIVE per term) covers GPUs that flush subnormal products to zero.
pub fn forward_bound(shape: &ConvShape, abs_sum: f64) -> f64 {
    let n = (shape.reduction_len() + 1) as f64;
    n * f64::from(f32::EPSILON) * abs_sum + n * f64::from(f32::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_elements_over_bound_and_finds_the_worst() {
        let gpu = [1.0f32, 2.5, 3.0, f32::NAN];
        let reference = [1.0f64, 2.0, 3.1, 4.0];
        let c = compare(&gpu[..3], &reference[..3], |_| 0.2, [1, 1, 1, 3]);
        assert_eq!(c.over, 1);
        let w = c.worst.expect("worst");
        assert_eq!(w.index, [0, 0, 0, 1]);
        assert!((w.ratio() - 2.5).abs() < 1e-12);
        let c = compare(&gpu, &reference, |_| 1.0, [1, 1, 2, 2]);
        // Errors 0, 0.5, 0.1 are within 1.0; the NaN is over and is the worst.
        assert_eq!(c.over, 1);
        assert_eq!(c.worst.expect("worst").index, [0, 0, 1, 1]);
    }
}
