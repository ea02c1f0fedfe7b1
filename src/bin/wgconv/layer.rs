//! The layer's options shared by `forward` and `step`: stride, padding, dilation, groups and
//! padding mode, as `torch.nn.Conv2d`'s keyword arguments.

use clap::Args;

use wgconv::{ConvOptions, PaddingMode, PaddingSpec};

use crate::shared::parse_pair;

#[derive(Args)]
pub struct LayerArgs {
    /// Stride S or SH,SW.
    #[arg(long, value_name = "S|SH,SW", value_parser = parse_pair, default_value = "1")]
    stride: (u32, u32),
    /// Padding P, PH,PW (both sides), TOP,BOTTOM,LEFT,RIGHT, `same` (stride 1 only) or
    /// `valid` (none).
    #[arg(
        long,
        value_name = "P|PH,PW|T,B,L,R|same|valid",
        value_parser = PaddingSpec::parse,
        default_value = "0"
    )]
    padding: PaddingSpec,
    /// Dilation D or DH,DW (spacing between kernel taps).
    #[arg(long, value_name = "D|DH,DW", value_parser = parse_pair, default_value = "1")]
    dilation: (u32, u32),
    /// Groups G: C and K split into G groups; weights are (K, C/G, R, S). G = C is depthwise.
    #[arg(long, value_name = "G", default_value_t = 1)]
    groups: u32,
    /// What the padding holds: zeros, reflect, replicate or circular.
    #[arg(long, value_name = "MODE", value_parser = parse_padding_mode, default_value = "zeros")]
    padding_mode: PaddingMode,
}

impl LayerArgs {
    /// The options, with or without a bias.
    pub fn options(&self, bias: bool) -> ConvOptions {
        ConvOptions {
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            groups: self.groups,
            padding_mode: self.padding_mode,
            bias,
        }
    }

    /// The groups, for drawing random filters (K, C/G, R, S) before the shape is known.
    pub fn groups(&self) -> u32 {
        self.groups
    }
}

/// `--padding-mode`: zeros, reflect, replicate or circular.
pub fn parse_padding_mode(s: &str) -> Result<PaddingMode, String> {
    PaddingMode::parse(s).ok_or_else(|| {
        format!("{s:?} is not a padding mode; use zeros, reflect, replicate or circular")
    })
}
