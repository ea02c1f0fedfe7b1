//! `ConvShape`'s own checks; the options' are in tests/shape_options.rs.

use super::*;

#[test]
fn seed_layer_has_52_parameters_and_20x20_maps() {
    let s = ConvShape::new(ConvShape::SEED.spec()).expect("seed shape is valid");
    assert_eq!((s.p(), s.q()), (20, 20));
    assert_eq!(s.param_count(), 52);
    assert_eq!(s.forward_flops(), 2 * 2 * 20 * 20 * 25);
}

#[test]
fn each_bad_field_is_named() {
    let good = ConvShape::SEED.spec();
    let e = ConvShape::new(ConvShapeSpec { k: 0, ..good }).unwrap_err();
    assert_eq!(e, ShapeError::Zero { field: "k" });
    let e = ConvShape::new(ConvShapeSpec {
        stride: (1, 0),
        ..good
    })
    .unwrap_err();
    assert_eq!(e, ShapeError::Zero { field: "stride_w" });
    let e = ConvShape::new(ConvShapeSpec { r: 25, ..good }).unwrap_err();
    assert!(matches!(
        e,
        ShapeError::KernelTallerThanInput { r: 25, padded: 24 }
    ));
    // With padding 1 the same kernel fits: 24 + 2 = 26 ≥ 25.
    assert!(ConvShape::new(ConvShapeSpec {
        r: 25,
        padding: Padding::symmetric(1, 0),
        ..good
    })
    .is_ok());
    let e = ConvShape::new(ConvShapeSpec {
        s: 30,
        padding: Padding::symmetric(0, 2),
        ..good
    })
    .unwrap_err();
    assert!(matches!(
        e,
        ShapeError::KernelWiderThanInput { s: 30, padded: 28 }
    ));
}

#[test]
fn sizes_that_overflow_u64_are_rejected() {
    let big = u32::MAX;
    let e = ConvShape::new(ConvShapeSpec {
        n: big,
        c: big,
        h: big,
        w: 1,
        k: 1,
        r: 1,
        s: 1,
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(e, ShapeError::Overflow { .. }), "{e}");
}
