//! The notebook's layer (24×24 input, two 5×5 filters, stride 1) on inputs whose outputs are
//! worked out by hand below, independently of the code under test.

mod common;

use wgconv::{notebook, ConvShape, Tensor4};

/// x[i][j] = i + 2j (small integers: every product and sum below is exact in f32).
fn ramp() -> Tensor4 {
    Tensor4 {
        dims: [1, 1, 24, 24],
        data: (0..24)
            .flat_map(|i| (0..24).map(move |j| (i + 2 * j) as f32))
            .collect(),
    }
}

#[test]
fn the_notebooks_layer_by_hand() {
    let ctx = common::gpu();
    let shape = ConvShape::SEED;
    assert_eq!((shape.p(), shape.q()), (20, 20), "(24 − 5)/1 + 1 = 20");
    assert_eq!(shape.param_count(), 5 * 5 * 2 + 2);

    // Filter 1: all ones. Window sum at (p, q) = Σ_{r,s<5} (p + r + 2(q + s))
    //   = 25p + 5·(0+1+2+3+4) + 50q + 2·5·(0+1+2+3+4) = 25p + 50q + 150.
    // Filter 2: +1 at (0, 0), −1 at (4, 4): x[p][q] − x[p+4][q+4] = −4 − 8 = −12 everywhere.
    let mut w = vec![0.0f32; 50];
    w[..25].fill(1.0);
    w[25] = 1.0;
    w[25 + 24] = -1.0;
    let w = Tensor4 {
        dims: [2, 1, 5, 5],
        data: w,
    };
    // b₁ = −400: c¹ = max(0, 25p + 50q − 250), zero up to 25p + 50q ≤ 250.
    // b₂ = 12.5: c² = max(0, −12 + 12.5) = 0.5 everywhere.
    let b = [-400.0f32, 12.5];
    let out = ctx
        .conv2d_bias_relu_fwd(&shape, &ramp(), &w, &b, true)
        .expect("forward");
    let z = out.z.expect("z");
    for p in 0..20 {
        for q in 0..20 {
            let z1 = 25.0 * p as f32 + 50.0 * q as f32 - 250.0;
            assert_eq!(z.at(0, 0, p, q), z1, "z¹ at ({p},{q})");
            assert_eq!(out.y.at(0, 0, p, q), z1.max(0.0), "c¹ at ({p},{q})");
            assert_eq!(z.at(0, 1, p, q), 0.5, "z² at ({p},{q})");
            assert_eq!(out.y.at(0, 1, p, q), 0.5, "c² at ({p},{q})");
        }
    }
    // Spot values: c¹ at (0, 0) is cut to 0 (z = −250); at (19, 19) it is 25·19 + 50·19 − 250.
    assert_eq!(out.y.at(0, 0, 0, 0), 0.0);
    assert_eq!(out.y.at(0, 0, 19, 19), 1175.0);
}

#[test]
fn seed_filters_on_the_seed_image_at_c11() {
    // The built-in image is 1 on rows 2–13, columns 3–14, so the first 5×5 window sees ones at
    // rows 2–4, columns 3–4. Filter 1 is SMOOTH[i]·DERIV[j]/48 with SMOOTH = 1 4 6 4 1 and
    // DERIV = −1 −2 0 2 1: c¹₁,₁ = (6 + 4 + 1)·(2 + 1)/48 = 33/48 = 0.6875 (b = 0).
    // Filter 2 is DERIV[i]·SMOOTH[j]/48: (0 + 2 + 1)·(4 + 1)/48 = 15/48 = 0.3125.
    let ctx = common::gpu();
    let out = ctx
        .conv2d_bias_relu_fwd(
            &ConvShape::SEED,
            &notebook::image(),
            &notebook::filters(),
            &[0.0, 0.0],
            false,
        )
        .expect("forward");
    assert!(
        (out.y.at(0, 0, 0, 0) - 0.6875).abs() < 1e-6,
        "{}",
        out.y.at(0, 0, 0, 0)
    );
    assert!(
        (out.y.at(0, 1, 0, 0) - 0.3125).abs() < 1e-6,
        "{}",
        out.y.at(0, 1, 0, 0)
    );
    // Left edge of the square (dark → bright): the window at (5, 1) covers rows 5–9 (all inside
    // the square) and columns 1–5, of which 3–5 are bright: window columns j = 2, 3, 4, so
    // c¹ = (1+4+6+4+1)·(0 + 2 + 1)/48 = 1.
    assert!(
        (out.y.at(0, 0, 5, 1) - 1.0).abs() < 1e-6,
        "{}",
        out.y.at(0, 0, 5, 1)
    );
    // Right edge (bright → dark): at (5, 12) columns 12–14 are bright, j = 0, 1, 2, so
    // z¹ = 16·(−1 − 2 + 0)/48 = −1 before the ReLU, which cuts it to 0.
    assert_eq!(out.y.at(0, 0, 5, 12), 0.0);
}
