//! A layer's options besides its dims, as `torch.nn.Conv2d`'s keyword arguments: padding on
//! each side (or `same`, `valid`), what the padding holds, and the whole set.

use std::fmt;

use crate::shape::ShapeError;

/// Padding on each side of the image, in pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Padding {
    pub top: u32,
    pub bottom: u32,
    pub left: u32,
    pub right: u32,
}

impl Padding {
    pub const ZERO: Padding = Padding::symmetric(0, 0);

    /// `ph` above and below, `pw` left and right (PyTorch's `padding=(ph, pw)`).
    pub const fn symmetric(ph: u32, pw: u32) -> Self {
        Padding {
            top: ph,
            bottom: ph,
            left: pw,
            right: pw,
        }
    }

    /// Rows added: top + bottom.
    pub fn rows(&self) -> u64 {
        u64::from(self.top) + u64::from(self.bottom)
    }

    /// Columns added: left + right.
    pub fn cols(&self) -> u64 {
        u64::from(self.left) + u64::from(self.right)
    }

    /// PyTorch's `padding='same'` for stride 1: total dh·(R − 1) rows, the odd one at the
    /// bottom (and the same for columns, the odd one on the right).
    pub fn same(kernel: (u32, u32), dilation: (u32, u32)) -> Self {
        let total_h = dilation.0.saturating_mul(kernel.0.saturating_sub(1));
        let total_w = dilation.1.saturating_mul(kernel.1.saturating_sub(1));
        Padding {
            top: total_h / 2,
            bottom: total_h - total_h / 2,
            left: total_w / 2,
            right: total_w - total_w / 2,
        }
    }
}

impl fmt::Display for Padding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.top == self.bottom && self.left == self.right {
            write!(f, "{},{}", self.top, self.left)
        } else {
            let Padding {
                top,
                bottom,
                left,
                right,
            } = self;
            write!(f, "{top},{bottom},{left},{right}")
        }
    }
}

/// How padding is asked for: explicit sides, or PyTorch's `'same'` and `'valid'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaddingSpec {
    Sides(Padding),
    /// The output has the input's size (stride 1 only).
    Same,
    /// No padding.
    Valid,
}

impl Default for PaddingSpec {
    fn default() -> Self {
        PaddingSpec::Sides(Padding::ZERO)
    }
}

impl From<(u32, u32)> for PaddingSpec {
    fn from((ph, pw): (u32, u32)) -> Self {
        PaddingSpec::Sides(Padding::symmetric(ph, pw))
    }
}

impl From<Padding> for PaddingSpec {
    fn from(p: Padding) -> Self {
        PaddingSpec::Sides(p)
    }
}

impl PaddingSpec {
    /// The sides for a kernel of `kernel` (R, S) with `dilation` and `stride`.
    pub fn resolve(
        &self,
        kernel: (u32, u32),
        dilation: (u32, u32),
        stride: (u32, u32),
    ) -> Result<Padding, ShapeError> {
        match *self {
            PaddingSpec::Sides(p) => Ok(p),
            PaddingSpec::Valid => Ok(Padding::ZERO),
            PaddingSpec::Same if stride != (1, 1) => Err(ShapeError::SameWithStride {
                sh: stride.0,
                sw: stride.1,
            }),
            PaddingSpec::Same => Ok(Padding::same(kernel, dilation)),
        }
    }

    /// Parses `P`, `PH,PW`, `TOP,BOTTOM,LEFT,RIGHT`, `same` or `valid`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "same" => return Ok(PaddingSpec::Same),
            "valid" => return Ok(PaddingSpec::Valid),
            _ => {}
        }
        let values = text
            .split(',')
            .map(|v| v.trim().parse::<u32>())
            .collect::<Result<Vec<u32>, _>>()
            .map_err(|e| {
                format!(
                    "padding `{text}`: {e}; expected P, PH,PW, TOP,BOTTOM,LEFT,RIGHT, same or valid"
                )
            })?;
        match values[..] {
            [p] => Ok((p, p).into()),
            [ph, pw] => Ok((ph, pw).into()),
            [top, bottom, left, right] => Ok(PaddingSpec::Sides(Padding {
                top,
                bottom,
                left,
                right,
            })),
            _ => Err(format!(
                "padding `{text}` has {} values; expected 1 (P), 2 (PH,PW) or 4 \
                 (TOP,BOTTOM,LEFT,RIGHT), or same or valid",
                values.len()
            )),
        }
    }
}

impl fmt::Display for PaddingSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaddingSpec::Sides(p) => p.fmt(f),
            PaddingSpec::Same => f.write_str("same"),
            PaddingSpec::Valid => f.write_str("valid"),
        }
    }
}

/// What the padding holds, as PyTorch's `padding_mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PaddingMode {
    /// Zeros.
    #[default]
    Zeros,
    /// The image mirrored about its edge pixel (x\[−1\] = x\[1\]).
    Reflect,
    /// The edge pixel repeated (x\[−1\] = x\[0\]).
    Replicate,
    /// The image wrapped around (x\[−1\] = x\[H − 1\]).
    Circular,
}

impl PaddingMode {
    pub const ALL: [PaddingMode; 4] = [
        PaddingMode::Zeros,
        PaddingMode::Reflect,
        PaddingMode::Replicate,
        PaddingMode::Circular,
    ];

    /// The name `--padding-mode` and PyTorch take.
    pub fn name(self) -> &'static str {
        match self {
            PaddingMode::Zeros => "zeros",
            PaddingMode::Reflect => "reflect",
            PaddingMode::Replicate => "replicate",
            PaddingMode::Circular => "circular",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The kernels' code for it (`pad_mode` in the params, `shaders/common/padding.wgsl`).
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The pixel of an axis of `len` pixels that padded coordinate `i` (0 ≤ i + pad) reads, or
    /// None where it reads zero. Needs `len` > the padding for reflect, ≥ for circular.
    pub fn source(self, i: i64, len: i64) -> Option<i64> {
        if (0..len).contains(&i) {
            return Some(i);
        }
        match self {
            PaddingMode::Zeros => None,
            PaddingMode::Reflect if i < 0 => Some(-i),
            PaddingMode::Reflect => Some(2 * (len - 1) - i),
            PaddingMode::Replicate => Some(i.clamp(0, len - 1)),
            PaddingMode::Circular => Some(i.rem_euclid(len)),
        }
    }
}

impl fmt::Display for PaddingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A layer's hyper-parameters besides its channels and kernel size, as `torch.nn.Conv2d`'s
/// keyword arguments. The default is PyTorch's: stride 1, no padding, dilation 1, one group,
/// zero padding mode, with bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvOptions {
    pub stride: (u32, u32),
    pub padding: PaddingSpec,
    pub dilation: (u32, u32),
    pub groups: u32,
    pub padding_mode: PaddingMode,
    pub bias: bool,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions {
            stride: (1, 1),
            padding: PaddingSpec::default(),
            dilation: (1, 1),
            groups: 1,
            padding_mode: PaddingMode::Zeros,
            bias: true,
        }
    }
}
