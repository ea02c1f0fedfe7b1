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

/// u = 2⁻²⁴, the unit roundoff of f32; 2·u = f32::EPSILON = 2⁻²³.
const U: f64 = f32::EPSILON as f64 / 2.0;
/// The smallest normal f32, 2⁻¹²⁶: what a GPU that flushes subnormals to zero may lose per term.
const TINY: f64 = f32::MIN_POSITIVE as f64;

/// The bound for an f32 sum of `terms` terms (each a product rounded once, FMA or not) whose
/// absolute values add up to `abs_sum`: the error is at most γₙ·Σ|terms| with γₙ ≈ n·u
/// (Higham, §3.1) in any summation order; we allow twice that, n·2⁻²³·Σ|terms|, plus n·2⁻¹²⁶
/// for subnormal products flushed to zero.
pub fn sum_bound(terms: u64, abs_sum: f64) -> f64 {
    let n = terms as f64;
    n * 2.0 * U * abs_sum + n * TINY
}

/// The forward bound for one output element whose terms have Σ|w·x| + |b| = `abs_sum`: a sum of
/// C·R·S + 1 terms (the products and the bias). ReLU is 1-Lipschitz, so the bound on z holds for
/// y = max(0, z) too.
pub fn forward_bound(shape: &ConvShape, abs_sum: f64) -> f64 {
    sum_bound(shape.reduction_len() + 1, abs_sum)
}

/// The loss L = Σ(y − t)²/M from the same y and t: each d = y − t and d² is rounded (≤ 3u
/// relative), the M non-negative terms are summed (γ_M) and divided by M (u); all relative to L
/// since every term is positive. Allowed: (M + 4)·2⁻²³·L + M·2⁻¹²⁶.
pub fn loss_bound(m: u64, loss: f64) -> f64 {
    (m as f64 + 4.0) * 2.0 * U * loss + m as f64 * TINY
}

/// dL/dz = (y − t)·(2/M) from the same y and t: three roundings (the difference, 2/M, the
/// product), each ≤ u relative; allowed 8u = 2⁻²¹ relative plus 2⁻¹²⁶.
pub fn dz_bound(dz: f64) -> f64 {
    8.0 * U * dz.abs() + TINY
}

/// One SGD update from the same parameter p, gradient g and momentum buffer: at most eight
/// roundings (g + wd·p, momentum·buf + g, Nesterov's g + momentum·buf, p − lr·g; two each), each
/// relative to the magnitude it rounds; allowed 16u = 2⁻²⁰ times the sum of those magnitudes,
/// `scale` = |p| + lr·(|g| + wd·|p| + momentum·(|buf| + |buf'|)), plus 2⁻¹²⁶.
pub fn sgd_bound(scale: f64) -> f64 {
    16.0 * U * scale + TINY
}

/// The bound of one cross-entropy row's loss m + log Σ exp(z_c − m) − z_label, from its
/// logits: WGSL allows exp an error of (3 + 2|x|) ulp and log 3 ulp (2⁻²¹ absolute near 1);
/// with each x_c = z_c − m rounded once, s = Σ exp(x_c) errs by at most
/// (C + 3 + 2·max|x_c| + 2·max|z|)·2u relative (`cross_entropy_sum_error`), so log s by that
/// absolute; the two additions add a rounding each of magnitude ≤ |m| + |log s| + |z_label|.
/// Allowed: twice all that.
pub fn cross_entropy_row_bound(row: &[f64], label: usize) -> f64 {
    let (m, s) = max_and_sum(row);
    let log_err = cross_entropy_sum_error(row) + 6.0 * U * s.ln().abs() + 2f64.powi(-21);
    2.0 * (log_err + 4.0 * U * (m.abs() + s.ln().abs() + row[label].abs()))
}

/// The relative error of the f32 sum s = Σ exp(z_c − m) of one row (see
/// [`cross_entropy_row_bound`]).
pub fn cross_entropy_sum_error(row: &[f64]) -> f64 {
    let (m, _) = max_and_sum(row);
    let zmax = row.iter().fold(0.0f64, |a, z| a.max(z.abs()));
    let xmax = row.iter().fold(0.0f64, |a, z| a.max((z - m).abs()));
    (row.len() as f64 + 3.0 + 2.0 * xmax + 2.0 * zmax) * 2.0 * U
}

/// The bound of dL/dz_c = (e_c/s − onehot)/N for logit c of `row` (`grad` the twin's value, `n`
/// the batch): e_c/s errs by (3 + 2|x_c| + 2·max|z|)·2u (exp of a rounded x_c) + the sum's
/// error + 2u (the division), relative; the subtraction and the product by the rounded 1/N add
/// 2u each of |e_c/s − onehot| + 1. Allowed: twice that, over N.
pub fn cross_entropy_grad_bound(row: &[f64], c: usize, grad: f64, n: usize) -> f64 {
    let (m, s) = max_and_sum(row);
    let zmax = row.iter().fold(0.0f64, |a, z| a.max(z.abs()));
    let p = (row[c] - m).exp() / s;
    let rel_p = (3.0 + 2.0 * (row[c] - m).abs() + 2.0 * zmax) * 2.0 * U
        + cross_entropy_sum_error(row)
        + 2.0 * U;
    2.0 * (p * rel_p + 4.0 * U * (grad.abs() * n as f64 + 1.0)) / n as f64
}

/// The bound of the batch's cross-entropy, the f32 mean of the rows' losses: each row within
/// its bound, their f32 sum (γ_N of Σ|rows|), the division by N (one rounding).
pub fn cross_entropy_loss_bound(logits: &[f64], labels: &[u32], rows: &[f64], loss: f64) -> f64 {
    let classes = logits.len() / labels.len().max(1);
    let n = labels.len() as f64;
    let row_bounds: f64 = logits
        .chunks(classes.max(1))
        .zip(labels)
        .map(|(row, &l)| cross_entropy_row_bound(row, l as usize))
        .sum();
    let abs_rows: f64 = rows.iter().map(|v| v.abs()).sum();
    (row_bounds + sum_bound(labels.len() as u64, abs_rows)) / n + 2.0 * U * loss.abs()
}

/// The largest logit of a row and Σ exp(z − max).
fn max_and_sum(row: &[f64]) -> (f64, f64) {
    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (m, row.iter().map(|z| (z - m).exp()).sum())
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
