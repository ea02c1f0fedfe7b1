//! Shape validation and the output-size formula against brute force, on random shapes.

use proptest::prelude::*;
use wgconv::{ConvShape, ConvShapeSpec, ShapeError};

/// Window positions counted one by one: starts 0, s, 2s, ... while the window fits.
fn positions(size: u32, pad: u32, kernel: u32, stride: u32) -> u32 {
    let padded = size + 2 * pad;
    (0..padded)
        .step_by(stride as usize)
        .filter(|&start| start + kernel <= padded)
        .count() as u32
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn output_size_and_validation_agree_with_brute_force(
        n in 0u32..3, c in 0u32..4, h in 0u32..40, w in 0u32..40, k in 0u32..4,
        r in 0u32..45, s in 0u32..45, sh in 0u32..6, sw in 0u32..6, ph in 0u32..4, pw in 0u32..4,
    ) {
        let spec = ConvShapeSpec { n, c, h, w, k, r, s, stride: (sh, sw), padding: wgconv::Padding::symmetric(ph, pw), ..Default::default() };
        let any_zero = [n, c, h, w, k, r, s, sh, sw].contains(&0);
        match ConvShape::new(spec) {
            Ok(shape) => {
                prop_assert!(!any_zero);
                prop_assert_eq!(shape.p(), positions(h, ph, r, sh));
                prop_assert_eq!(shape.q(), positions(w, pw, s, sw));
                prop_assert!(shape.p() >= 1 && shape.q() >= 1);
                prop_assert_eq!(shape.param_count(), u64::from(k * c * r * s + k));
                prop_assert_eq!(
                    shape.forward_flops(),
                    2 * u64::from(n * k * shape.p() * shape.q()) * u64::from(c * r * s)
                );
            }
            Err(ShapeError::Zero { field }) => prop_assert!(any_zero, "{field}"),
            Err(ShapeError::KernelTallerThanInput { .. }) => prop_assert!(r > h + 2 * ph),
            Err(ShapeError::KernelWiderThanInput { .. }) => prop_assert!(s > w + 2 * pw),
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }
}
