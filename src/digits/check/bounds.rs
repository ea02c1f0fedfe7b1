//! The bounds of the outputs that have none in [`crate::compare`]: cross-entropy (the reasoning
//! of `tests/ops_gpu.rs`), selections, and an SGD update of host values.

use crate::compare::{compare, sgd_bound, sum_bound, Comparison};
use crate::cpu;
use crate::sgd::Sgd;

/// u = 2⁻²⁴.
const U: f64 = f32::EPSILON as f64 / 2.0;

/// An output that only selects or moves values is exact; one smallest normal f32 keeps the
/// ratio 0/bound defined.
pub const EXACT: f64 = f32::MIN_POSITIVE as f64;

/// One row's loss log Σ exp(z_c − m) + m − z_label: WGSL allows exp (3 + 2|x|) ulp and log 3 ulp
/// (or 2⁻²¹ absolute near 1); s = Σ exp(x_c) is off by (C + 3 + 2·max|x_c| + 2·max|z|)·2u
/// relative, so log s by that absolute; the two additions round magnitudes ≤ |m| + |log s| +
/// |z_label|. Allowed: twice all that.
fn row(row: &[f64], label: usize) -> f64 {
    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let zmax = row.iter().fold(0.0f64, |a, z| a.max(z.abs()));
    let xmax = row.iter().fold(0.0f64, |a, z| a.max((z - m).abs()));
    let s: f64 = row.iter().map(|z| (z - m).exp()).sum();
    let rel_s = (row.len() as f64 + 3.0 + 2.0 * xmax + 2.0 * zmax) * 2.0 * U;
    let log_err = rel_s + 3.0 * 2.0 * U * s.ln().abs() + 2f64.powi(-21);
    2.0 * (log_err + 2.0 * 2.0 * U * (m.abs() + s.ln().abs() + row[label].abs()))
}

/// The mean loss: N rows each within [`row`], summed in f32 (γ_N of Σ|rows|), divided by N.
pub fn ce_loss(z: &[f64], labels: &[u32]) -> f64 {
    let n = labels.len();
    let rows = cpu::cross_entropy_rows(z, labels, 10);
    let abs: f64 = rows.iter().map(|v| v.abs()).sum();
    let each: f64 = z
        .chunks(10)
        .zip(labels)
        .map(|(r, &l)| row(r, l as usize))
        .sum();
    let mean = rows.iter().sum::<f64>() / n as f64;
    (each + sum_bound(n as u64, abs)) / n as f64 + 2.0 * U * mean.abs()
}

/// dL/dz_c = (e_c/s − onehot)/N: e_c/s is off by (3 + 2|x_c|)·2u + rel_s + 2u relative (exp,
/// s, the division); the subtraction and the 1/N product add 2u each of |e_c/s − onehot| + 1.
pub fn ce_grad(z: &[f64], grad: &[f64], n: usize, i: usize) -> f64 {
    let r = &z[(i / 10) * 10..][..10];
    let m = r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let xmax = r.iter().fold(0.0f64, |a, v| a.max((v - m).abs()));
    let zmax = r.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let rel_s = (10.0 + 3.0 + 2.0 * xmax + 2.0 * zmax) * 2.0 * U;
    let p = (z[i] - m).exp() / r.iter().map(|v| (v - m).exp()).sum::<f64>();
    let rel_p = (3.0 + 2.0 * (z[i] - m).abs() + 2.0 * zmax) * 2.0 * U + rel_s + 2.0 * U;
    2.0 * (p * rel_p + 4.0 * U * (grad[i].abs() * n as f64 + 1.0)) / n as f64
}

/// The GPU's new parameter and momentum buffer against the f64 update of the old ones
/// (`compare::sgd_bound`: at most eight roundings of the magnitudes involved).
/// `before` is (parameter, gradient, momentum buffer) before the step, `after` the GPU's new
/// parameter and buffer.
pub fn sgd(
    sgd: &Sgd,
    before: [&[f32]; 3],
    after: [&[f32]; 2],
    dims: [usize; 4],
) -> (Comparison, Comparison) {
    let ([old, grad, buf_old], [new, buf_new]) = (before, after);
    let mut p = cpu::widen(old);
    let mut buf = cpu::widen(buf_old);
    let g = cpu::widen(grad);
    cpu::sgd_update(&mut p, &g, &mut buf, sgd);
    let (lr, mom, wd) = (
        f64::from(sgd.lr),
        f64::from(sgd.momentum),
        f64::from(sgd.weight_decay),
    );
    let o = |i: usize| f64::from(old[i]).abs();
    let bo = |i: usize| f64::from(buf_old[i]).abs();
    let p_scale = |i: usize| o(i) + lr * (g[i].abs() + wd * o(i) + mom * (bo(i) + buf[i].abs()));
    let b_scale = |i: usize| mom * bo(i) + g[i].abs() + wd * o(i);
    (
        compare(new, &p, |i| sgd_bound(p_scale(i)), dims),
        compare(buf_new, &buf, |i| sgd_bound(b_scale(i)), dims),
    )
}
