//! The limits a shape is checked against beyond its dims: every size within 64 bits, and the
//! padding modes' rules (as PyTorch's).

use super::{ConvShape, ConvShapeSpec, PaddingMode, ShapeError};

impl ConvShape {
    /// Every size in bytes or FLOPs must fit in a u64 (each dim is < 2^32, so products of up
    /// to eight dims could overflow).
    pub(super) fn checked_sizes(&self) -> Result<(), ShapeError> {
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
        let cg = self.channels_per_group();
        checked(
            &[("n", self.n), ("c", self.c), ("h", self.h), ("w", self.w)],
            "the input size overflows 64 bits",
        )?;
        checked(
            &[("k", self.k), ("c", cg), ("r", self.r), ("s", self.s)],
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
                ("c", cg),
                ("r", self.r),
                ("s", self.s),
            ],
            "the FLOP count overflows 64 bits",
        )?;
        Ok(())
    }
}

/// PyTorch's rule: reflect needs each padding < that side's size, circular ≤.
pub(super) fn check_padding_mode(spec: &ConvShapeSpec) -> Result<(), ShapeError> {
    let rule = match spec.padding_mode {
        PaddingMode::Reflect => "smaller than",
        PaddingMode::Circular => "at most",
        PaddingMode::Zeros | PaddingMode::Replicate => return Ok(()),
    };
    let p = spec.padding;
    let sides = [
        ("top", p.top, "H", spec.h),
        ("bottom", p.bottom, "H", spec.h),
        ("left", p.left, "W", spec.w),
        ("right", p.right, "W", spec.w),
    ];
    for (side, pad, dim, size) in sides {
        let bad = match spec.padding_mode {
            PaddingMode::Reflect => pad >= size,
            _ => pad > size,
        };
        if bad {
            return Err(ShapeError::PaddingTooLarge {
                mode: spec.padding_mode,
                rule,
                side,
                pad,
                dim,
                size,
            });
        }
    }
    Ok(())
}
