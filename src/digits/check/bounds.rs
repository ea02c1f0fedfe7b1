//! The bounds of the digits check: cross-entropy's (from [`crate::compare`]), selections, and an
//! SGD update of host values.

use crate::compare::{compare, sgd_bound, Comparison};
use crate::cpu;
use crate::sgd::Sgd;

/// An output that only selects or moves values is exact; one smallest normal f32 keeps the
/// ratio 0/bound defined.
pub const EXACT: f64 = f32::MIN_POSITIVE as f64;

/// The mean loss of 10-class logits `z` (`compare::cross_entropy_loss_bound`).
pub fn ce_loss(z: &[f64], labels: &[u32]) -> f64 {
    let rows = cpu::cross_entropy_rows(z, labels, 10);
    let mean = rows.iter().sum::<f64>() / labels.len() as f64;
    crate::compare::cross_entropy_loss_bound(z, labels, &rows, mean)
}

/// dL/dz_i of 10-class logits (`compare::cross_entropy_grad_bound`).
pub fn ce_grad(z: &[f64], grad: &[f64], n: usize, i: usize) -> f64 {
    crate::compare::cross_entropy_grad_bound(&z[(i / 10) * 10..][..10], i % 10, grad[i], n)
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
