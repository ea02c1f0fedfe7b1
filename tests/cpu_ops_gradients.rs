//! Finite differences of the f64 twins' gradients for the network ops: the ReLU's, max
//! pooling's, mean squared error's and cross-entropy's. Central differences with step h err by
//! O(h²·f''') plus rounding O(ε·|f|/h); h = 1e-5 on smooth functions of values of order 1 keeps
//! both below 1e-8, the tolerance used. Max pooling and the ReLU are piecewise linear, so away
//! from their kinks (the inputs are kept apart by more than h) the differences are exact up to
//! rounding.

use wgconv::cpu::{self, PoolShape};

const H: f64 = 1e-5;

/// Central difference of `f` at `x` along coordinate i.
fn diff(f: &dyn Fn(&[f64]) -> f64, x: &[f64], i: usize) -> f64 {
    let (mut a, mut b) = (x.to_vec(), x.to_vec());
    a[i] += H;
    b[i] -= H;
    (f(&a) - f(&b)) / (2.0 * H)
}

fn assert_grad(name: &str, f: &dyn Fn(&[f64]) -> f64, x: &[f64], grad: &[f64]) {
    assert_eq!(x.len(), grad.len(), "{name}: one gradient per input");
    for (i, g) in grad.iter().enumerate() {
        let d = diff(f, x, i);
        assert!(
            (d - g).abs() < 1e-8,
            "{name}[{i}]: difference {d}, gradient {g}"
        );
    }
}

/// Distinct values spaced 0.013 apart in a scrambled order: no ties, no kink within h.
fn values(n: usize, offset: f64) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 37) % n) as f64 * 0.013 - offset)
        .collect()
}

#[test]
fn cross_entropy_gradient_is_the_difference_of_its_loss() {
    let (classes, labels) = (4, [2u32, 0, 3]);
    let z = values(12, 0.07);
    let grad = cpu::cross_entropy(&z, &labels, classes).grad;
    assert_grad(
        "dL/dz",
        &|z| cpu::cross_entropy(z, &labels, classes).loss,
        &z,
        &grad,
    );
}

#[test]
fn cross_entropy_is_stable_and_matches_the_direct_formula() {
    // log Σ exp z − z_label computed directly for small logits…
    let z = [0.5, -1.0, 2.0];
    let direct = z.iter().map(|v: &f64| v.exp()).sum::<f64>().ln() - z[1];
    assert!((cpu::cross_entropy(&z, &[1], 3).loss - direct).abs() < 1e-14);
    // …and finite where the direct formula overflows (exp(1000) = ∞).
    let big = [1000.0, 999.0, 0.0];
    let l = cpu::cross_entropy(&big, &[0], 3).loss;
    assert!(
        (l - (1.0 + (-1.0f64).exp() + (-1000.0f64).exp()).ln()).abs() < 1e-12,
        "{l}"
    );
}

#[test]
fn mse_gradient_is_the_difference_of_its_loss() {
    let (p, t) = (
        values(10, 0.05),
        values(10, -0.02).into_iter().rev().collect::<Vec<_>>(),
    );
    let grad = cpu::mse_loss(&p, &t).grad;
    assert_grad("dL/dp", &|p| cpu::mse_loss(p, &t).loss, &p, &grad);
}

/// L = Σ c·f(x) for fixed weights c: its gradient is f's backward applied to c.
#[test]
fn max_pool_backward_is_the_difference_of_its_forward() {
    for (kernel, stride, padding) in [
        ((2, 2), (2, 2), (0, 0)),
        ((3, 3), (1, 2), (1, 1)),
        ((2, 3), (1, 1), (1, 0)),
    ] {
        let shape = PoolShape {
            x_dims: [2, 2, 5, 6],
            kernel,
            stride,
            padding,
        };
        let x = values(120, 0.6);
        let (y, argmax) = cpu::max_pool2d_fwd(&shape, &x);
        let c: Vec<f64> = (0..y.len()).map(|i| ((i % 5) as f64 - 2.0) * 0.3).collect();
        let loss = |x: &[f64]| {
            cpu::max_pool2d_fwd(&shape, x)
                .0
                .iter()
                .zip(&c)
                .map(|(y, c)| y * c)
                .sum()
        };
        let grad = cpu::max_pool2d_bwd(&shape, &argmax, &c);
        assert_grad("dL/dx", &loss, &x, &grad);
    }
}

#[test]
fn max_pool_first_maximum_wins_a_tie() {
    let shape = PoolShape {
        x_dims: [1, 1, 2, 2],
        kernel: (2, 2),
        stride: (2, 2),
        padding: (0, 0),
    };
    let (y, at) = cpu::max_pool2d_fwd(&shape, &[1.0, 3.0, 3.0, 2.0]);
    assert_eq!((y, at), (vec![3.0], vec![1]));
    assert_eq!(
        cpu::max_pool2d_bwd(&shape, &[1], &[5.0]),
        [0.0, 5.0, 0.0, 0.0]
    );
}

#[test]
fn relu_backward_is_the_difference_of_its_forward() {
    let z = values(9, 0.05);
    let c = values(9, 0.0);
    let y: Vec<f64> = z.iter().map(|&v| cpu::relu(v)).collect();
    let grad = cpu::relu_bwd(&y, &c);
    let loss = |z: &[f64]| z.iter().zip(&c).map(|(&z, c)| cpu::relu(z) * c).sum();
    assert_grad("dL/dz", &loss, &z, &grad);
    assert!(cpu::relu(f64::NAN).is_nan());
}
