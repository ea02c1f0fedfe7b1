//! Validation of issue 9's Conv2d options in `ConvShape::new` and `ConvShape::of_dims`: each
//! error names its field; the output-size formula, parameter and FLOP counts on hand-computed
//! examples; `PaddingSpec::parse` for each accepted spelling and some rejected ones.

use wgconv::{
    ConvOptions, ConvShape, ConvShapeSpec, Padding, PaddingMode, PaddingSpec, ShapeError,
};

/// 1 × 4 × 8 × 8 input, 6 3×3 filters, otherwise the defaults.
fn spec() -> ConvShapeSpec {
    ConvShapeSpec {
        n: 1,
        c: 4,
        h: 8,
        w: 8,
        k: 6,
        r: 3,
        s: 3,
        ..Default::default()
    }
}

fn err(spec: ConvShapeSpec) -> ShapeError {
    ConvShape::new(spec).expect_err("must be rejected")
}

#[test]
fn groups_must_be_positive_and_divide_c_and_k() {
    let e = err(ConvShapeSpec {
        groups: 0,
        ..spec()
    });
    assert_eq!(e, ShapeError::Zero { field: "groups" });
    assert!(e.to_string().contains("`groups`"), "{e}");
    let e = err(ConvShapeSpec {
        groups: 3,
        k: 6,
        ..spec()
    });
    assert_eq!(e.to_string(), "groups 3 does not divide C = 4");
    let e = err(ConvShapeSpec {
        groups: 2,
        k: 3,
        ..spec()
    });
    assert_eq!(
        e,
        ShapeError::GroupsDoNotDivide {
            groups: 2,
            what: "K",
            value: 3
        }
    );
    assert_eq!(e.to_string(), "groups 2 does not divide K = 3");
    // Dividing both is fine: G = 2 (C/G = 2, K/G = 3), depthwise G = C = 4 with K = 8.
    let s = ConvShape::new(ConvShapeSpec {
        groups: 2,
        ..spec()
    })
    .unwrap();
    assert_eq!((s.channels_per_group(), s.filters_per_group()), (2, 3));
    assert_eq!(s.weight_len(), 6 * 2 * 3 * 3);
    let s = ConvShape::new(ConvShapeSpec {
        groups: 4,
        k: 8,
        ..spec()
    })
    .unwrap();
    assert_eq!((s.channels_per_group(), s.filters_per_group()), (1, 2));
}

#[test]
fn dilation_must_be_positive() {
    let e = err(ConvShapeSpec {
        dilation: (0, 1),
        ..spec()
    });
    assert_eq!(
        e,
        ShapeError::Zero {
            field: "dilation_h"
        }
    );
    let e = err(ConvShapeSpec {
        dilation: (1, 0),
        ..spec()
    });
    assert_eq!(
        e,
        ShapeError::Zero {
            field: "dilation_w"
        }
    );
    assert!(e.to_string().contains("`dilation_w`"), "{e}");
}

#[test]
fn same_padding_needs_stride_1() {
    for stride in [(2, 1), (1, 2), (2, 2)] {
        assert_eq!(
            PaddingSpec::Same.resolve((3, 3), (1, 1), stride),
            Err(ShapeError::SameWithStride {
                sh: stride.0,
                sw: stride.1
            })
        );
        let options = ConvOptions {
            padding: PaddingSpec::Same,
            stride,
            ..Default::default()
        };
        let e = ConvShape::of_dims([1, 4, 8, 8], [6, 4, 3, 3], &options).unwrap_err();
        assert!(matches!(e, ShapeError::SameWithStride { .. }), "{e}");
        assert!(e.to_string().contains("'same'"), "{e}");
    }
    // 'valid' with a stride is fine, and means no padding.
    assert_eq!(
        PaddingSpec::Valid.resolve((3, 3), (1, 1), (2, 2)),
        Ok(Padding::ZERO)
    );
}

/// `spec()` on an H × W = 3 × 4 image with `padding` in `mode`, 1×1 filters (so only the
/// padding mode's rule can fail).
fn padded(mode: PaddingMode, padding: Padding) -> Result<ConvShape, ShapeError> {
    ConvShape::new(ConvShapeSpec {
        h: 3,
        w: 4,
        r: 1,
        s: 1,
        padding,
        padding_mode: mode,
        ..spec()
    })
}

fn one_side(side: &str, pad: u32) -> Padding {
    let mut p = Padding::ZERO;
    match side {
        "top" => p.top = pad,
        "bottom" => p.bottom = pad,
        "left" => p.left = pad,
        "right" => p.right = pad,
        _ => unreachable!(),
    }
    p
}

#[test]
fn reflect_padding_must_be_smaller_than_each_side() {
    for (side, dim, size) in [
        ("top", "H", 3),
        ("bottom", "H", 3),
        ("left", "W", 4),
        ("right", "W", 4),
    ] {
        // size − 1 is the largest reflect allows (x[−(size−1)] = x[size−1]).
        assert!(
            padded(PaddingMode::Reflect, one_side(side, size - 1)).is_ok(),
            "{side}"
        );
        for pad in [size, size + 5] {
            let e = padded(PaddingMode::Reflect, one_side(side, pad)).unwrap_err();
            assert_eq!(
                e,
                ShapeError::PaddingTooLarge {
                    mode: PaddingMode::Reflect,
                    rule: "smaller than",
                    side,
                    pad,
                    dim,
                    size
                }
            );
            let text = e.to_string();
            assert!(
                text.contains("reflect")
                    && text.contains(&format!("{side} padding {pad} with {dim} = {size}")),
                "{text}"
            );
        }
    }
}

#[test]
fn circular_padding_may_equal_each_side_but_not_exceed_it() {
    for (side, dim, size) in [
        ("top", "H", 3),
        ("bottom", "H", 3),
        ("left", "W", 4),
        ("right", "W", 4),
    ] {
        assert!(
            padded(PaddingMode::Circular, one_side(side, size)).is_ok(),
            "{side}"
        );
        let e = padded(PaddingMode::Circular, one_side(side, size + 1)).unwrap_err();
        assert_eq!(
            e,
            ShapeError::PaddingTooLarge {
                mode: PaddingMode::Circular,
                rule: "at most",
                side,
                pad: size + 1,
                dim,
                size
            }
        );
    }
    // All four at once at the limit: a 9 × 12 padded image.
    let s = padded(
        PaddingMode::Circular,
        Padding {
            top: 3,
            bottom: 3,
            left: 4,
            right: 4,
        },
    )
    .unwrap();
    assert_eq!((s.p(), s.q()), (9, 12));
}

#[test]
fn replicate_and_zero_padding_take_any_size() {
    for mode in [PaddingMode::Replicate, PaddingMode::Zeros] {
        let s = padded(
            mode,
            Padding {
                top: 10,
                bottom: 20,
                left: 30,
                right: 40,
            },
        )
        .unwrap();
        assert_eq!((s.p(), s.q()), (33, 74), "{mode}");
    }
}

#[test]
fn the_dilated_kernel_must_fit_the_padded_input() {
    // R = 3, dh = 3: extent 3·2 + 1 = 7 > H = 5.
    let base = ConvShapeSpec {
        h: 5,
        w: 5,
        dilation: (3, 1),
        ..spec()
    };
    assert_eq!(
        err(base),
        ShapeError::KernelTallerThanInput { r: 7, padded: 5 }
    );
    // Padding 1 and 1: 7 ≤ 7, one output row.
    let s = ConvShape::new(ConvShapeSpec {
        padding: Padding::symmetric(1, 0),
        ..base
    })
    .unwrap();
    assert_eq!((s.p(), s.q()), (1, 3));
    // Top 2, bottom 0 is just as good; top 1, bottom 0 is one short.
    assert!(ConvShape::new(ConvShapeSpec {
        padding: Padding {
            top: 2,
            ..Padding::ZERO
        },
        ..base
    })
    .is_ok());
    assert_eq!(
        err(ConvShapeSpec {
            padding: Padding {
                top: 1,
                ..Padding::ZERO
            },
            ..base
        }),
        ShapeError::KernelTallerThanInput { r: 7, padded: 6 }
    );
    // Width: S = 2, dw = 5: extent 6 > W + left + right = 4 + 1 + 0 = 5.
    assert_eq!(
        err(ConvShapeSpec {
            w: 4,
            s: 2,
            dilation: (1, 5),
            padding: Padding {
                left: 1,
                ..Padding::ZERO
            },
            ..spec()
        }),
        ShapeError::KernelWiderThanInput { s: 6, padded: 5 }
    );
}

#[test]
fn of_dims_checks_weight_channels_per_group() {
    let options = ConvOptions {
        groups: 2,
        ..Default::default()
    };
    // C = 4 in 2 groups: weights need 2 input channels, not 3 (nor 4, the ungrouped count).
    for got in [3, 4, 1] {
        let e = ConvShape::of_dims([1, 4, 8, 8], [6, got, 3, 3], &options).unwrap_err();
        assert_eq!(
            e,
            ShapeError::ChannelsPerGroup {
                got,
                c: 4,
                groups: 2,
                expected: 2
            }
        );
        assert!(e.to_string().ends_with("expected 2"), "{e}");
    }
    let s = ConvShape::of_dims([1, 4, 8, 8], [6, 2, 3, 3], &options).unwrap();
    assert_eq!((s.c, s.k, s.groups, s.channels_per_group()), (4, 6, 2, 2));
    // Groups 0, and groups not dividing C or K, are named before the channel count.
    let bad = |groups, w: [usize; 4]| {
        ConvShape::of_dims(
            [1, 4, 8, 8],
            w,
            &ConvOptions {
                groups,
                ..Default::default()
            },
        )
        .unwrap_err()
    };
    assert_eq!(bad(0, [6, 4, 3, 3]), ShapeError::Zero { field: "groups" });
    assert_eq!(
        bad(3, [6, 1, 3, 3]).to_string(),
        "groups 3 does not divide C = 4"
    );
    assert_eq!(
        bad(4, [6, 1, 3, 3]).to_string(),
        "groups 4 does not divide K = 6"
    );
    // of_dims resolves 'same' with the weights' kernel: R = 4, S = 2 → 1/2 rows, 0/1 columns.
    let s = ConvShape::of_dims(
        [2, 3, 7, 5],
        [4, 3, 4, 2],
        &ConvOptions {
            padding: PaddingSpec::Same,
            padding_mode: PaddingMode::Reflect,
            bias: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        s.padding,
        Padding {
            top: 1,
            bottom: 2,
            left: 0,
            right: 1
        }
    );
    assert_eq!(
        (s.p(), s.q(), s.padding_mode, s.bias),
        (7, 5, PaddingMode::Reflect, false)
    );
}

#[test]
fn output_size_on_hand_computed_examples() {
    // P = ⌊(H + top + bottom − dh·(R − 1) − 1) / sh⌋ + 1, each worked by hand:
    let cases = [
        // (H, top, bottom, R, dh, sh, P)
        (24, 0, 0, 5, 1, 1, 20), // (24 − 4 − 1)/1 + 1 = 20
        (7, 1, 2, 3, 2, 2, 3),   // (7 + 3 − 4 − 1) = 5, ⌊5/2⌋ + 1 = 3
        (10, 0, 0, 3, 3, 1, 4),  // (10 − 6 − 1) = 3, + 1 = 4
        (5, 2, 1, 2, 1, 3, 3),   // (5 + 3 − 1 − 1) = 6, 6/3 + 1 = 3
        (6, 0, 3, 4, 1, 4, 2),   // (6 + 3 − 3 − 1) = 5, ⌊5/4⌋ + 1 = 2
        (9, 4, 0, 3, 4, 2, 3),   // (9 + 4 − 8 − 1) = 4, 4/2 + 1 = 3
    ];
    for (h, top, bottom, r, dh, sh, p) in cases {
        let s = ConvShape::new(ConvShapeSpec {
            n: 1,
            c: 1,
            h,
            w: 1,
            k: 1,
            r,
            s: 1,
            stride: (sh, 1),
            padding: Padding {
                top,
                bottom,
                left: 0,
                right: 0,
            },
            dilation: (dh, 1),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.p(), p, "{s}");
        assert_eq!(s.q(), 1, "{s}");
        // The width formula is the same one, on the transposed shape.
        let t = ConvShape::new(ConvShapeSpec {
            h: 1,
            w: h,
            r: 1,
            s: r,
            stride: (1, sh),
            padding: Padding {
                top: 0,
                bottom: 0,
                left: top,
                right: bottom,
            },
            dilation: (1, dh),
            ..s.spec()
        })
        .unwrap();
        assert_eq!((t.p(), t.q()), (1, p), "{t}");
    }
}

#[test]
fn parameter_and_flop_counts_with_groups_and_bias() {
    // Depthwise 3×3 on 32 channels, multiplier 1: 32·1·3·3 + 32 = 320; without bias 288.
    let dw = ConvShapeSpec {
        n: 1,
        c: 32,
        h: 16,
        w: 16,
        k: 32,
        r: 3,
        s: 3,
        groups: 32,
        padding: Padding::symmetric(1, 1),
        ..Default::default()
    };
    let s = ConvShape::new(dw).unwrap();
    assert_eq!((s.param_count(), s.bias_len()), (320, 32));
    // FLOPs: 2·N·K·P·Q·(C/G)·R·S = 2·1·32·16·16·1·9 = 147456.
    assert_eq!(s.forward_flops(), 147_456);
    let s = ConvShape::new(ConvShapeSpec { bias: false, ..dw }).unwrap();
    assert_eq!((s.param_count(), s.bias_len()), (288, 0));
    // Multiplier 2: 64·1·9 + 64 = 640.
    let s = ConvShape::new(ConvShapeSpec { k: 64, ..dw }).unwrap();
    assert_eq!(s.param_count(), 640);
    // C = 4, K = 6, G = 2, 3×3 on 5×5 with padding 1: P = Q = 5, weights 6·2·9 = 108, + 6
    // biases = 114; FLOPs 2·1·6·25·(2·9) = 5400 (ungrouped it would be 10800).
    let g = ConvShapeSpec {
        n: 1,
        c: 4,
        h: 5,
        w: 5,
        k: 6,
        r: 3,
        s: 3,
        groups: 2,
        padding: Padding::symmetric(1, 1),
        ..Default::default()
    };
    let s = ConvShape::new(g).unwrap();
    assert_eq!(
        (s.p(), s.q(), s.param_count(), s.forward_flops()),
        (5, 5, 114, 5400)
    );
    let s = ConvShape::new(ConvShapeSpec { groups: 1, ..g }).unwrap();
    assert_eq!((s.param_count(), s.forward_flops()), (222, 10_800));
}

#[test]
fn padding_spec_parse_accepts_each_spelling() {
    let sides = |top, bottom, left, right| {
        PaddingSpec::Sides(Padding {
            top,
            bottom,
            left,
            right,
        })
    };
    for (text, want) in [
        ("same", PaddingSpec::Same),
        ("valid", PaddingSpec::Valid),
        ("0", sides(0, 0, 0, 0)),
        ("2", sides(2, 2, 2, 2)),
        ("1,2", sides(1, 1, 2, 2)),
        ("1, 2", sides(1, 1, 2, 2)),
        ("1,2,3,4", sides(1, 2, 3, 4)),
        (" 0 ,5, 0,1", sides(0, 5, 0, 1)),
    ] {
        assert_eq!(PaddingSpec::parse(text), Ok(want), "{text:?}");
        // Display writes a spelling that parses back to the same thing.
        let shown = want.to_string();
        assert_eq!(
            PaddingSpec::parse(&shown),
            Ok(want),
            "{text:?} shown as {shown:?}"
        );
    }
    assert_eq!(sides(1, 2, 3, 4).to_string(), "1,2,3,4");
    assert_eq!(sides(1, 1, 2, 2).to_string(), "1,2");
}

#[test]
fn padding_spec_parse_rejects_other_spellings() {
    for text in [
        "",
        "SAME",
        "Same",
        "full",
        "-1",
        "1.5",
        "1,2,3",
        "1,2,3,4,5",
        "1,,2",
        "1;2",
        "a,b",
        "4294967296",
    ] {
        let e = PaddingSpec::parse(text).expect_err(text);
        assert!(e.contains("padding `"), "{text:?}: {e}");
    }
    // A wrong count says how many values it found.
    let e = PaddingSpec::parse("1,2,3").unwrap_err();
    assert!(e.contains("has 3 values"), "{e}");
}

#[test]
fn padding_mode_names_round_trip() {
    for (name, mode) in [
        ("zeros", PaddingMode::Zeros),
        ("reflect", PaddingMode::Reflect),
        ("replicate", PaddingMode::Replicate),
        ("circular", PaddingMode::Circular),
    ] {
        assert_eq!(PaddingMode::parse(name), Some(mode));
        assert_eq!(mode.name(), name);
    }
    assert_eq!(PaddingMode::parse("zero"), None);
    assert_eq!(PaddingMode::parse("Reflect"), None);
    // `source` on an axis of 4 pixels, coordinates −3..=6, worked by hand:
    //   reflect:   −3→3 −2→2 −1→1, 0..=3 themselves, 4→2 5→1 6→0
    //   replicate: −3..−1→0, 4..6→3;  circular: −3→1 −2→2 −1→3, 4→0 5→1 6→2;  zeros: None.
    let map = |m: PaddingMode| (-3..=6).map(|i| m.source(i, 4)).collect::<Vec<_>>();
    let some = |v: [i64; 10]| v.map(Some).to_vec();
    assert_eq!(
        map(PaddingMode::Reflect),
        some([3, 2, 1, 0, 1, 2, 3, 2, 1, 0])
    );
    assert_eq!(
        map(PaddingMode::Replicate),
        some([0, 0, 0, 0, 1, 2, 3, 3, 3, 3])
    );
    assert_eq!(
        map(PaddingMode::Circular),
        some([1, 2, 3, 0, 1, 2, 3, 0, 1, 2])
    );
    let zeros = map(PaddingMode::Zeros);
    assert_eq!(zeros[3..7], [Some(0), Some(1), Some(2), Some(3)]);
    assert!(zeros[..3].iter().chain(&zeros[7..]).all(Option::is_none));
}
