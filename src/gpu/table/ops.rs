//! The network ops' kernels: the ReLU's gradient, max pooling, cross-entropy, the loss mean and
//! the row gather that cuts batches on the device.

use super::{read, read_write, uniform, KernelDesc, SIMPLE_WORKGROUP};
use crate::gpu::params::{
    CrossEntropyParams, ElementwiseParams, GatherParams, LossParams, PoolParams,
};
use crate::gpu::wgsl::{Common, LOSS_WORKGROUP_SIZE};

pub const RELU_BWD: KernelDesc = KernelDesc {
    name: "relu_bwd",
    body: include_str!("../../../shaders/relu_bwd.wgsl"),
    params: ElementwiseParams::LAYOUT,
    common: &[Common::Grid, Common::Nan],
    consts: &[],
    bindings: &[uniform("params"), read("y"), read("dy"), read_write("dz")],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈len / 64⌉ workgroups, one element per invocation",
};

pub const MAX_POOL_FWD: KernelDesc = KernelDesc {
    name: "max_pool2d_fwd",
    body: include_str!("../../../shaders/max_pool2d_fwd.wgsl"),
    params: PoolParams::LAYOUT,
    common: &[Common::Grid, Common::Nan],
    consts: &[],
    bindings: &[
        uniform("params"),
        read("x"),
        read_write("y"),
        read_write("argmax"),
    ],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈N·C·P·Q / 64⌉ workgroups, one output per invocation",
};

pub const MAX_POOL_BWD: KernelDesc = KernelDesc {
    name: "max_pool2d_bwd",
    body: include_str!("../../../shaders/max_pool2d_bwd.wgsl"),
    params: PoolParams::LAYOUT,
    common: &[Common::Grid],
    consts: &[],
    bindings: &[
        uniform("params"),
        read("dy"),
        read("argmax"),
        read_write("dx"),
    ],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈N·C·H·W / 64⌉ workgroups, one input per invocation",
};

pub const CROSS_ENTROPY: KernelDesc = KernelDesc {
    name: "loss_cross_entropy",
    body: include_str!("../../../shaders/loss_cross_entropy.wgsl"),
    params: CrossEntropyParams::LAYOUT,
    common: &[Common::Grid, Common::Nan],
    consts: &[],
    bindings: &[
        uniform("params"),
        read("logits"),
        read("labels"),
        read_write("dlogits"),
        read_write("row_loss"),
    ],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈N / 64⌉ workgroups, one sample per invocation",
};

pub const LOSS_MEAN: KernelDesc = KernelDesc {
    name: "loss_mean",
    body: include_str!("../../../shaders/loss_mean.wgsl"),
    params: LossParams::LAYOUT,
    common: &[Common::Reduce],
    consts: &[],
    bindings: &[uniform("params"), read("partials"), read_write("loss")],
    workgroup_size: [LOSS_WORKGROUP_SIZE, 1, 1],
    workgroup_bytes: 4 * LOSS_WORKGROUP_SIZE,
    grid: "one workgroup",
};

pub const GATHER_ROWS: KernelDesc = KernelDesc {
    name: "gather_rows",
    body: include_str!("../../../shaders/gather_rows.wgsl"),
    params: GatherParams::LAYOUT,
    common: &[Common::Grid],
    consts: &[],
    bindings: &[
        uniform("params"),
        read("src"),
        read("indices"),
        read_write("out"),
    ],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈rows·row_len / 64⌉ workgroups, one word per invocation",
};
