//! Small cases of the f64 reference for issue 9's Conv2d options, with every expected value worked
//! out by hand in the comments (independently of the code under test). All values are small
//! integers, so the f64 results are exact and compared with `==`.

use wgconv::{cpu, ConvShape, ConvShapeSpec, Padding, PaddingMode, PaddingSpec};

/// The 3×3 ramp [[1,2,3],[4,5,6],[7,8,9]].
const RAMP3: [f64; 9] = [1., 2., 3., 4., 5., 6., 7., 8., 9.];

fn shape(spec: ConvShapeSpec) -> ConvShape {
    ConvShape::new(spec).unwrap_or_else(|e| panic!("{spec:?}: {e}"))
}

/// One 3×3 image, one 3×3 filter, padding 1 on every side in `mode`, no bias.
fn ramp_pad1(mode: PaddingMode) -> ConvShape {
    shape(ConvShapeSpec {
        n: 1,
        c: 1,
        h: 3,
        w: 3,
        k: 1,
        r: 3,
        s: 3,
        padding: Padding::symmetric(1, 1),
        padding_mode: mode,
        bias: false,
        ..Default::default()
    })
}

fn forward(shape: &ConvShape, x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
    cpu::conv2d_bias_relu_fwd(shape, x, w, b).z
}

const ONES: [f64; 9] = [1.; 9];
/// A single tap at the kernel's top-left: output (p, q) is padded pixel (p − 1, q − 1).
const TOP_LEFT: [f64; 9] = [1., 0., 0., 0., 0., 0., 0., 0., 0.];
/// A single tap at the kernel's bottom-right: output (p, q) is padded pixel (p + 1, q + 1).
const BOTTOM_RIGHT: [f64; 9] = [0., 0., 0., 0., 0., 0., 0., 0., 1.];

#[test]
fn reflect_padding_of_the_ramp() {
    // Reflect (x[−1] = x[1], x[3] = x[1] on each axis) pads the ramp to, rows −1..=3:
    //   [5 4 5 6 5]
    //   [2 1 2 3 2]
    //   [5 4 5 6 5]
    //   [8 7 8 9 8]
    //   [5 4 5 6 5]
    let s = ramp_pad1(PaddingMode::Reflect);
    assert_eq!((s.p(), s.q()), (3, 3));
    // The top-left tap reads the padded rows −1..=1, columns −1..=1.
    assert_eq!(
        forward(&s, &RAMP3, &TOP_LEFT, &[]),
        [5., 4., 5., 2., 1., 2., 5., 4., 5.]
    );
    // The bottom-right tap reads rows 1..=3, columns 1..=3.
    assert_eq!(
        forward(&s, &RAMP3, &BOTTOM_RIGHT, &[]),
        [5., 6., 5., 8., 9., 8., 5., 6., 5.]
    );
    // 3×3 window sums: (0,0) = (5+4+5)+(2+1+2)+(5+4+5) = 33, (0,1) = 15+6+15 = 36,
    // (0,2) = 16+7+16 = 39, (1,0) = 5+14+23 = 42, (1,1) = 45, (1,2) = 7+16+25 = 48,
    // (2,0) = 14+23+14 = 51, (2,1) = 15+24+15 = 54, (2,2) = 16+25+16 = 57.
    assert_eq!(
        forward(&s, &RAMP3, &ONES, &[]),
        [33., 36., 39., 42., 45., 48., 51., 54., 57.]
    );
}

#[test]
fn replicate_padding_of_the_ramp() {
    // Replicate (x[−1] = x[0], x[3] = x[2]) pads the ramp to:
    //   [1 1 2 3 3]
    //   [1 1 2 3 3]
    //   [4 4 5 6 6]
    //   [7 7 8 9 9]
    //   [7 7 8 9 9]
    let s = ramp_pad1(PaddingMode::Replicate);
    assert_eq!(
        forward(&s, &RAMP3, &TOP_LEFT, &[]),
        [1., 1., 2., 1., 1., 2., 4., 4., 5.]
    );
    assert_eq!(
        forward(&s, &RAMP3, &BOTTOM_RIGHT, &[]),
        [5., 6., 6., 8., 9., 9., 8., 9., 9.]
    );
    // (0,0) = 4+4+13 = 21, (0,1) = 6+6+15 = 27, (0,2) = 8+8+17 = 33, (1,0) = 4+13+22 = 39,
    // (1,1) = 45, (1,2) = 8+17+26 = 51, (2,0) = 13+22+22 = 57, (2,1) = 15+24+24 = 63,
    // (2,2) = 17+26+26 = 69.
    assert_eq!(
        forward(&s, &RAMP3, &ONES, &[]),
        [21., 27., 33., 39., 45., 51., 57., 63., 69.]
    );
}

#[test]
fn circular_padding_of_the_ramp() {
    // Circular (x[−1] = x[2], x[3] = x[0]) pads the ramp to:
    //   [9 7 8 9 7]
    //   [3 1 2 3 1]
    //   [6 4 5 6 4]
    //   [9 7 8 9 7]
    //   [3 1 2 3 1]
    let s = ramp_pad1(PaddingMode::Circular);
    assert_eq!(
        forward(&s, &RAMP3, &TOP_LEFT, &[]),
        [9., 7., 8., 3., 1., 2., 6., 4., 5.]
    );
    assert_eq!(
        forward(&s, &RAMP3, &BOTTOM_RIGHT, &[]),
        [5., 6., 4., 8., 9., 7., 2., 3., 1.]
    );
    // Every 3×3 window of a 3-periodic image holds each pixel once: 45 everywhere.
    assert_eq!(forward(&s, &RAMP3, &ONES, &[]), [45.; 9]);
}

#[test]
fn zero_padding_of_the_ramp_with_a_bias() {
    // Zeros: (0,0) = 1+2+4+5 = 12, (0,1) = 1+2+3+4+5+6 = 21, (0,2) = 2+3+5+6 = 16,
    // (1,0) = 1+2+4+5+7+8 = 27, (1,1) = 45, (1,2) = 2+3+5+6+8+9 = 33, (2,0) = 4+5+7+8 = 24,
    // (2,1) = 39, (2,2) = 5+6+8+9 = 28; plus a bias of −30, and ReLU on y.
    let s = shape(ConvShapeSpec {
        bias: true,
        ..ramp_pad1(PaddingMode::Zeros).spec()
    });
    let f = cpu::conv2d_bias_relu_fwd(&s, &RAMP3, &ONES, &[-30.]);
    assert_eq!(f.z, [-18., -9., -14., -3., 15., 3., -6., 9., -2.]);
    assert_eq!(f.y, [0., 0., 0., 0., 15., 3., 0., 9., 0.]);
}

#[test]
fn dilated_2x2_kernel_on_a_5x5_ramp() {
    // x[i][j] = 5i + j + 1 (1..=25); w = [[1, 10], [100, 1000]] with dilation 2 reads
    // y(p,q) = x(p,q) + 10·x(p,q+2) + 100·x(p+2,q) + 1000·x(p+2,q+2); the dilated kernel spans
    // 3, so P = Q = 5 − 3 + 1 = 3.
    // y(0,0) = 1 + 10·3 + 100·11 + 1000·13 = 14131, and each step of 5p + q adds 1111:
    // y = 14131 + 1111·(5p + q) for 5p + q in {0, 1, 2, 5, 6, 7, 10, 11, 12}.
    // Check y(2,2) directly: 13 + 10·15 + 100·23 + 1000·25 = 27463 = 14131 + 1111·12.
    let x: Vec<f64> = (1..=25).map(f64::from).collect();
    let w = [1., 10., 100., 1000.];
    let spec = ConvShapeSpec {
        n: 1,
        c: 1,
        h: 5,
        w: 5,
        k: 1,
        r: 2,
        s: 2,
        dilation: (2, 2),
        bias: false,
        ..Default::default()
    };
    let s = shape(spec);
    assert_eq!((s.p(), s.q()), (3, 3));
    assert_eq!(
        forward(&s, &x, &w, &[]),
        [14131., 15242., 16353., 19686., 20797., 21908., 25241., 26352., 27463.]
    );
    // With zero padding 1 the output is 5×5 (5 + 2 − 2 − 1 + 1); y(0,0) reads padded (−1,−1),
    // (−1,1), (1,−1) (zeros) and (1,1) = x(1,1) = 7: 7000. y(1,1) reads x(0,0), x(0,2), x(2,0),
    // x(2,2): the unpadded y(0,0) = 14131. y(4,4) reads (3,3) = 19 and three zeros: 19.
    let s = shape(ConvShapeSpec {
        padding: Padding::symmetric(1, 1),
        ..spec
    });
    assert_eq!((s.p(), s.q()), (5, 5));
    let y = forward(&s, &x, &w, &[]);
    assert_eq!((y[0], y[6], y[24]), (7000., 14131., 19.));
    // Dilation (2, 1) (rows 2 apart, columns adjacent): P = 3, Q = 4;
    // y(0,0) = x(0,0) + 10·x(0,1) + 100·x(2,0) + 1000·x(2,1) = 1 + 20 + 1100 + 12000 = 13121.
    let s = shape(ConvShapeSpec {
        dilation: (2, 1),
        ..spec
    });
    assert_eq!((s.p(), s.q()), (3, 4));
    assert_eq!(forward(&s, &x, &w, &[])[0], 13121.);
}

#[test]
fn depthwise_layer_with_multiplier_2() {
    // C = 2, G = 2, K = 4: filters 0 and 1 read channel 0, filters 2 and 3 read channel 1.
    // x channel 0 = [[1,2],[3,4]], channel 1 = [[10,20],[30,40]]; 2×2 filters, output 1×1.
    //   k0 = [[1,0],[0,0]]  → 1          + b 0.5 → 1.5
    //   k1 = [[1,1],[1,1]]  → 1+2+3+4=10 + b 0   → 10   (100 if it read channel 1)
    //   k2 = [[0,0],[0,1]]  → 40         + b 0   → 40
    //   k3 = [[1,−1],[0,0]] → 10 − 20    + b 1   → −9, ReLU 0
    let s = shape(ConvShapeSpec {
        n: 1,
        c: 2,
        h: 2,
        w: 2,
        k: 4,
        r: 2,
        s: 2,
        groups: 2,
        ..Default::default()
    });
    assert_eq!(s.weight_len(), 4 * 4, "weights are (4, 1, 2, 2)");
    let x = [1., 2., 3., 4., 10., 20., 30., 40.];
    #[rustfmt::skip]
    let w = [
        1., 0., 0., 0.,
        1., 1., 1., 1.,
        0., 0., 0., 1.,
        1., -1., 0., 0.,
    ];
    let b = [0.5, 0., 0., 1.];
    let f = cpu::conv2d_bias_relu_fwd(&s, &x, &w, &b);
    assert_eq!(f.z, [1.5, 10., 40., -9.]);
    assert_eq!(f.y, [1.5, 10., 40., 0.]);
    // Backward with dz = [1, 2, 3, 4]: dw[k] = dz_k · (its channel's 2×2 image),
    // db = dz, dx channel 0 = 1·k0 + 2·k1 = [[3,2],[2,2]], channel 1 = 3·k2 + 4·k3 =
    // [[4,−4],[0,3]].
    let dz = [1., 2., 3., 4.];
    let gw = cpu::conv2d_bwd_weight(&s, &x, &dz);
    #[rustfmt::skip]
    assert_eq!(gw.dw, [
        1., 2., 3., 4.,
        2., 4., 6., 8.,
        30., 60., 90., 120.,
        40., 80., 120., 160.,
    ]);
    assert_eq!(gw.db, dz);
    let gx = cpu::conv2d_bwd_input(&s, &w, &dz);
    assert_eq!(gx.dx, [3., 2., 2., 2., 4., -4., 0., 3.]);
    // Each pixel is read once by each of its channel's two filters.
    assert_eq!(gx.dx_terms, [2; 8]);
}

/// One row of 3 pixels, a 1×1 filter of weight 2, padding 1 left and right in `mode`: the
/// output is the padded row of 5, positions −1..=3.
fn row_pad1(mode: PaddingMode) -> ConvShape {
    shape(ConvShapeSpec {
        n: 1,
        c: 1,
        h: 1,
        w: 3,
        k: 1,
        r: 1,
        s: 1,
        padding: Padding {
            top: 0,
            bottom: 0,
            left: 1,
            right: 1,
        },
        padding_mode: mode,
        bias: false,
        ..Default::default()
    })
}

#[test]
fn dx_under_reflect_padding_reaches_the_mirrored_pixel() {
    // Row [x0 x1 x2] reflect-padded is [x1 x0 x1 x2 x1] (positions −1..=3); with w = 2 and
    // dz = [1, 10, 100, 1000, 10000] on those positions:
    //   dx0 = 2·10                 = 20
    //   dx1 = 2·(1 + 100 + 10000)  = 20202   (its own position and both mirrors −1 and 3)
    //   dx2 = 2·1000               = 2000
    let dz = [1., 10., 100., 1000., 10000.];
    let s = row_pad1(PaddingMode::Reflect);
    assert_eq!((s.p(), s.q()), (1, 5));
    assert_eq!(forward(&s, &[1., 2., 3.], &[2.], &[]), [4., 2., 4., 6., 4.]);
    let gx = cpu::conv2d_bwd_input(&s, &[2.], &dz);
    assert_eq!(gx.dx, [20., 20202., 2000.]);
    assert_eq!(gx.dx_terms, [1, 3, 1]);
    assert_eq!(gx.dx_abs, [20., 20202., 2000.]);
    // Replicate pads to [x0 x0 x1 x2 x2]: dx = [2·(1+10), 2·100, 2·(1000+10000)].
    let gx = cpu::conv2d_bwd_input(&row_pad1(PaddingMode::Replicate), &[2.], &dz);
    assert_eq!(gx.dx, [22., 200., 22000.]);
    assert_eq!(gx.dx_terms, [2, 1, 2]);
    // Circular pads to [x2 x0 x1 x2 x0]: dx = [2·(10+10000), 2·100, 2·(1+1000)].
    let gx = cpu::conv2d_bwd_input(&row_pad1(PaddingMode::Circular), &[2.], &dz);
    assert_eq!(gx.dx, [20020., 200., 2002.]);
    // Zeros: the padded positions read nothing and send nothing back.
    let gx = cpu::conv2d_bwd_input(&row_pad1(PaddingMode::Zeros), &[2.], &dz);
    assert_eq!(gx.dx, [20., 200., 2000.]);
    assert_eq!(gx.dx_terms, [1, 1, 1]);
}

#[test]
fn dx_under_reflect_padding_in_2d() {
    // 3×3 image, 1×1 filter of weight 1, reflect padding 1: the output is the 5×5 padded image.
    // Along each axis of 3 with pad 1, positions −1..=3 read pixels [1, 0, 1, 2, 1], so pixel 0
    // is read once, pixel 1 three times, pixel 2 once. With dz = 1 everywhere, dx(i,j) is the
    // product of the two counts: [[1,3,1],[3,9,3],[1,3,1]] — the centre pixel receives its own
    // gradient, its 4 edge mirrors' and its 4 corner mirrors'.
    let s = shape(ConvShapeSpec {
        r: 1,
        s: 1,
        ..ramp_pad1(PaddingMode::Reflect).spec()
    });
    assert_eq!((s.p(), s.q()), (5, 5));
    let gx = cpu::conv2d_bwd_input(&s, &[1.], &[1.; 25]);
    assert_eq!(gx.dx, [1., 3., 1., 3., 9., 3., 1., 3., 1.]);
    assert_eq!(gx.dx_terms, [1, 3, 1, 3, 9, 3, 1, 3, 1]);
    // dw of the same layer with x = ramp and dz = 1: Σ over the padded image =
    // (5+4+5+6+5) + (2+1+2+3+2) + (5+4+5+6+5) + (8+7+8+9+8) + (5+4+5+6+5) = 25+10+25+40+25 = 125.
    let gw = cpu::conv2d_bwd_weight(&s, &RAMP3, &[1.; 25]);
    assert_eq!(gw.dw, [125.]);
    assert!(gw.db.is_empty(), "no bias, no db");
}

#[test]
fn same_padding_of_an_even_kernel() {
    // PyTorch: total padding d·(R − 1), the odd one at the bottom / right.
    // R = 4, d = 1: total 3 → top 1, bottom 2. S = 2, d = 1: total 1 → left 0, right 1.
    assert_eq!(
        Padding::same((4, 2), (1, 1)),
        Padding {
            top: 1,
            bottom: 2,
            left: 0,
            right: 1
        }
    );
    // R = 4, d = 2: total 6 → 3 and 3. S = 3, d = 3: total 6 → 3 and 3. R = 1: no padding.
    assert_eq!(Padding::same((4, 3), (2, 3)), Padding::symmetric(3, 3));
    assert_eq!(Padding::same((1, 1), (5, 5)), Padding::ZERO);
    // R = 2, d = 3: total 3 → 1 and 2.
    assert_eq!(Padding::same((2, 2), (3, 1)).top, 1);
    assert_eq!(Padding::same((2, 2), (3, 1)).bottom, 2);
    // The output has the input's size.
    for (h, w, r, s, d) in [
        (7, 5, 4, 4, (1, 1)),
        (6, 6, 2, 4, (2, 1)),
        (9, 4, 3, 2, (1, 2)),
    ] {
        let pad = PaddingSpec::Same.resolve((r, s), d, (1, 1)).unwrap();
        let shape = shape(ConvShapeSpec {
            h,
            w,
            r,
            s,
            dilation: d,
            padding: pad,
            ..Default::default()
        });
        assert_eq!((shape.p(), shape.q()), (h, w), "{shape}");
    }
    // Forward: x = [1, 2, 3] (one row), w = [1, 10], same → left 0, right 1:
    // y0 = 1 + 10·2 = 21, y1 = 2 + 10·3 = 32, y2 = 3 + 10·0 = 3 (the extra zero on the right;
    // on the left y0 would be 10·1 = 10).
    let s = shape(ConvShapeSpec {
        n: 1,
        c: 1,
        h: 1,
        w: 3,
        k: 1,
        r: 1,
        s: 2,
        padding: PaddingSpec::Same.resolve((1, 2), (1, 1), (1, 1)).unwrap(),
        bias: false,
        ..Default::default()
    });
    assert_eq!(forward(&s, &[1., 2., 3.], &[1., 10.], &[]), [21., 32., 3.]);
}

#[test]
fn asymmetric_4_sided_padding_forward() {
    // Row [1 2 3], zero padding left 2 right 0, 1×2 filter [1, 10]: padded [0 0 1 2 3], Q = 4:
    // y = [0 + 0, 0 + 10, 1 + 20, 2 + 30] = [0, 10, 21, 32].
    // Rows: one row, top 1 bottom 0 and R = 1: P = 2, the first output row reads the zero row.
    let s = shape(ConvShapeSpec {
        n: 1,
        c: 1,
        h: 1,
        w: 3,
        k: 1,
        r: 1,
        s: 2,
        padding: Padding {
            top: 1,
            bottom: 0,
            left: 2,
            right: 0,
        },
        bias: false,
        ..Default::default()
    });
    assert_eq!((s.p(), s.q()), (2, 4));
    assert_eq!(
        forward(&s, &[1., 2., 3.], &[1., 10.], &[]),
        [0., 0., 0., 0., 0., 10., 21., 32.]
    );
    // Reflect with the same sides: columns −2..=2 read [x2 x1 x0 x1 x2] = [3 2 1 2 3]; the top
    // padding row would reflect row 1, which a 1-row image lacks, so it is rejected.
    assert!(ConvShape::new(ConvShapeSpec {
        padding_mode: PaddingMode::Reflect,
        ..s.spec()
    })
    .is_err());
    let s = shape(ConvShapeSpec {
        padding: Padding {
            top: 0,
            ..s.padding
        },
        padding_mode: PaddingMode::Reflect,
        ..s.spec()
    });
    // y = [3 + 20, 2 + 10, 1 + 20, 2 + 30] = [23, 12, 21, 32].
    assert_eq!(
        forward(&s, &[1., 2., 3.], &[1., 10.], &[]),
        [23., 12., 21., 32.]
    );
}
