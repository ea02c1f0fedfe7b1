//! The fused loop's kernel: a whole training step of a tiny layer per invocation of one
//! workgroup, many steps per dispatch.

use super::{read, read_write, uniform, Binding, KernelDesc};
use crate::gpu::params::FusedLoopParams;
use crate::gpu::wgsl::{
    Common, FUSED_LOOP_MAX_FILTERS, FUSED_LOOP_MAX_INPUTS, FUSED_LOOP_MAX_OUTPUTS,
    FUSED_LOOP_MAX_WEIGHTS, FUSED_LOOP_WORKGROUP_SIZE,
};

pub const FUSED_LOOP: KernelDesc = KernelDesc {
    name: "fused_loop",
    body: include_str!("../../../shaders/fused_loop.wgsl"),
    params: FusedLoopParams::LAYOUT,
    common: &[
        Common::Reduce,
        Common::LossLog,
        Common::Sgd,
        Common::Padding,
        Common::WeightTap,
        Common::BiasTrain,
    ],
    consts: &[
        ("MAX_WEIGHTS", FUSED_LOOP_MAX_WEIGHTS),
        ("MAX_FILTERS", FUSED_LOOP_MAX_FILTERS),
        ("MAX_OUTPUTS", FUSED_LOOP_MAX_OUTPUTS),
        ("MAX_INPUTS", FUSED_LOOP_MAX_INPUTS),
    ],
    bindings: FUSED_LOOP_BINDINGS,
    workgroup_size: [FUSED_LOOP_WORKGROUP_SIZE, 1, 1],
    // w, its momentum and gradient; b, its momentum and gradient; x; dz; the tree; the log slot.
    workgroup_bytes: 4
        * (3 * FUSED_LOOP_MAX_WEIGHTS
            + 3 * FUSED_LOOP_MAX_FILTERS
            + FUSED_LOOP_MAX_INPUTS
            + FUSED_LOOP_MAX_OUTPUTS
            + FUSED_LOOP_WORKGROUP_SIZE
            + 1),
    grid: "one workgroup per dispatch of up to `train::FUSED_STEPS_PER_DISPATCH` steps",
};

/// The fused loop's bindings; the bias, its momentum and gradient (common/bias_train.wgsl)
/// come last, absent without a bias.
const FUSED_LOOP_BINDINGS: &[Binding] = &[
    uniform("params"),
    read("x"),
    read("t"),
    read_write("w"),
    read_write("w_momentum"),
    read_write("log"),
    read_write("dw"),
    read_write("last_step"),
    read_write("b"),
    read_write("b_momentum"),
    read_write("db"),
];

pub const FUSED_LOOP_NO_BIAS: KernelDesc = KernelDesc {
    common: &[
        Common::Reduce,
        Common::LossLog,
        Common::Sgd,
        Common::Padding,
        Common::WeightTap,
        Common::NoBias,
    ],
    bindings: FUSED_LOOP_BINDINGS.split_at(8).0,
    ..FUSED_LOOP
};
