//! The CPU reference's gradients against central finite differences of its own loss, so the
//! reference that the GPU is held to is itself proven.
//!
//! Away from the ReLU's kink the loss is a quadratic in each parameter, so a central difference
//! is exact up to f64 rounding: about 2⁻⁵²·L/h per evaluation. Inputs are drawn so that every
//! pre-activation is at least 1e-2 away from 0, far beyond what a step h = 1e-5 can move it
//! (|Δz| ≤ h·Σ|x| < 1e-3 here), so no difference straddles the kink.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wgconv::{cpu, ConvShape, ConvShapeSpec};

struct Problem {
    shape: ConvShape,
    x: Vec<f64>,
    w: Vec<f64>,
    b: Vec<f64>,
    t: Vec<f64>,
}

fn loss(p: &Problem, x: &[f64], w: &[f64], b: &[f64]) -> f64 {
    let fwd = cpu::conv2d_bias_relu_fwd(&p.shape, x, w, b);
    cpu::loss_mse_relu_bwd(&fwd.y, &p.t).loss
}

/// A random problem whose pre-activations all keep |z| ≥ 1e-2 (redrawn until they do).
fn problem(spec: ConvShapeSpec, seed: u64) -> Problem {
    let shape = ConvShape::new(spec).expect("valid");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    loop {
        let mut draw = |n: u64, a: f64| {
            (0..n)
                .map(|_| rng.random_range(-a..a))
                .collect::<Vec<f64>>()
        };
        let p = Problem {
            shape,
            x: draw(shape.input_len(), 1.0),
            w: draw(shape.weight_len(), 0.5),
            b: draw(u64::from(shape.k), 0.3),
            t: draw(shape.output_len(), 1.0),
        };
        let fwd = cpu::conv2d_bias_relu_fwd(&shape, &p.x, &p.w, &p.b);
        if fwd.z.iter().all(|z| z.abs() >= 1e-2) && fwd.z.iter().any(|&z| z > 0.0) {
            return p;
        }
    }
}

/// Central difference of the loss along coordinate i of one of x, w, b.
fn numeric(p: &Problem, which: usize, i: usize, h: f64) -> f64 {
    let mut v = [p.x.clone(), p.w.clone(), p.b.clone()];
    v[which][i] += h;
    let up = loss(p, &v[0], &v[1], &v[2]);
    v[which][i] -= 2.0 * h;
    let down = loss(p, &v[0], &v[1], &v[2]);
    (up - down) / (2.0 * h)
}

#[test]
fn analytic_gradients_match_central_differences() {
    let specs = [
        ConvShapeSpec {
            n: 2,
            c: 2,
            h: 6,
            w: 5,
            k: 3,
            r: 3,
            s: 2,
            stride: (1, 2),
            padding: wgconv::Padding::symmetric(1, 0),
            ..Default::default()
        },
        ConvShapeSpec {
            n: 1,
            c: 1,
            h: 8,
            w: 8,
            k: 2,
            r: 5,
            s: 5,
            stride: (1, 1),
            padding: wgconv::Padding::symmetric(0, 0),
            ..Default::default()
        },
        ConvShapeSpec {
            n: 3,
            c: 1,
            h: 7,
            w: 4,
            k: 2,
            r: 2,
            s: 3,
            stride: (3, 1),
            padding: wgconv::Padding::symmetric(2, 1),
            ..Default::default()
        },
    ];
    let h = 1e-5;
    for (seed, spec) in specs.into_iter().enumerate() {
        let p = problem(spec, seed as u64);
        let fwd = cpu::conv2d_bias_relu_fwd(&p.shape, &p.x, &p.w, &p.b);
        let l = cpu::loss_mse_relu_bwd(&fwd.y, &p.t);
        let gw = cpu::conv2d_bwd_weight(&p.shape, &p.x, &l.dz);
        let gx = cpu::conv2d_bwd_input(&p.shape, &p.w, &l.dz);
        // f64 rounding of two loss evaluations divided by 2h, with a wide margin.
        let tol = 1e3 * f64::EPSILON * l.loss.max(1.0) / h;
        for (which, analytic) in [(0, &gx.dx), (1, &gw.dw), (2, &gw.db)] {
            for (i, &a) in analytic.iter().enumerate() {
                let n = numeric(&p, which, i, h);
                assert!(
                    (a - n).abs() <= tol,
                    "{} [{which}][{i}]: analytic {a:e}, numeric {n:e}, tolerance {tol:e}",
                    p.shape
                );
            }
        }
    }
}

#[test]
fn sgd_reference_follows_torch_optim_sgd() {
    // Worked by hand from torch.optim.SGD's update rule (dampening 0):
    // p = 1, grad = 0.5, lr = 0.1, momentum = 0.9, wd = 0.2.
    // step 1: g = 0.5 + 0.2·1 = 0.7; buf = 0.7; p = 1 − 0.07 = 0.93.
    // step 2 (grad 0.5 again): g = 0.5 + 0.2·0.93 = 0.686; buf = 0.9·0.7 + 0.686 = 1.316;
    //         p = 0.93 − 0.1316 = 0.7984.
    // The settings are f32 (0.1 is 0.100000001490116...), so the results differ from the decimal
    // ones by about 2⁻²⁴ relative: 1e-7 allows that and nothing more.
    let sgd = wgconv::sgd::Sgd {
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 0.2,
        nesterov: false,
    };
    let (mut p, mut buf) = (vec![1.0], vec![0.0]);
    cpu::sgd_update(&mut p, &[0.5], &mut buf, &sgd);
    assert!((p[0] - 0.93).abs() < 1e-7 && (buf[0] - 0.7).abs() < 1e-7);
    cpu::sgd_update(&mut p, &[0.5], &mut buf, &sgd);
    assert!(
        (p[0] - 0.7984).abs() < 1e-7 && (buf[0] - 1.316).abs() < 1e-7,
        "{p:?} {buf:?}"
    );
    // Nesterov, step 1: g = 0.7, buf = 0.7, g = 0.7 + 0.9·0.7 = 1.33, p = 1 − 0.133 = 0.867.
    let nesterov = wgconv::sgd::Sgd {
        nesterov: true,
        ..sgd
    };
    let (mut p, mut buf) = (vec![1.0], vec![0.0]);
    cpu::sgd_update(&mut p, &[0.5], &mut buf, &nesterov);
    assert!((p[0] - 0.867).abs() < 1e-7, "{p:?}");
}
