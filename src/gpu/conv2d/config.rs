//! `Conv2dConfig`: a layer's channels, kernel size and options, before any input exists.

use crate::error::Result;
use crate::shape::{ConvOptions, ConvShape, Padding, PaddingMode, PaddingSpec};

/// What follows the convolution in a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// ReLU, fused into the convolution's kernel (the notebook's f): `nn.Conv2d` + `nn.ReLU`.
    #[default]
    Relu,
    /// None: a plain `nn.Conv2d`, e.g. a layer that produces logits.
    None,
}

/// A layer's hyper-parameters, as `torch.nn.Conv2d(in_channels, out_channels, kernel_size,
/// stride, padding, dilation, groups, bias, padding_mode)`, and its activation.
///
/// ```
/// use wgconv::{Activation, Conv2dConfig, PaddingMode};
/// // nn.Conv2d(3, 16, 3, padding=1, padding_mode="reflect") followed by nothing.
/// let config = Conv2dConfig::new(3, 16, (3, 3))
///     .with_padding((1, 1))
///     .with_padding_mode(PaddingMode::Reflect)
///     .with_activation(Activation::None);
/// assert_eq!(config.weight_dims(), [16, 3, 3, 3]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dConfig {
    pub in_channels: u32,
    pub out_channels: u32,
    /// (R, S): kernel height and width.
    pub kernel_size: (u32, u32),
    /// Stride, padding, dilation, groups, padding mode, bias.
    pub options: ConvOptions,
    /// ReLU (the default) or none.
    pub activation: Activation,
}

impl Conv2dConfig {
    /// PyTorch's defaults: stride 1, no padding, dilation 1, one group, with bias.
    pub fn new(in_channels: u32, out_channels: u32, kernel_size: (u32, u32)) -> Self {
        Conv2dConfig {
            in_channels,
            out_channels,
            kernel_size,
            options: ConvOptions::default(),
            activation: Activation::Relu,
        }
    }

    /// The notebook's layer: one input channel, two 5×5 filters, with bias.
    pub const NOTEBOOK: Conv2dConfig = Conv2dConfig {
        in_channels: 1,
        out_channels: 2,
        kernel_size: (5, 5),
        options: ConvOptions {
            stride: (1, 1),
            padding: PaddingSpec::Sides(Padding::ZERO),
            dilation: (1, 1),
            groups: 1,
            padding_mode: PaddingMode::Zeros,
            bias: true,
        },
        activation: Activation::Relu,
    };

    pub fn with_stride(mut self, stride: (u32, u32)) -> Self {
        self.options.stride = stride;
        self
    }

    /// `(ph, pw)`, a [`Padding`] of four sides, or [`PaddingSpec::Same`] / `Valid`.
    pub fn with_padding(mut self, padding: impl Into<PaddingSpec>) -> Self {
        self.options.padding = padding.into();
        self
    }

    pub fn with_dilation(mut self, dilation: (u32, u32)) -> Self {
        self.options.dilation = dilation;
        self
    }

    pub fn with_groups(mut self, groups: u32) -> Self {
        self.options.groups = groups;
        self
    }

    pub fn with_padding_mode(mut self, padding_mode: PaddingMode) -> Self {
        self.options.padding_mode = padding_mode;
        self
    }

    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Whether a ReLU follows the convolution.
    pub fn has_relu(&self) -> bool {
        self.activation == Activation::Relu
    }

    pub fn with_bias(mut self, bias: bool) -> Self {
        self.options.bias = bias;
        self
    }

    /// Whether the layer has a bias.
    pub fn has_bias(&self) -> bool {
        self.options.bias
    }

    /// The layer (with ReLU) of `shape`.
    pub fn of_shape(shape: &ConvShape) -> Self {
        Conv2dConfig {
            in_channels: shape.c,
            out_channels: shape.k,
            kernel_size: (shape.r, shape.s),
            options: shape.options(),
            activation: Activation::Relu,
        }
    }

    /// (K, C/G, R, S); C/G rounds down when G does not divide C (`shape_for` refuses that).
    pub fn weight_dims(&self) -> [usize; 4] {
        let (r, s) = self.kernel_size;
        let per_group = self.in_channels / self.options.groups.max(1);
        [self.out_channels, per_group, r, s].map(|d| d as usize)
    }

    /// The whole problem for an input of `x_dims` (N, C, H, W), validated.
    pub fn shape_for(&self, x_dims: [usize; 4]) -> Result<ConvShape> {
        Ok(ConvShape::of_dims(
            x_dims,
            self.weight_dims(),
            &self.options,
        )?)
    }

    /// The shape of one image just big enough for the kernel and the padding mode, to validate
    /// the config before any input exists.
    pub(crate) fn smallest_shape(&self) -> Result<ConvShape> {
        let (r, s) = self.kernel_size;
        let o = &self.options;
        let p = o.padding.resolve((r, s), o.dilation, o.stride)?;
        let extent = |k: u32, d: u32| u64::from(k.max(1) - 1) * u64::from(d) + 1;
        // Reflect and circular padding need an image wider than the padding.
        let room = |a: u32, b: u32| match o.padding_mode {
            PaddingMode::Reflect | PaddingMode::Circular => u64::from(a.max(b)) + 1,
            PaddingMode::Zeros | PaddingMode::Replicate => 1,
        };
        let h = extent(r, o.dilation.0).max(room(p.top, p.bottom));
        let w = extent(s, o.dilation.1).max(room(p.left, p.right));
        let dims = [1, u64::from(self.in_channels), h, w];
        self.shape_for(dims.map(|d| usize::try_from(d).unwrap_or(usize::MAX)))
    }
}
