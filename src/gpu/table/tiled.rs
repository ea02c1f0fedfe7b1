//! The tiled versions: implicit GEMMs with 64 × 64 tiles staged in workgroup memory, for GPUs.

use super::{
    read, read_write, uniform, KernelDesc, BWD_INPUT_BINDINGS, CONV, FORWARD_BINDINGS,
    FORWARD_BINDINGS_NO_BIAS, GEMM, GEMM_BYTES, TILED_WORKGROUP,
};
use crate::gpu::wgsl::Common;

pub const FORWARD_TILED: KernelDesc = KernelDesc {
    name: "conv2d_bias_relu_fwd_tiled",
    body: include_str!("../../../shaders/conv2d_bias_relu_fwd_tiled.wgsl"),
    params: CONV,
    common: &[
        Common::Grid,
        Common::GemmTile,
        Common::GemmStore,
        Common::Padding,
        Common::Nan,
        Common::Activation,
        Common::BiasRead,
    ],
    consts: &[],
    bindings: FORWARD_BINDINGS,
    workgroup_size: TILED_WORKGROUP,
    workgroup_bytes: GEMM_BYTES,
    grid: "⌈N·P·Q / 64⌉ · ⌈(K/G) / 64⌉ · G tiles (`grids::forward_groups`)",
};

pub const FORWARD_TILED_NO_BIAS: KernelDesc = KernelDesc {
    common: &[
        Common::Grid,
        Common::GemmTile,
        Common::GemmStore,
        Common::Padding,
        Common::Nan,
        Common::Activation,
        Common::NoBias,
    ],
    bindings: FORWARD_BINDINGS_NO_BIAS,
    ..FORWARD_TILED
};

pub const BWD_WEIGHT_TILED: KernelDesc = KernelDesc {
    name: "conv2d_bwd_weight_tiled",
    body: include_str!("../../../shaders/conv2d_bwd_weight_tiled.wgsl"),
    params: CONV,
    common: &[
        Common::Grid,
        Common::GemmTile,
        Common::GemmStore,
        Common::Padding,
        Common::WeightTap,
    ],
    // The bias gradient is one more column of ones; none without bias.
    consts: &[("BIAS_COLUMNS", 1)],
    bindings: &[
        uniform("params"),
        read("x"),
        read("dz"),
        read_write("partial"),
    ],
    workgroup_size: TILED_WORKGROUP,
    workgroup_bytes: GEMM_BYTES,
    grid: "⌈(K/G) / 64⌉ · ⌈((C/G)·R·S + 1) / 64⌉ · G tiles × splits (`grids::weight_tiles`, \
           `grids::weight_splits`)",
};

pub const BWD_WEIGHT_TILED_NO_BIAS: KernelDesc = KernelDesc {
    consts: &[("BIAS_COLUMNS", 0)],
    ..BWD_WEIGHT_TILED
};

pub const BWD_INPUT_TILED: KernelDesc = KernelDesc {
    name: "conv2d_bwd_input_tiled",
    body: include_str!("../../../shaders/conv2d_bwd_input_tiled.wgsl"),
    params: CONV,
    common: GEMM,
    consts: &[],
    bindings: BWD_INPUT_BINDINGS,
    workgroup_size: TILED_WORKGROUP,
    workgroup_bytes: GEMM_BYTES,
    grid: "⌈N·H·W / 64⌉ · ⌈(C/G) / 64⌉ · G tiles (`grids::input_tiles`)",
};
