//! What the WGSL kernels share with Rust: the constants below (written into each kernel's
//! source) and the pieces of `shaders/common/`. `gpu::compose` puts a kernel's source together.

/// Invocations per workgroup of the kernels that give one invocation one element (forward, dX,
/// the dW split reduction, SGD) and of the simple dW (one workgroup per gradient element).
pub const ELEMENTWISE_WORKGROUP_SIZE: u32 = 64;
/// Invocations per workgroup of `loss_mse_relu_bwd.wgsl` and `loss_reduce.wgsl`.
pub const LOSS_WORKGROUP_SIZE: u32 = 256;
/// Rows and columns of the output tile of a `*_tiled.wgsl` workgroup (`TILE`).
pub const TILE: u32 = 64;
/// Reduction steps a tiled workgroup stages at a time (`SLICE`).
pub const TILE_SLICE: u32 = 16;
/// Invocations along each side of a tiled workgroup (`BLOCK`); each holds 4×4 outputs.
pub const TILE_BLOCK: u32 = 16;
/// Invocations of the fused loop's one workgroup.
pub const FUSED_LOOP_WORKGROUP_SIZE: u32 = 256;
/// The most weights K·C·R·S the fused loop holds in workgroup memory (`MAX_WEIGHTS`).
pub const FUSED_LOOP_MAX_WEIGHTS: u32 = 512;
/// The most filters K (`MAX_FILTERS`).
pub const FUSED_LOOP_MAX_FILTERS: u32 = 32;
/// The most outputs N·K·P·Q (`MAX_OUTPUTS`) and inputs N·C·H·W (`MAX_INPUTS`): batch 4 of the
/// notebook's layer (`wgconv train`'s default), 3,200 and 2,304. The loop's workgroup memory is
/// then 29,572 bytes, within the 32 KiB most GPUs and browsers' WebGPU offer (WebGPU's default
/// is 16 KiB: the context asks for the adapter's own).
pub const FUSED_LOOP_MAX_OUTPUTS: u32 = 3200;
/// See [`FUSED_LOOP_MAX_OUTPUTS`].
pub const FUSED_LOOP_MAX_INPUTS: u32 = 2304;

// The tiled kernels' loads assume a BLOCK × BLOCK workgroup holds 4×4 outputs each of the tile,
// and stages each TILE × SLICE slice in 4 loads per invocation.
const _: () = assert!(TILE == 4 * TILE_BLOCK && TILE * TILE_SLICE == 4 * TILE_BLOCK * TILE_BLOCK);
// The fused loop's tree sums need a power of two.
const _: () = assert!(FUSED_LOOP_WORKGROUP_SIZE.is_power_of_two());
const _: () = assert!(LOSS_WORKGROUP_SIZE.is_power_of_two());
const _: () = assert!(ELEMENTWISE_WORKGROUP_SIZE.is_power_of_two());

/// A piece of `shaders/common/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Common {
    /// `flat_workgroup`: undoes the folded grid.
    Grid,
    /// `tree_sum` over the workgroup array `sums` (needs WORKGROUP_SIZE).
    Reduce,
    /// The tiles and `multiply_slice` of the implicit GEMMs.
    GemmTile,
    /// `store_tile`: the GEMMs' epilogue, through the kernel's `store_output` (after GemmTile).
    GemmStore,
    /// `weight_tap`: one term of a weight-gradient sum (needs Padding).
    WeightTap,
    /// `input_element`: the input element of a one-per-element grid (needs Grid).
    InputElement,
    /// The `LossLog` struct.
    LossLog,
    /// `sgd_step`: one torch.optim.SGD update.
    Sgd,
    /// `padded_source`: what a padded coordinate reads in each padding mode.
    Padding,
    /// `bias(k)` from the binding `b`.
    BiasRead,
    /// `store_db(k, v)` into the binding `db`.
    BiasGrad,
    /// `load_bias`/`store_bias` of the bindings `b`, `b_momentum`, `db` (the fused loop).
    BiasTrain,
    /// The same functions for a layer without bias, and no binding.
    NoBias,
    /// `activate(z)`: the layer's ReLU or none (`params.relu`), NaN kept (needs `Nan`).
    Activation,
    /// `is_nan(v)` from the bits.
    Nan,
    /// `source_columns`, `read_columns`, `inside`, `read_inside`: the input columns a window
    /// kernel's block reads (needs the binding `x` and `Padding`).
    WindowColumns,
    /// `input_rows_width`: the rows of x as the window versions' sliding paths read them.
    InputRows,
    /// `output_grad_rows_width`, `output_grad_rows_lead`: the rows of dz as the window dX's
    /// sliding path reads them.
    OutputGradRows,
}

impl Common {
    /// The file, relative to `shaders/`.
    pub fn file(self) -> &'static str {
        match self {
            Common::Grid => "common/grid.wgsl",
            Common::Reduce => "common/reduce.wgsl",
            Common::GemmTile => "common/gemm_tile.wgsl",
            Common::GemmStore => "common/gemm_store.wgsl",
            Common::WeightTap => "common/weight_tap.wgsl",
            Common::InputElement => "common/input_element.wgsl",
            Common::LossLog => "common/loss_log.wgsl",
            Common::Sgd => "common/sgd.wgsl",
            Common::Padding => "common/padding.wgsl",
            Common::BiasRead => "common/bias_read.wgsl",
            Common::BiasGrad => "common/bias_grad.wgsl",
            Common::BiasTrain => "common/bias_train.wgsl",
            Common::NoBias => "common/no_bias.wgsl",
            Common::Activation => "common/activation.wgsl",
            Common::Nan => "common/nan.wgsl",
            Common::WindowColumns => "common/window_columns.wgsl",
            Common::InputRows => "common/input_rows.wgsl",
            Common::OutputGradRows => "common/output_grad_rows.wgsl",
        }
    }

    /// The file's text.
    pub fn source(self) -> &'static str {
        match self {
            Common::Grid => include_str!("../../shaders/common/grid.wgsl"),
            Common::Reduce => include_str!("../../shaders/common/reduce.wgsl"),
            Common::GemmTile => include_str!("../../shaders/common/gemm_tile.wgsl"),
            Common::GemmStore => include_str!("../../shaders/common/gemm_store.wgsl"),
            Common::WeightTap => include_str!("../../shaders/common/weight_tap.wgsl"),
            Common::InputElement => include_str!("../../shaders/common/input_element.wgsl"),
            Common::LossLog => include_str!("../../shaders/common/loss_log.wgsl"),
            Common::Sgd => include_str!("../../shaders/common/sgd.wgsl"),
            Common::Padding => include_str!("../../shaders/common/padding.wgsl"),
            Common::BiasRead => include_str!("../../shaders/common/bias_read.wgsl"),
            Common::BiasGrad => include_str!("../../shaders/common/bias_grad.wgsl"),
            Common::BiasTrain => include_str!("../../shaders/common/bias_train.wgsl"),
            Common::NoBias => include_str!("../../shaders/common/no_bias.wgsl"),
            Common::Activation => include_str!("../../shaders/common/activation.wgsl"),
            Common::Nan => include_str!("../../shaders/common/nan.wgsl"),
            Common::WindowColumns => include_str!("../../shaders/common/window_columns.wgsl"),
            Common::InputRows => include_str!("../../shaders/common/input_rows.wgsl"),
            Common::OutputGradRows => include_str!("../../shaders/common/output_grad_rows.wgsl"),
        }
    }

    /// The shared constants the piece uses, besides WORKGROUP_SIZE.
    pub(crate) fn consts(self) -> &'static [(&'static str, u32)] {
        match self {
            Common::GemmTile => &[("TILE", TILE), ("SLICE", TILE_SLICE), ("BLOCK", TILE_BLOCK)],
            _ => &[],
        }
    }
}
