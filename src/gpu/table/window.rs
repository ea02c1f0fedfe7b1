//! The window dW: a whole R×S window of sums per invocation, for adapters on CPU cores.

use super::{read, read_write, uniform, KernelDesc, CONV, SIMPLE_WORKGROUP};
use crate::gpu::wgsl::Common;

/// The most taps R·S a window dW invocation holds (`conv2d_bwd_weight_window.wgsl`).
pub const WINDOW_TAPS: u32 = 64;

pub const BWD_WEIGHT_WINDOW: KernelDesc = KernelDesc {
    name: "conv2d_bwd_weight_window",
    body: include_str!("../../../shaders/conv2d_bwd_weight_window.wgsl"),
    params: CONV,
    common: &[Common::Grid, Common::Padding],
    // The bias gradient is one more column of the partial sums; none without bias.
    consts: &[("BIAS_COLUMNS", 1), ("WINDOW_TAPS", WINDOW_TAPS)],
    bindings: &[
        uniform("params"),
        read("x"),
        read("dz"),
        read_write("partial"),
    ],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈splits · K · (C/G) / 64⌉ workgroups, one (split, k, c') per invocation \
           (`grids::window_splits`)",
};

pub const BWD_WEIGHT_WINDOW_NO_BIAS: KernelDesc = KernelDesc {
    consts: &[("BIAS_COLUMNS", 0), ("WINDOW_TAPS", WINDOW_TAPS)],
    ..BWD_WEIGHT_WINDOW
};
