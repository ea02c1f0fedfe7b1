//! One description per kernel, in one table: its name, its composed WGSL, its bindings by name
//! and access, its workgroup size and memory, and how the host sizes its grid.
//! `tests/shaders.rs` reflects every composed shader with naga and checks it against this table.

use crate::gpu::params::{ConvParams, FusedLoopParams, LossParams, ParamsLayout, SgdParams};
use crate::gpu::wgsl::{self, Common};
use crate::gpu::wgsl::{
    ELEMENTWISE_WORKGROUP_SIZE as ELEMENTWISE, FUSED_LOOP_MAX_FILTERS, FUSED_LOOP_MAX_INPUTS,
    FUSED_LOOP_MAX_OUTPUTS, FUSED_LOOP_MAX_WEIGHTS, FUSED_LOOP_WORKGROUP_SIZE, LOSS_WORKGROUP_SIZE,
    TILE, TILE_BLOCK, TILE_SLICE,
};

/// How a kernel reads one of its bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

/// One binding of group 0: the WGSL variable's name and how the kernel reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub name: &'static str,
    pub access: Access,
}

const fn uniform(name: &'static str) -> Binding {
    Binding {
        name,
        access: Access::Uniform,
    }
}

const fn read(name: &'static str) -> Binding {
    Binding {
        name,
        access: Access::Read,
    }
}

const fn read_write(name: &'static str) -> Binding {
    Binding {
        name,
        access: Access::ReadWrite,
    }
}

/// A kernel: entry point `main`, bindings 0..n of group 0.
#[derive(Debug)]
pub struct KernelDesc {
    /// Its name, and its file `shaders/{name}.wgsl`.
    pub name: &'static str,
    /// The text of that file.
    pub body: &'static str,
    /// Its params struct (binding 0).
    pub params: ParamsLayout,
    /// The `shaders/common/` pieces composed into it.
    pub common: &'static [Common],
    /// Constants shared with Rust that it alone uses (WORKGROUP_SIZE is always written).
    pub consts: &'static [(&'static str, u32)],
    /// Binding i is `bindings[i]`.
    pub bindings: &'static [Binding],
    pub workgroup_size: [u32; 3],
    /// Bytes of workgroup memory it declares.
    pub workgroup_bytes: u32,
    /// How the host sizes its grid (every grid of more than 65,535 workgroups is folded by
    /// `forward::fold_grid`).
    pub grid: &'static str,
}

impl KernelDesc {
    /// The composed WGSL.
    pub fn source(&self) -> String {
        wgsl::compose(self)
    }

    /// Invocations per workgroup.
    pub fn invocations(&self) -> u32 {
        self.workgroup_size.iter().product()
    }

    /// Storage buffers it binds.
    pub fn storage_buffers(&self) -> u32 {
        self.bindings
            .iter()
            .filter(|b| b.access != Access::Uniform)
            .count() as u32
    }

    /// Whether a device with `limits` can run it.
    pub fn fits(&self, limits: &wgpu::Limits) -> bool {
        limits.max_storage_buffers_per_shader_stage >= self.storage_buffers()
            && limits.max_compute_workgroup_storage_size >= self.workgroup_bytes
            && limits.max_compute_invocations_per_workgroup >= self.invocations()
    }

    /// The binding number of the variable `name`.
    pub fn binding(&self, name: &str) -> Option<u32> {
        self.bindings
            .iter()
            .position(|b| b.name == name)
            .map(|i| i as u32)
    }
}

const CONV: ParamsLayout = ConvParams::LAYOUT;
const GEMM: &[Common] = &[Common::Grid, Common::GemmTile];
/// The workgroup memory of a tiled kernel: two TILE × SLICE tiles of f32.
const GEMM_BYTES: u32 = 2 * 4 * TILE * TILE_SLICE;
const SIMPLE_WORKGROUP: [u32; 3] = [ELEMENTWISE, 1, 1];
const TILED_WORKGROUP: [u32; 3] = [TILE_BLOCK, TILE_BLOCK, 1];
const FORWARD_BINDINGS: &[Binding] = &[
    uniform("params"),
    read("x"),
    read("w"),
    read("b"),
    read_write("y"),
    read_write("z"),
];
const BWD_INPUT_BINDINGS: &[Binding] =
    &[uniform("params"), read("w"), read("dz"), read_write("dx")];

pub const FORWARD: KernelDesc = KernelDesc {
    name: "conv2d_bias_relu_fwd",
    body: include_str!("../../shaders/conv2d_bias_relu_fwd.wgsl"),
    params: CONV,
    common: &[Common::Grid],
    consts: &[],
    bindings: FORWARD_BINDINGS,
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈N·K·P·Q / 64⌉ workgroups, one output per invocation (`forward::forward_groups`)",
};

pub const FORWARD_TILED: KernelDesc = KernelDesc {
    name: "conv2d_bias_relu_fwd_tiled",
    body: include_str!("../../shaders/conv2d_bias_relu_fwd_tiled.wgsl"),
    params: CONV,
    common: GEMM,
    consts: &[],
    bindings: FORWARD_BINDINGS,
    workgroup_size: TILED_WORKGROUP,
    workgroup_bytes: GEMM_BYTES,
    grid: "⌈N·P·Q / 64⌉ · ⌈K / 64⌉ tiles (`forward::forward_groups`)",
};

pub const LOSS: KernelDesc = KernelDesc {
    name: "loss_mse_relu_bwd",
    body: include_str!("../../shaders/loss_mse_relu_bwd.wgsl"),
    params: LossParams::LAYOUT,
    common: &[Common::Grid, Common::Reduce],
    consts: &[],
    bindings: &[
        uniform("params"),
        read("y"),
        read("t"),
        read_write("dz"),
        read_write("partials"),
    ],
    workgroup_size: [LOSS_WORKGROUP_SIZE, 1, 1],
    workgroup_bytes: 4 * LOSS_WORKGROUP_SIZE,
    grid: "⌈N·K·P·Q / 256⌉ workgroups, one partial sum each (`Trainer::new_with`)",
};

pub const LOSS_REDUCE: KernelDesc = KernelDesc {
    name: "loss_reduce",
    body: include_str!("../../shaders/loss_reduce.wgsl"),
    params: LossParams::LAYOUT,
    common: &[Common::Reduce, Common::LossLog],
    consts: &[],
    bindings: &[uniform("params"), read("partials"), read_write("log")],
    workgroup_size: [LOSS_WORKGROUP_SIZE, 1, 1],
    workgroup_bytes: 4 * LOSS_WORKGROUP_SIZE,
    grid: "one workgroup",
};

pub const BWD_WEIGHT: KernelDesc = KernelDesc {
    name: "conv2d_bwd_weight",
    body: include_str!("../../shaders/conv2d_bwd_weight.wgsl"),
    params: CONV,
    common: &[Common::Grid, Common::Reduce],
    consts: &[],
    bindings: &[
        uniform("params"),
        read("x"),
        read("dz"),
        read_write("dw"),
        read_write("db"),
    ],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 4 * ELEMENTWISE,
    grid: "K·C·R·S + K workgroups, one per gradient element (`Trainer::new_with`)",
};

pub const BWD_WEIGHT_TILED: KernelDesc = KernelDesc {
    name: "conv2d_bwd_weight_tiled",
    body: include_str!("../../shaders/conv2d_bwd_weight_tiled.wgsl"),
    params: CONV,
    common: GEMM,
    consts: &[],
    bindings: &[
        uniform("params"),
        read("x"),
        read("dz"),
        read_write("partial"),
    ],
    workgroup_size: TILED_WORKGROUP,
    workgroup_bytes: GEMM_BYTES,
    grid: "⌈K / 64⌉ · ⌈(C·R·S + 1) / 64⌉ tiles × splits (`train::weight_tiles`, \
           `train::weight_splits`)",
};

pub const BWD_WEIGHT_REDUCE: KernelDesc = KernelDesc {
    name: "conv2d_bwd_weight_reduce",
    body: include_str!("../../shaders/conv2d_bwd_weight_reduce.wgsl"),
    params: CONV,
    common: &[Common::Grid],
    consts: &[],
    bindings: &[
        uniform("params"),
        read("partial"),
        read_write("dw"),
        read_write("db"),
    ],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈K·(C·R·S + 1) / 64⌉ workgroups, one (k, j) per invocation (`Trainer::new_with`)",
};

pub const BWD_INPUT: KernelDesc = KernelDesc {
    name: "conv2d_bwd_input",
    body: include_str!("../../shaders/conv2d_bwd_input.wgsl"),
    params: CONV,
    common: &[Common::Grid],
    consts: &[],
    bindings: BWD_INPUT_BINDINGS,
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈N·C·H·W / 64⌉ workgroups, one input element per invocation (`Trainer::new_with`)",
};

pub const BWD_INPUT_TILED: KernelDesc = KernelDesc {
    name: "conv2d_bwd_input_tiled",
    body: include_str!("../../shaders/conv2d_bwd_input_tiled.wgsl"),
    params: CONV,
    common: GEMM,
    consts: &[],
    bindings: BWD_INPUT_BINDINGS,
    workgroup_size: TILED_WORKGROUP,
    workgroup_bytes: GEMM_BYTES,
    grid: "⌈N·H·W / 64⌉ · ⌈C / 64⌉ tiles (`train::input_tiles`)",
};

pub const SGD: KernelDesc = KernelDesc {
    name: "sgd_update",
    body: include_str!("../../shaders/sgd_update.wgsl"),
    params: SgdParams::LAYOUT,
    common: &[Common::Grid, Common::Sgd],
    consts: &[],
    bindings: &[
        uniform("params"),
        read_write("param"),
        read("grad"),
        read_write("buf"),
    ],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈len / 64⌉ workgroups, one parameter per invocation (`Trainer::new_with`)",
};

pub const FUSED_LOOP: KernelDesc = KernelDesc {
    name: "fused_loop",
    body: include_str!("../../shaders/fused_loop.wgsl"),
    params: FusedLoopParams::LAYOUT,
    common: &[Common::Reduce, Common::LossLog, Common::Sgd],
    consts: &[
        ("MAX_WEIGHTS", FUSED_LOOP_MAX_WEIGHTS),
        ("MAX_FILTERS", FUSED_LOOP_MAX_FILTERS),
        ("MAX_OUTPUTS", FUSED_LOOP_MAX_OUTPUTS),
        ("MAX_INPUTS", FUSED_LOOP_MAX_INPUTS),
    ],
    bindings: &[
        uniform("params"),
        read("x"),
        read("t"),
        read_write("w"),
        read_write("b"),
        read_write("w_momentum"),
        read_write("b_momentum"),
        read_write("log"),
        read_write("dw"),
        read_write("db"),
        read_write("y"),
        read_write("dz"),
    ],
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

/// Every kernel of the crate.
pub const ALL: [&KernelDesc; 11] = [
    &FORWARD,
    &FORWARD_TILED,
    &LOSS,
    &LOSS_REDUCE,
    &BWD_WEIGHT,
    &BWD_WEIGHT_TILED,
    &BWD_WEIGHT_REDUCE,
    &BWD_INPUT,
    &BWD_INPUT_TILED,
    &SGD,
    &FUSED_LOOP,
];
