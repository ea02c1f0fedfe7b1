//! The f64 reference's backward passes (dW, db, dX) for every Conv2d option of issue 9 against
//! central differences of its own forward pass: each padding mode (reflect, replicate,
//! circular), dilation with padding, grouped and depthwise layers, 4-sided asymmetric padding,
//! `same` padding of even kernels, no bias, and everything at once. Several seeded random small
//! shapes per family.
//!
//! The loss is L = Σ_o c_o·z_o with random c (z the pre-activation), so dL/dz = c and the
//! analytic gradients are `conv2d_bwd_weight(x, c)` and `conv2d_bwd_input(w, c)`. z is linear in
//! each weight, each input pixel and each bias, so L is linear along every coordinate and the
//! central difference (L(v + h) − L(v − h)) / 2h has no truncation error at any h: what is left
//! is f64 rounding. We take h = 0.5. One evaluation of L sums M outputs, each a sum of at most
//! T + 1 products (T taps and the bias) scaled by c_o, so by the standard recursive-summation
//! bound its error is at most γ_n·S with n = M + T + 3 and S = Σ_o |c_o|·Σ|terms of z_o| (at the
//! perturbed point S grows by at most h·g_abs, g_abs the gradient's Σ|terms|). The difference of
//! two such values divided by 2h, plus the rounding of v ± h (≤ ε·|v ± h| relative to the step,
//! i.e. ≲ 4ε·g_abs on the quotient), stays below
//!     tol = 4·n·ε·(S/h + g_abs),
//! about 1e-13 here, while any misrouted product moves a gradient by ~1e-2 or more.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wgconv::{cpu, ConvShape, ConvShapeSpec, Padding, PaddingMode, PaddingSpec};

const SEEDS: u64 = 4;
const H: f64 = 0.5;

struct Problem {
    shape: ConvShape,
    x: Vec<f64>,
    w: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

fn draw(rng: &mut ChaCha8Rng, n: u64, a: f64) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-a..a)).collect()
}

fn problem(shape: ConvShape, rng: &mut ChaCha8Rng) -> Problem {
    Problem {
        shape,
        x: draw(rng, shape.input_len(), 1.0),
        w: draw(rng, shape.weight_len(), 1.0),
        b: draw(rng, shape.bias_len(), 1.0),
        c: draw(rng, shape.output_len(), 1.0),
    }
}

/// L = Σ c·z, and S = Σ |c|·(Σ|terms of z|).
fn loss(p: &Problem, x: &[f64], w: &[f64], b: &[f64]) -> (f64, f64) {
    let fwd = cpu::conv2d_bias_relu_fwd(&p.shape, x, w, b);
    let l = fwd.z.iter().zip(&p.c).map(|(z, c)| z * c).sum();
    let s = fwd.abs_sum.iter().zip(&p.c).map(|(a, c)| a * c.abs()).sum();
    (l, s)
}

/// Checks dx, dw and db of `p` against central differences; returns how many were checked.
fn check(p: &Problem) -> usize {
    let shape = &p.shape;
    let gw = cpu::conv2d_bwd_weight(shape, &p.x, &p.c);
    let gx = cpu::conv2d_bwd_input(shape, &p.w, &p.c);
    assert_eq!(gx.dx.len() as u64, shape.input_len());
    assert_eq!(gw.dw.len() as u64, shape.weight_len());
    assert_eq!(
        gw.db.len() as u64,
        shape.bias_len(),
        "{shape}: db without bias is empty"
    );
    let (_, s) = loss(p, &p.x, &p.w, &p.b);
    let n = (shape.output_len() + shape.reduction_len() + 3) as f64;
    let mut checked = 0;
    for (which, analytic, abs) in [
        (0, &gx.dx, &gx.dx_abs),
        (1, &gw.dw, &gw.dw_abs),
        (2, &gw.db, &gw.db_abs),
    ] {
        for (i, (&a, &g_abs)) in analytic.iter().zip(abs).enumerate() {
            let mut v = [p.x.clone(), p.w.clone(), p.b.clone()];
            v[which][i] += H;
            let (up, _) = loss(p, &v[0], &v[1], &v[2]);
            v[which][i] -= 2.0 * H;
            let (down, _) = loss(p, &v[0], &v[1], &v[2]);
            let numeric = (up - down) / (2.0 * H);
            let tol = 4.0 * n * f64::EPSILON * (s / H + g_abs);
            assert!(
                (a - numeric).abs() <= tol,
                "{shape}: {}[{i}] analytic {a:e}, numeric {numeric:e}, tolerance {tol:e}",
                ["dx", "dw", "db"][which]
            );
            checked += 1;
        }
    }
    checked
}

/// Draws specs from `family` until one validates, builds a problem and checks it, for each seed.
fn family(name: &str, seed_base: u64, mut spec: impl FnMut(&mut ChaCha8Rng) -> ConvShapeSpec) {
    let mut distinct = std::collections::HashSet::new();
    for seed in 0..SEEDS {
        let mut rng = ChaCha8Rng::seed_from_u64(seed_base * 1000 + seed);
        let shape = loop {
            if let Ok(shape) = ConvShape::new(spec(&mut rng)) {
                break shape;
            }
        };
        distinct.insert(shape.to_string());
        let p = problem(shape, &mut rng);
        let checked = check(&p);
        assert!(checked > 0, "{name}: {shape} checked nothing");
    }
    assert!(distinct.len() > 1, "{name}: the seeds drew one shape only");
}

fn sides(rng: &mut ChaCha8Rng, max: u32) -> Padding {
    Padding {
        top: rng.random_range(0..=max),
        bottom: rng.random_range(0..=max),
        left: rng.random_range(0..=max),
        right: rng.random_range(0..=max),
    }
}

fn any_mode(rng: &mut ChaCha8Rng) -> PaddingMode {
    PaddingMode::ALL[rng.random_range(0..4)]
}

fn base(rng: &mut ChaCha8Rng) -> ConvShapeSpec {
    ConvShapeSpec {
        n: rng.random_range(1..=2),
        c: rng.random_range(1..=3),
        h: rng.random_range(3..=6),
        w: rng.random_range(3..=6),
        k: rng.random_range(1..=3),
        r: rng.random_range(1..=3),
        s: rng.random_range(1..=3),
        stride: (rng.random_range(1..=2), rng.random_range(1..=2)),
        ..Default::default()
    }
}

fn padding_mode_family(mode: PaddingMode, seed_base: u64) {
    family(mode.name(), seed_base, |rng| ConvShapeSpec {
        // Padding on every side, up to 2 (reflect needs it below the side, ≥ 3 here).
        padding: Padding {
            top: rng.random_range(1..=2),
            ..sides(rng, 2)
        },
        padding_mode: mode,
        ..base(rng)
    });
}

#[test]
fn reflect_padding_gradients() {
    padding_mode_family(PaddingMode::Reflect, 1);
}

#[test]
fn replicate_padding_gradients() {
    padding_mode_family(PaddingMode::Replicate, 2);
}

#[test]
fn circular_padding_gradients() {
    padding_mode_family(PaddingMode::Circular, 3);
}

#[test]
fn circular_padding_as_large_as_the_side_gradients() {
    // Circular allows padding == side: the padding is then a whole copy of the image.
    family("circular pad = side", 4, |rng| {
        let spec = base(rng);
        ConvShapeSpec {
            padding: Padding {
                top: spec.h,
                bottom: rng.random_range(0..=spec.h),
                left: rng.random_range(0..=spec.w),
                right: spec.w,
            },
            padding_mode: PaddingMode::Circular,
            ..spec
        }
    });
}

#[test]
fn zero_padding_4_sided_asymmetric_gradients() {
    family("4-sided zeros", 5, |rng| ConvShapeSpec {
        padding: Padding {
            top: 0,
            bottom: rng.random_range(1..=3),
            left: rng.random_range(1..=3),
            right: rng.random_range(0..=1),
        },
        ..base(rng)
    });
}

#[test]
fn dilation_with_padding_gradients() {
    family("dilation", 6, |rng| ConvShapeSpec {
        h: rng.random_range(5..=8),
        w: rng.random_range(5..=8),
        r: rng.random_range(2..=3),
        s: rng.random_range(2..=3),
        dilation: (rng.random_range(2..=3), rng.random_range(1..=3)),
        padding: Padding {
            left: rng.random_range(1..=3),
            ..sides(rng, 3)
        },
        padding_mode: any_mode(rng),
        ..base(rng)
    });
}

#[test]
fn grouped_gradients() {
    family("groups", 7, |rng| {
        let g = rng.random_range(2..=3);
        ConvShapeSpec {
            c: g * rng.random_range(1..=2),
            k: g * rng.random_range(1..=2),
            groups: g,
            padding: sides(rng, 1),
            padding_mode: any_mode(rng),
            ..base(rng)
        }
    });
}

#[test]
fn depthwise_with_multiplier_gradients() {
    family("depthwise", 8, |rng| {
        let c = rng.random_range(2..=4);
        ConvShapeSpec {
            c,
            k: c * rng.random_range(2..=3),
            groups: c,
            padding: sides(rng, 1),
            padding_mode: any_mode(rng),
            ..base(rng)
        }
    });
}

#[test]
fn same_padding_of_even_kernels_gradients() {
    family("same, even kernel", 9, |rng| {
        let r = [2, 4][rng.random_range(0..2)];
        let s = [2, 4][rng.random_range(0..2)];
        let dilation = (rng.random_range(1..=2), rng.random_range(1..=2));
        let padding = PaddingSpec::Same
            .resolve((r, s), dilation, (1, 1))
            .expect("stride 1");
        let spec = ConvShapeSpec {
            h: rng.random_range(4..=7),
            w: rng.random_range(4..=7),
            r,
            s,
            dilation,
            padding,
            padding_mode: any_mode(rng),
            stride: (1, 1),
            ..base(rng)
        };
        if let Ok(shape) = ConvShape::new(spec) {
            assert_eq!((shape.p(), shape.q()), (spec.h, spec.w), "same: {shape}");
        }
        spec
    });
}

#[test]
fn no_bias_gradients() {
    family("no bias", 10, |rng| ConvShapeSpec {
        bias: false,
        padding: sides(rng, 2),
        padding_mode: any_mode(rng),
        ..base(rng)
    });
}

#[test]
fn all_options_at_once_gradients() {
    family("all at once", 11, |rng| {
        let g = rng.random_range(1..=2);
        ConvShapeSpec {
            c: g * rng.random_range(1..=2),
            k: g * rng.random_range(1..=2),
            h: rng.random_range(4..=7),
            w: rng.random_range(4..=7),
            groups: g,
            dilation: (rng.random_range(1..=2), rng.random_range(1..=2)),
            padding: sides(rng, 3),
            padding_mode: any_mode(rng),
            bias: rng.random_bool(0.5),
            ..base(rng)
        }
    });
}
