//! The shape of one convolutional layer, validated once.
//!
//! Input x is (N, C, H, W), weights w are (K, C/G, R, S) for G groups, bias b is (K) when the
//! layer has one, output y is (N, K, P, Q) (all NCHW, row-major) with
//! P = ⌊(H + pad_top + pad_bottom − dh·(R − 1) − 1) / sh⌋ + 1 and Q likewise, as PyTorch's
//! `Conv2d(stride, padding, dilation, groups, bias, padding_mode)`.

use std::fmt;

mod error;
mod limits;
mod options;

pub use error::ShapeError;
pub use options::{ConvOptions, Padding, PaddingMode, PaddingSpec};

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
    /// Padding on each side.
    pub padding: Padding,
    /// Dilation (dh, dw): the kernel's taps are dh rows and dw columns apart.
    pub dilation: (u32, u32),
    /// Groups G: input channels c·C/G .. (c+1)·C/G feed filters g·K/G .. (g+1)·K/G.
    pub groups: u32,
    /// What the padding reads.
    pub padding_mode: PaddingMode,
    /// Whether the layer adds a bias (and has one to train).
    pub bias: bool,
}

/// The unvalidated fields of a [`ConvShape`], for building one. The default is the notebook's
/// layer, so `ConvShapeSpec { k: 4, ..Default::default() }` changes one field.
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
    pub padding: Padding,
    pub dilation: (u32, u32),
    pub groups: u32,
    pub padding_mode: PaddingMode,
    pub bias: bool,
}

impl Default for ConvShapeSpec {
    fn default() -> Self {
        ConvShape::SEED.spec()
    }
}

impl ConvShape {
    /// The notebook's layer: one 24×24 grayscale image, two 5×5 filters, stride 1, no padding,
    /// with bias.
    pub const SEED: ConvShape = ConvShape {
        n: 1,
        c: 1,
        h: 24,
        w: 24,
        k: 2,
        r: 5,
        s: 5,
        stride: (1, 1),
        padding: Padding::ZERO,
        dilation: (1, 1),
        groups: 1,
        padding_mode: PaddingMode::Zeros,
        bias: true,
    };

    /// Validates every field: all dims ≥ 1, stride, dilation and groups ≥ 1, groups dividing C
    /// and K, the dilated kernel fits in the padded input, the padding mode's limits (as
    /// PyTorch's), and every size this crate computes fits in a u64.
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
            ("dilation_h", spec.dilation.0),
            ("dilation_w", spec.dilation.1),
            ("groups", spec.groups),
        ];
        for (field, value) in fields {
            if value == 0 {
                return Err(ShapeError::Zero { field });
            }
        }
        for (what, value) in [("C", spec.c), ("K", spec.k)] {
            if value % spec.groups != 0 {
                return Err(ShapeError::GroupsDoNotDivide {
                    groups: spec.groups,
                    what,
                    value,
                });
            }
        }
        let padded_h = u64::from(spec.h) + spec.padding.rows();
        let padded_w = u64::from(spec.w) + spec.padding.cols();
        let extent_h = extent(spec.r, spec.dilation.0);
        let extent_w = extent(spec.s, spec.dilation.1);
        if extent_h > padded_h {
            return Err(ShapeError::KernelTallerThanInput {
                r: extent_h,
                padded: padded_h,
            });
        }
        if extent_w > padded_w {
            return Err(ShapeError::KernelWiderThanInput {
                s: extent_w,
                padded: padded_w,
            });
        }
        limits::check_padding_mode(&spec)?;
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
            dilation: spec.dilation,
            groups: spec.groups,
            padding_mode: spec.padding_mode,
            bias: spec.bias,
        };
        shape.checked_sizes()?;
        Ok(shape)
    }

    /// The shape of input dims x = (N, C, H, W) and weight dims w = (K, C/G, R, S) with
    /// `options`: the channels must agree, and every dim must fit in a u32.
    pub fn of_dims(
        x: [usize; 4],
        w: [usize; 4],
        options: &ConvOptions,
    ) -> Result<Self, ShapeError> {
        let dim = |field: &'static str, v: usize| {
            u32::try_from(v).map_err(|_| ShapeError::Overflow {
                field,
                value: v as u64,
                what: "a dim above 2³² − 1",
            })
        };
        let (c, k) = (dim("c", x[1])?, dim("k", w[0])?);
        let groups = options.groups;
        if groups == 0 {
            return Err(ShapeError::Zero { field: "groups" });
        }
        for (what, value) in [("C", c), ("K", k)] {
            if value % groups != 0 {
                return Err(ShapeError::GroupsDoNotDivide {
                    groups,
                    what,
                    value,
                });
            }
        }
        let per_group = c / groups;
        if w[1] != per_group as usize {
            return Err(ShapeError::ChannelsPerGroup {
                got: w[1],
                c,
                groups,
                expected: per_group,
            });
        }
        let (r, s) = (dim("r", w[2])?, dim("s", w[3])?);
        let padding = options
            .padding
            .resolve((r, s), options.dilation, options.stride)?;
        ConvShape::new(ConvShapeSpec {
            n: dim("n", x[0])?,
            c,
            h: dim("h", x[2])?,
            w: dim("w", x[3])?,
            k,
            r,
            s,
            stride: options.stride,
            padding,
            dilation: options.dilation,
            groups,
            padding_mode: options.padding_mode,
            bias: options.bias,
        })
    }

    /// Output height P = ⌊(H + pad_top + pad_bottom − dh·(R − 1) − 1) / sh⌋ + 1.
    pub fn p(&self) -> u32 {
        let padded = u64::from(self.h) + self.padding.rows();
        ((padded - extent(self.r, self.dilation.0)) / u64::from(self.stride.0) + 1) as u32
    }

    /// Output width Q = ⌊(W + pad_left + pad_right − dw·(S − 1) − 1) / sw⌋ + 1.
    pub fn q(&self) -> u32 {
        let padded = u64::from(self.w) + self.padding.cols();
        ((padded - extent(self.s, self.dilation.1)) / u64::from(self.stride.1) + 1) as u32
    }

    /// Input channels per group: C/G.
    pub fn channels_per_group(&self) -> u32 {
        self.c / self.groups
    }

    /// Filters per group: K/G.
    pub fn filters_per_group(&self) -> u32 {
        self.k / self.groups
    }

    /// The options this shape was built with (padding as explicit sides).
    pub fn options(&self) -> ConvOptions {
        ConvOptions {
            stride: self.stride,
            padding: PaddingSpec::Sides(self.padding),
            dilation: self.dilation,
            groups: self.groups,
            padding_mode: self.padding_mode,
            bias: self.bias,
        }
    }

    /// Elements of x: N·C·H·W.
    pub fn input_len(&self) -> u64 {
        prod(&[self.n, self.c, self.h, self.w])
    }

    /// Elements of w: K·(C/G)·R·S.
    pub fn weight_len(&self) -> u64 {
        prod(&[self.k, self.channels_per_group(), self.r, self.s])
    }

    /// Elements of b: K with a bias, else 0.
    pub fn bias_len(&self) -> u64 {
        if self.bias {
            self.k.into()
        } else {
            0
        }
    }

    /// Elements of y (and z): N·K·P·Q.
    pub fn output_len(&self) -> u64 {
        prod(&[self.n, self.k, self.p(), self.q()])
    }

    /// Terms in one output's sum: (C/G)·R·S.
    pub fn reduction_len(&self) -> u64 {
        prod(&[self.channels_per_group(), self.r, self.s])
    }

    /// Trainable parameters: K·(C/G)·R·S weights + K biases (52 for the notebook's layer).
    pub fn param_count(&self) -> u64 {
        self.weight_len() + self.bias_len()
    }

    /// Forward FLOPs, counting a multiply-add as two: 2·N·K·P·Q·(C/G)·R·S.
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
            dilation: self.dilation,
            groups: self.groups,
            padding_mode: self.padding_mode,
            bias: self.bias,
        }
    }
}

/// The span of a dilated kernel: d·(R − 1) + 1.
fn extent(r: u32, d: u32) -> u64 {
    u64::from(d) * (u64::from(r) - 1) + 1
}

fn prod(dims: &[u32]) -> u64 {
    dims.iter().map(|&d| u64::from(d)).product()
}

impl fmt::Display for ConvShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "x({},{},{},{}) w({},{},{},{}) stride {},{} pad {}",
            self.n,
            self.c,
            self.h,
            self.w,
            self.k,
            self.channels_per_group(),
            self.r,
            self.s,
            self.stride.0,
            self.stride.1,
            self.padding,
        )?;
        if self.padding_mode != PaddingMode::Zeros {
            write!(f, " {}", self.padding_mode)?;
        }
        if self.dilation != (1, 1) {
            write!(f, " dilation {},{}", self.dilation.0, self.dilation.1)?;
        }
        if self.groups != 1 {
            write!(f, " groups {}", self.groups)?;
        }
        if !self.bias {
            write!(f, " no bias")?;
        }
        write!(f, " -> y({},{},{},{})", self.n, self.k, self.p(), self.q())
    }
}

#[cfg(test)]
mod tests;
