//! The shape of one convolutional layer, validated once.
//!
//! Input x is (N, C, H, W), weights w are (K, C, R, S), bias b is (K), output y is (N, K, P, Q)
//! with P = ⌊(H + 2·ph − R) / sh⌋ + 1 and Q = ⌊(W + 2·pw − S) / sw⌋ + 1 (all NCHW, row-major).

use std::fmt;

/// A shape error names the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("shape field `{field}` must be at least 1 (got 0)")]
    Zero { field: &'static str },
    #[error("kernel height R = {r} is larger than the padded input height H + 2·ph = {padded}")]
    KernelTallerThanInput { r: u64, padded: u64 },
    #[error("kernel width S = {s} is larger than the padded input width W + 2·pw = {padded}")]
    KernelWiderThanInput { s: u64, padded: u64 },
    #[error("shape field `{field}` = {value} is too large: {what}")]
    Overflow {
        field: &'static str,
        value: u64,
        what: &'static str,
    },
    #[error("{what}: expected {expected}, got {got}")]
    Mismatch {
        what: &'static str,
        expected: String,
        got: String,
    },
}

/// A convolution's full description. Build it with [`ConvShape::new`], which validates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    /// Batch size N.
    pub n: u32,
    /// Input channels C.
    pub c: u32,
    /// Input height H.
    pub h: u32,
    /// Input width W.
    pub w: u32,
    /// Output channels (filters) K.
    pub k: u32,
    /// Kernel height R.
    pub r: u32,
    /// Kernel width S.
    pub s: u32,
    /// Stride (sh, sw).
    pub stride: (u32, u32),
    /// Zero padding (ph, pw), added on both sides.
    pub padding: (u32, u32),
}

/// The unvalidated fields of a [`ConvShape`], for building one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShapeSpec {
    pub n: u32,
    pub c: u32,
    pub h: u32,
    pub w: u32,
    pub k: u32,
    pub r: u32,
    pub s: u32,
    pub stride: (u32, u32),
    pub padding: (u32, u32),
}

impl ConvShape {
    /// The notebook's layer: one 24×24 grayscale image, two 5×5 filters, stride 1, no padding.
    pub const SEED: ConvShape = ConvShape {
        n: 1,
        c: 1,
        h: 24,
        w: 24,
        k: 2,
        r: 5,
        s: 5,
        stride: (1, 1),
        padding: (0, 0),
    };

    /// Validates every field: all dims ≥ 1, stride ≥ 1, the kernel fits in the padded input,
    /// and every size this crate computes fits in a u64.
    pub fn new(spec: ConvShapeSpec) -> Result<Self, ShapeError> {
        let fields = [
            ("n", spec.n),
            ("c", spec.c),
            ("h", spec.h),
            ("w", spec.w),
            ("k", spec.k),
            ("r", spec.r),
            ("s", spec.s),
            ("stride_h", spec.stride.0),
            ("stride_w", spec.stride.1),
        ];
        for (field, value) in fields {
            if value == 0 {
                return Err(ShapeError::Zero { field });
            }
        }
        let padded_h = u64::from(spec.h) + 2 * u64::from(spec.padding.0);
        let padded_w = u64::from(spec.w) + 2 * u64::from(spec.padding.1);
        if u64::from(spec.r) > padded_h {
            return Err(ShapeError::KernelTallerThanInput {
                r: spec.r.into(),
                padded: padded_h,
            });
        }
        if u64::from(spec.s) > padded_w {
            return Err(ShapeError::KernelWiderThanInput {
                s: spec.s.into(),
                padded: padded_w,
            });
        }
        let shape = ConvShape {
            n: spec.n,
            c: spec.c,
            h: spec.h,
            w: spec.w,
            k: spec.k,
            r: spec.r,
            s: spec.s,
            stride: spec.stride,
            padding: spec.padding,
        };
        shape.checked_sizes()?;
        Ok(shape)
    }

    /// The shape of input dims x = (N, C, H, W) and weight dims w = (K, C, R, S) with the given
    /// stride and padding: the channels must agree, and every dim must fit in a u32.
    pub fn of_dims(
        x: [usize; 4],
        w: [usize; 4],
        stride: (u32, u32),
        padding: (u32, u32),
    ) -> Result<Self, ShapeError> {
        if x[1] != w[1] {
            return Err(ShapeError::Mismatch {
                what:
                    "the weights' input channels C (dim 1 of K, C, R, S) must equal the input's C",
                expected: x[1].to_string(),
                got: w[1].to_string(),
            });
        }
        let dim = |field: &'static str, v: usize| {
            u32::try_from(v).map_err(|_| ShapeError::Overflow {
                field,
                value: v as u64,
                what: "a dim above 2³² − 1",
            })
        };
        ConvShape::new(ConvShapeSpec {
            n: dim("n", x[0])?,
            c: dim("c", x[1])?,
            h: dim("h", x[2])?,
            w: dim("w", x[3])?,
            k: dim("k", w[0])?,
            r: dim("r", w[2])?,
            s: dim("s", w[3])?,
            stride,
            padding,
        })
    }

    /// Output height P = ⌊(H + 2·ph − R) / sh⌋ + 1.
    pub fn p(&self) -> u32 {
        let padded = u64::from(self.h) + 2 * u64::from(self.padding.0);
        ((padded - u64::from(self.r)) / u64::from(self.stride.0) + 1) as u32
    }

    /// Output width Q = ⌊(W + 2·pw − S) / sw⌋ + 1.
    pub fn q(&self) -> u32 {
        let padded = u64::from(self.w) + 2 * u64::from(self.padding.1);
        ((padded - u64::from(self.s)) / u64::from(self.stride.1) + 1) as u32
    }

    /// Elements of x: N·C·H·W.
    pub fn input_len(&self) -> u64 {
        prod(&[self.n, self.c, self.h, self.w])
    }

    /// Elements of w: K·C·R·S.
    pub fn weight_len(&self) -> u64 {
        prod(&[self.k, self.c, self.r, self.s])
    }

    /// Elements of y (and z): N·K·P·Q.
    pub fn output_len(&self) -> u64 {
        prod(&[self.n, self.k, self.p(), self.q()])
    }

    /// Terms in one output's sum: C·R·S.
    pub fn reduction_len(&self) -> u64 {
        prod(&[self.c, self.r, self.s])
    }

    /// Trainable parameters: K·C·R·S weights + K biases (52 for the notebook's layer).
    pub fn param_count(&self) -> u64 {
        self.weight_len() + u64::from(self.k)
    }

    /// Forward FLOPs, counting a multiply-add as two: 2·N·K·P·Q·C·R·S.
    pub fn forward_flops(&self) -> u64 {
        2 * self.output_len() * self.reduction_len()
    }

    /// The same shape with another batch size (used to split a batch into chunks).
    pub fn with_batch(&self, n: u32) -> Result<Self, ShapeError> {
        ConvShape::new(ConvShapeSpec { n, ..self.spec() })
    }

    /// The fields as an unvalidated spec.
    pub fn spec(&self) -> ConvShapeSpec {
        ConvShapeSpec {
            n: self.n,
            c: self.c,
            h: self.h,
            w: self.w,
            k: self.k,
            r: self.r,
            s: self.s,
            stride: self.stride,
            padding: self.padding,
        }
    }

    /// Every size in bytes or FLOPs must fit in a u64 (each dim is < 2^32, so products of up
    /// to eight dims could overflow).
    fn checked_sizes(&self) -> Result<(), ShapeError> {
        let overflow = |field, value: u32, what| ShapeError::Overflow {
            field,
            value: value.into(),
            what,
        };
        let checked =
            |dims: &[(&'static str, u32)], what: &'static str| -> Result<u64, ShapeError> {
                let mut acc: u64 = 4; // bytes of one f32, so byte sizes fit too
                for &(field, v) in dims {
                    acc = acc
                        .checked_mul(u64::from(v))
                        .ok_or_else(|| overflow(field, v, what))?;
                }
                Ok(acc)
            };
        checked(
            &[("n", self.n), ("c", self.c), ("h", self.h), ("w", self.w)],
            "the input size overflows 64 bits",
        )?;
        checked(
            &[("k", self.k), ("c", self.c), ("r", self.r), ("s", self.s)],
            "the weight size overflows 64 bits",
        )?;
        let p = self.p();
        let q = self.q();
        checked(
            &[
                ("n", self.n),
                ("k", self.k),
                ("p", p),
                ("q", q),
                ("c", self.c),
                ("r", self.r),
                ("s", self.s),
            ],
            "the FLOP count overflows 64 bits",
        )?;
        Ok(())
    }
}

fn prod(dims: &[u32]) -> u64 {
    dims.iter().map(|&d| u64::from(d)).product()
}

impl fmt::Display for ConvShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "x({},{},{},{}) w({},{},{},{}) stride {},{} pad {},{} -> y({},{},{},{})",
            self.n,
            self.c,
            self.h,
            self.w,
            self.k,
            self.c,
            self.r,
            self.s,
            self.stride.0,
            self.stride.1,
            self.padding.0,
            self.padding.1,
            self.n,
            self.k,
            self.p(),
            self.q()
        )
    }
}

#[cfg(test)]
mod tests {
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
            padding: (1, 0),
            ..good
        })
        .is_ok());
        let e = ConvShape::new(ConvShapeSpec {
            s: 30,
            padding: (0, 2),
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
            stride: (1, 1),
            padding: (0, 0),
        })
        .unwrap_err();
        assert!(matches!(e, ShapeError::Overflow { .. }), "{e}");
    }
}
