//! The window versions, for adapters on CPU cores: the forward with a block of eight filters
//! (four in groups of at most four) × eight outputs of a row per invocation (reading weights
//! packed by `PACK_WEIGHTS`), dW with a
//! whole R×S window of sums of four filters per invocation, and dX with a block of four
//! channels × eight pixels of a row per invocation.

use super::SIMPLE_WORKGROUP;
use super::{read, read_write, uniform, Binding, KernelDesc, BWD_INPUT, CONV, FORWARD};
use crate::gpu::wgsl::Common;

/// Filters per invocation of the window forward (its weights come as two vec4s), or
/// `SMALL_FILTER_BLOCK` where a group has no more than that many (`grids::forward_filter_block`).
pub const FILTER_BLOCK: u32 = 8;
/// The window forward's block for groups of at most four filters (one vec4 of weights a tap): a
/// block of eight would compute twice the products it keeps, and SwiftShader pays for them.
pub const SMALL_FILTER_BLOCK: u32 = 4;
/// Outputs of a row per invocation of the window forward (two vec4s of sums per filter; the
/// shader is written for 8).
pub const ROW_BLOCK: u32 = 8;

const FORWARD_WINDOW_BINDINGS: &[Binding] = &[
    uniform("params"),
    read("x"),
    read("w_blocks"),
    read_write("y"),
    read_write("z"),
    read("x_rows"),
    read("b"),
];

pub const FORWARD_WINDOW: KernelDesc = KernelDesc {
    name: "conv2d_bias_relu_fwd_window",
    body: include_str!("../../../shaders/conv2d_bias_relu_fwd_window.wgsl"),
    common: &[
        Common::Grid,
        Common::Padding,
        Common::Nan,
        Common::Activation,
        Common::WindowColumns,
        Common::InputRows,
        Common::BiasRead,
    ],
    consts: &[("FILTER_BLOCK", FILTER_BLOCK), ("ROW_BLOCK", ROW_BLOCK)],
    bindings: FORWARD_WINDOW_BINDINGS,
    grid: "G·⌈(K/G)/8⌉ · ⌈N·P·⌈Q/8⌉ / 64⌉ workgroups, eight filters × eight outputs of a row \
           per invocation (`grids::forward_groups`)",
    ..FORWARD
};

pub const FORWARD_WINDOW_NO_BIAS: KernelDesc = KernelDesc {
    common: &[
        Common::Grid,
        Common::Padding,
        Common::Nan,
        Common::Activation,
        Common::WindowColumns,
        Common::InputRows,
        Common::NoBias,
    ],
    bindings: FORWARD_WINDOW_BINDINGS.split_at(6).0,
    ..FORWARD_WINDOW
};

/// The window forward with blocks of `SMALL_FILTER_BLOCK` filters.
pub const FORWARD_WINDOW_SMALL: KernelDesc = KernelDesc {
    consts: &[
        ("FILTER_BLOCK", SMALL_FILTER_BLOCK),
        ("ROW_BLOCK", ROW_BLOCK),
    ],
    grid: "G·⌈(K/G)/4⌉ · ⌈N·P·⌈Q/8⌉ / 64⌉ workgroups, four filters × eight outputs of a row per \
           invocation (`grids::forward_groups`)",
    ..FORWARD_WINDOW
};

pub const FORWARD_WINDOW_SMALL_NO_BIAS: KernelDesc = KernelDesc {
    consts: FORWARD_WINDOW_SMALL.consts,
    grid: FORWARD_WINDOW_SMALL.grid,
    ..FORWARD_WINDOW_NO_BIAS
};

/// The weights copied into blocks of `FILTER_BLOCK` filters for the window forward.
pub const PACK_WEIGHTS: KernelDesc = KernelDesc {
    name: "conv2d_pack_weights",
    body: include_str!("../../../shaders/conv2d_pack_weights.wgsl"),
    params: CONV,
    common: &[Common::Grid],
    consts: &[("FILTER_BLOCK", FILTER_BLOCK)],
    bindings: &[uniform("params"), read("w"), read_write("w_blocks")],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈G·⌈(K/G)/8⌉·(C/G)·R·S·8 / 64⌉ workgroups, one packed weight per invocation \
           (`grids::pack_weights_len`)",
};

/// The weights in blocks of `SMALL_FILTER_BLOCK` filters, for `FORWARD_WINDOW_SMALL`.
pub const PACK_WEIGHTS_SMALL: KernelDesc = KernelDesc {
    consts: &[("FILTER_BLOCK", SMALL_FILTER_BLOCK)],
    grid: "⌈G·⌈(K/G)/4⌉·(C/G)·R·S·4 / 64⌉ workgroups, one packed weight per invocation \
           (`grids::pack_weights_len`)",
    ..PACK_WEIGHTS
};

/// Filters per invocation of the window dW.
pub const WEIGHT_FILTER_BLOCK: u32 = 4;

/// The most taps R·S a window dW invocation holds (`conv2d_bwd_weight_window.wgsl`).
pub const WINDOW_TAPS: u32 = 64;

pub const BWD_WEIGHT_WINDOW: KernelDesc = KernelDesc {
    name: "conv2d_bwd_weight_window",
    body: include_str!("../../../shaders/conv2d_bwd_weight_window.wgsl"),
    params: CONV,
    common: &[
        Common::Grid,
        Common::Padding,
        Common::WindowColumns,
        Common::InputRows,
    ],
    // The bias gradient is one more column of the partial sums; none without bias.
    consts: &[
        ("BIAS_COLUMNS", 1),
        ("WINDOW_TAPS", WINDOW_TAPS),
        ("WEIGHT_FILTER_BLOCK", WEIGHT_FILTER_BLOCK),
    ],
    bindings: &[
        uniform("params"),
        read("x"),
        read("dz_blocks"),
        read_write("partial"),
        read("x_rows"),
    ],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈splits · G·⌈(K/G)/4⌉ · (C/G) / 64⌉ workgroups, one (split, block of four filters, \
           c') per invocation (`grids::window_splits`)",
};

pub const BWD_WEIGHT_WINDOW_NO_BIAS: KernelDesc = KernelDesc {
    consts: &[
        ("BIAS_COLUMNS", 0),
        ("WINDOW_TAPS", WINDOW_TAPS),
        ("WEIGHT_FILTER_BLOCK", WEIGHT_FILTER_BLOCK),
    ],
    ..BWD_WEIGHT_WINDOW
};

/// dz copied into blocks of `WEIGHT_FILTER_BLOCK` filters for the window dW.
pub const PACK_OUTPUT_GRAD: KernelDesc = KernelDesc {
    name: "conv2d_pack_output_grad",
    body: include_str!("../../../shaders/conv2d_pack_output_grad.wgsl"),
    consts: &[("WEIGHT_FILTER_BLOCK", WEIGHT_FILTER_BLOCK)],
    bindings: &[uniform("params"), read("dz"), read_write("dz_blocks")],
    grid: "⌈N·P·Q / 64⌉ workgroups, an output pixel's blocks per invocation \
           (`pack::pack_invocations`)",
    ..PACK_WEIGHTS
};

/// x copied into rows for the window forward's and dW's sliding paths to read as vec4s.
pub const PACK_INPUT_ROWS: KernelDesc = KernelDesc {
    name: "conv2d_pack_input_rows",
    body: include_str!("../../../shaders/conv2d_pack_input_rows.wgsl"),
    common: &[Common::Grid, Common::InputRows],
    consts: &[],
    bindings: &[uniform("params"), read("x"), read_write("x_rows")],
    grid: "⌈N·C·H / 64⌉ workgroups, a row per invocation (`pack::pack_invocations`)",
    ..PACK_WEIGHTS
};

/// dz copied into rows for the window dX's sliding path to read as vec4s.
pub const PACK_OUTPUT_GRAD_ROWS: KernelDesc = KernelDesc {
    name: "conv2d_pack_output_grad_rows",
    body: include_str!("../../../shaders/conv2d_pack_output_grad_rows.wgsl"),
    common: &[Common::Grid, Common::OutputGradRows],
    consts: &[],
    bindings: &[uniform("params"), read("dz"), read_write("dz_rows")],
    grid: "⌈N·K·P / 64⌉ workgroups, a row per invocation (`pack::pack_invocations`)",
    ..PACK_WEIGHTS
};

/// Channels per invocation of the window dX.
pub const CHANNEL_BLOCK: u32 = 4;
/// Pixels of a row per invocation of the window dX (two vec4s of sums per channel; the shader
/// is written for 8).
pub const INPUT_ROW_BLOCK: u32 = 8;

pub const BWD_INPUT_WINDOW: KernelDesc = KernelDesc {
    name: "conv2d_bwd_input_window",
    body: include_str!("../../../shaders/conv2d_bwd_input_window.wgsl"),
    common: &[Common::Grid, Common::OutputGradRows],
    consts: &[
        ("CHANNEL_BLOCK", CHANNEL_BLOCK),
        ("INPUT_ROW_BLOCK", INPUT_ROW_BLOCK),
    ],
    bindings: &[
        uniform("params"),
        read("w_blocks"),
        read("dz"),
        read_write("dx"),
        read("dz_rows"),
    ],
    grid: "G·⌈(C/G)/4⌉ · ⌈N·H·⌈W/8⌉ / 64⌉ workgroups, four channels × eight pixels of a row per \
           invocation (H, W padded as the simple version's: `grids::input_window_groups`)",
    ..BWD_INPUT
};

/// The weights copied into blocks of `CHANNEL_BLOCK` channels for the window dX.
pub const PACK_INPUT_WEIGHTS: KernelDesc = KernelDesc {
    name: "conv2d_pack_input_weights",
    body: include_str!("../../../shaders/conv2d_pack_input_weights.wgsl"),
    consts: &[("CHANNEL_BLOCK", CHANNEL_BLOCK)],
    grid: "⌈K·⌈(C/G)/4⌉·R·S·4 / 64⌉ workgroups, one packed weight per invocation \
           (`grids::packed_input_weights_len`)",
    ..PACK_WEIGHTS
};
