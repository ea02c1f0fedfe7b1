//! What can be wrong with a shape, each error naming its field.

use crate::shape::PaddingMode;

/// A shape error names the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("shape field `{field}` must be at least 1 (got 0)")]
    Zero { field: &'static str },
    #[error(
        "the dilated kernel height dh·(R − 1) + 1 = {r} is larger than the padded input height \
         H + pad_top + pad_bottom = {padded}"
    )]
    KernelTallerThanInput { r: u64, padded: u64 },
    #[error(
        "the dilated kernel width dw·(S − 1) + 1 = {s} is larger than the padded input width \
         W + pad_left + pad_right = {padded}"
    )]
    KernelWiderThanInput { s: u64, padded: u64 },
    #[error("groups {groups} does not divide {what} = {value}")]
    GroupsDoNotDivide {
        groups: u32,
        what: &'static str,
        value: u32,
    },
    #[error(
        "padding mode {mode} needs each padding {rule} that side's input size: {side} padding \
         {pad} with {dim} = {size}"
    )]
    PaddingTooLarge {
        mode: PaddingMode,
        rule: &'static str,
        side: &'static str,
        pad: u32,
        dim: &'static str,
        size: u32,
    },
    #[error(
        "padding 'same' is not supported for strided convolutions (stride {sh},{sw}), as in \
         PyTorch: the output size would depend on the input size"
    )]
    SameWithStride { sh: u32, sw: u32 },
    #[error("shape field `{field}` = {value} is too large: {what}")]
    Overflow {
        field: &'static str,
        value: u64,
        what: &'static str,
    },
    #[error(
        "weights have {got} input channels per group (dim 1 of K, C/G, R, S), the input has {c} \
         channels in {groups} group(s): expected {expected}"
    )]
    ChannelsPerGroup {
        got: usize,
        c: u32,
        groups: u32,
        expected: u32,
    },
    #[error("{what}: expected {expected}, got {got}")]
    Mismatch {
        what: &'static str,
        expected: String,
        got: String,
    },
}
