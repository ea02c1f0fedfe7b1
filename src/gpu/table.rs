//! One description per kernel, in one table: its name, its composed WGSL, its bindings by name
//! and access, its workgroup size and memory, and how the host sizes its grid.
//! `tests/shaders.rs` reflects every composed shader with naga and checks it against this table.

use crate::gpu::params::{ConvParams, LossParams, ParamsLayout, SgdParams};
use crate::gpu::wgsl::Common;
use crate::gpu::wgsl::{
    ELEMENTWISE_WORKGROUP_SIZE as ELEMENTWISE, LOSS_WORKGROUP_SIZE, TILE, TILE_BLOCK, TILE_SLICE,
};

mod binding;

use binding::{read, read_write, uniform};
pub use binding::{Access, Binding};

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

// `source()`, the composed WGSL, is in gpu/compose.rs.
impl KernelDesc {
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

    /// Some(whether the layer has a bias) for the kernels that read or write one (they include
    /// a bias piece of `shaders/common/`); None for the others.
    pub fn has_bias(&self) -> Option<bool> {
        self.common.iter().find_map(|c| match c {
            Common::BiasRead | Common::BiasGrad | Common::BiasTrain => Some(true),
            Common::NoBias => Some(false),
            _ => None,
        })
    }

    /// The first bias binding (`b` or `db`; the bias bindings come last), declared by the bias
    /// piece at `BIAS_BINDING`.
    pub fn bias_binding(&self) -> Option<u32> {
        self.bindings
            .iter()
            .position(|b| b.name == "b" || b.name == "db")
            .map(|i| i as u32)
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
const GEMM: &[Common] = &[Common::Grid, Common::GemmTile, Common::GemmStore];
/// The workgroup memory of a tiled kernel: two TILE × SLICE tiles of f32.
const GEMM_BYTES: u32 = 2 * 4 * TILE * TILE_SLICE;
const SIMPLE_WORKGROUP: [u32; 3] = [ELEMENTWISE, 1, 1];
const TILED_WORKGROUP: [u32; 3] = [TILE_BLOCK, TILE_BLOCK, 1];
/// The forward's bindings; the bias (from common/bias_read.wgsl) comes last, absent without one.
const FORWARD_BINDINGS: &[Binding] = &[
    uniform("params"),
    read("x"),
    read("w"),
    read_write("y"),
    read_write("z"),
    read("b"),
];
const FORWARD_BINDINGS_NO_BIAS: &[Binding] = FORWARD_BINDINGS.split_at(5).0;
const BWD_INPUT_BINDINGS: &[Binding] =
    &[uniform("params"), read("w"), read("dz"), read_write("dx")];
const BWD_WEIGHT_BINDINGS: &[Binding] = &[
    uniform("params"),
    read("x"),
    read("dz"),
    read_write("dw"),
    read_write("db"),
];
const BWD_WEIGHT_REDUCE_BINDINGS: &[Binding] = &[
    uniform("params"),
    read("partial"),
    read_write("dw"),
    read_write("db"),
];

pub const FORWARD: KernelDesc = KernelDesc {
    name: "conv2d_bias_relu_fwd",
    body: include_str!("../../shaders/conv2d_bias_relu_fwd.wgsl"),
    params: CONV,
    common: &[
        Common::Grid,
        Common::Padding,
        Common::Nan,
        Common::Activation,
        Common::BiasRead,
    ],
    consts: &[],
    bindings: FORWARD_BINDINGS,
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈N·K·P·Q / 64⌉ workgroups, one output per invocation (`forward::forward_groups`)",
};

pub const FORWARD_NO_BIAS: KernelDesc = KernelDesc {
    common: &[
        Common::Grid,
        Common::Padding,
        Common::Nan,
        Common::Activation,
        Common::NoBias,
    ],
    bindings: FORWARD_BINDINGS_NO_BIAS,
    ..FORWARD
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
    common: &[
        Common::Grid,
        Common::Reduce,
        Common::Padding,
        Common::WeightTap,
        Common::BiasGrad,
    ],
    consts: &[],
    bindings: BWD_WEIGHT_BINDINGS,
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 4 * ELEMENTWISE,
    grid: "K·(C/G)·R·S (+ K) workgroups, one per gradient element (`grids::bwd_weight_groups`)",
};

pub const BWD_WEIGHT_NO_BIAS: KernelDesc = KernelDesc {
    common: &[
        Common::Grid,
        Common::Reduce,
        Common::Padding,
        Common::WeightTap,
        Common::NoBias,
    ],
    bindings: BWD_WEIGHT_BINDINGS.split_at(4).0,
    ..BWD_WEIGHT
};

pub const BWD_WEIGHT_REDUCE: KernelDesc = KernelDesc {
    name: "conv2d_bwd_weight_reduce",
    body: include_str!("../../shaders/conv2d_bwd_weight_reduce.wgsl"),
    params: CONV,
    common: &[Common::Grid, Common::BiasGrad],
    consts: &[],
    bindings: BWD_WEIGHT_REDUCE_BINDINGS,
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈K·((C/G)·R·S + 1) / 64⌉ workgroups, one (k, j) per invocation",
};

pub const BWD_WEIGHT_REDUCE_NO_BIAS: KernelDesc = KernelDesc {
    common: &[Common::Grid, Common::NoBias],
    bindings: BWD_WEIGHT_REDUCE_BINDINGS.split_at(3).0,
    ..BWD_WEIGHT_REDUCE
};

pub const BWD_INPUT: KernelDesc = KernelDesc {
    name: "conv2d_bwd_input",
    body: include_str!("../../shaders/conv2d_bwd_input.wgsl"),
    params: CONV,
    common: &[Common::Grid, Common::InputElement],
    consts: &[],
    bindings: BWD_INPUT_BINDINGS,
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈N·C·H·W / 64⌉ workgroups, one input element per invocation (H, W padded with a \
           padding mode other than zeros: `grids::bwd_input_extent`)",
};

pub const BWD_INPUT_FOLD: KernelDesc = KernelDesc {
    name: "conv2d_bwd_input_fold",
    body: include_str!("../../shaders/conv2d_bwd_input_fold.wgsl"),
    params: CONV,
    common: &[Common::Grid, Common::InputElement],
    consts: &[],
    bindings: &[uniform("params"), read("dx_padded"), read_write("dx")],
    workgroup_size: SIMPLE_WORKGROUP,
    workgroup_bytes: 0,
    grid: "⌈N·C·H·W / 64⌉ workgroups, one input element per invocation",
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

mod fused;
mod ops;
mod tiled;
mod window;

pub use fused::{FUSED_LOOP, FUSED_LOOP_NO_BIAS};

pub use tiled::{
    BWD_INPUT_TILED, BWD_WEIGHT_TILED, BWD_WEIGHT_TILED_NO_BIAS, FORWARD_TILED,
    FORWARD_TILED_NO_BIAS,
};

pub use window::{
    BWD_INPUT_WINDOW, BWD_WEIGHT_WINDOW, BWD_WEIGHT_WINDOW_NO_BIAS, CHANNEL_BLOCK, FILTER_BLOCK,
    FORWARD_WINDOW, FORWARD_WINDOW_NO_BIAS, FORWARD_WINDOW_SMALL, FORWARD_WINDOW_SMALL_NO_BIAS,
    INPUT_ROW_BLOCK, PACK_INPUT_ROWS, PACK_INPUT_WEIGHTS, PACK_OUTPUT_GRAD, PACK_OUTPUT_GRAD_ROWS,
    PACK_WEIGHTS, PACK_WEIGHTS_SMALL, ROW_BLOCK, SMALL_FILTER_BLOCK, WEIGHT_FILTER_BLOCK,
    WINDOW_TAPS,
};

pub use ops::{CROSS_ENTROPY, GATHER_ROWS, LOSS_MEAN, MAX_POOL_BWD, MAX_POOL_FWD, RELU_BWD};

/// Every kernel of the crate, the variants without bias included.
pub const ALL: [&KernelDesc; 37] = [
    &FORWARD,
    &FORWARD_NO_BIAS,
    &FORWARD_WINDOW,
    &FORWARD_WINDOW_NO_BIAS,
    &FORWARD_WINDOW_SMALL,
    &FORWARD_WINDOW_SMALL_NO_BIAS,
    &PACK_WEIGHTS,
    &PACK_WEIGHTS_SMALL,
    &FORWARD_TILED,
    &FORWARD_TILED_NO_BIAS,
    &LOSS,
    &LOSS_REDUCE,
    &BWD_WEIGHT,
    &BWD_WEIGHT_NO_BIAS,
    &BWD_WEIGHT_TILED,
    &BWD_WEIGHT_TILED_NO_BIAS,
    &BWD_WEIGHT_WINDOW,
    &BWD_WEIGHT_WINDOW_NO_BIAS,
    &PACK_OUTPUT_GRAD,
    &PACK_INPUT_ROWS,
    &BWD_WEIGHT_REDUCE,
    &BWD_WEIGHT_REDUCE_NO_BIAS,
    &BWD_INPUT,
    &BWD_INPUT_TILED,
    &BWD_INPUT_WINDOW,
    &PACK_INPUT_WEIGHTS,
    &PACK_OUTPUT_GRAD_ROWS,
    &BWD_INPUT_FOLD,
    &SGD,
    &FUSED_LOOP,
    &FUSED_LOOP_NO_BIAS,
    &RELU_BWD,
    &MAX_POOL_FWD,
    &MAX_POOL_BWD,
    &CROSS_ENTROPY,
    &LOSS_MEAN,
    &GATHER_ROWS,
];
