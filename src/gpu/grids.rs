//! How many workgroups each kernel launches, and the fold of a long grid into (x, y, z).

use crate::error::{Error, Result};
use crate::gpu::kernel::KernelVersion;
use crate::gpu::table::{FILTER_BLOCK, ROW_BLOCK, SMALL_FILTER_BLOCK, WEIGHT_FILTER_BLOCK};
use crate::shape::{ConvShape, PaddingMode};

/// A dispatch's workgroups along x, y and z.
pub type Grid = (u32, u32, u32);

pub use crate::gpu::wgsl::{
    ELEMENTWISE_WORKGROUP_SIZE, FUSED_LOOP_WORKGROUP_SIZE, LOSS_WORKGROUP_SIZE, TILE,
};

/// Invocations per workgroup of `conv2d_bias_relu_fwd.wgsl`.
pub const FORWARD_WORKGROUP_SIZE: u32 = ELEMENTWISE_WORKGROUP_SIZE;

fn too_many(what: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{what}: too many workgroups for one dispatch"))
}

/// Workgroups of `per_group` invocations for `items` items.
pub(crate) fn groups(items: u64, per_group: u32) -> Result<u32> {
    u32::try_from(items.div_ceil(u64::from(per_group)))
        .map_err(|_| too_many(format_args!("{items} items")))
}

/// A grid of `groups` workgroups folded into (x, y, z), each at most `max_dim`.
pub(crate) fn fold_grid(groups: u32, max_dim: u32) -> Result<Grid> {
    let gx = groups.clamp(1, max_dim);
    let rest = groups.div_ceil(gx);
    let gy = rest.clamp(1, max_dim);
    let gz = rest.div_ceil(gy);
    if gz > max_dim {
        return Err(Error::Invalid(format!(
            "{groups} workgroups do not fit a {max_dim}³ grid"
        )));
    }
    Ok((gx, gy, gz))
}

/// Workgroups of forward `version` on `shape`, before folding.
pub(crate) fn forward_groups(shape: &ConvShape, version: KernelVersion) -> Result<u32> {
    match version {
        KernelVersion::Simple => groups(shape.output_len(), FORWARD_WORKGROUP_SIZE),
        KernelVersion::Window => {
            window_forward_takes(shape)?;
            let rows = u64::from(shape.n)
                * u64::from(shape.p())
                * u64::from(shape.q()).div_ceil(u64::from(ROW_BLOCK));
            let chunks = rows.div_ceil(u64::from(FORWARD_WORKGROUP_SIZE));
            let block = u64::from(forward_filter_block(shape));
            let blocks = u64::from(shape.filters_per_group()).div_ceil(block);
            let all = u64::from(shape.groups) * blocks * chunks;
            u32::try_from(all).map_err(|_| too_many(shape))
        }
        KernelVersion::Tiled => {
            let rows = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
            let tiles = tiles(rows) * tiles(shape.filters_per_group().into());
            u32::try_from(tiles * u64::from(shape.groups)).map_err(|_| too_many(shape))
        }
    }
}

/// TILE-wide tiles covering `len`.
fn tiles(len: u64) -> u64 {
    len.div_ceil(u64::from(TILE))
}

/// Filters per invocation of the window forward of `shape`: `SMALL_FILTER_BLOCK` (4) where a
/// group has no more filters, else `FILTER_BLOCK` (8).
pub fn forward_filter_block(shape: &ConvShape) -> u32 {
    match shape.filters_per_group() {
        k if k <= SMALL_FILTER_BLOCK => SMALL_FILTER_BLOCK,
        _ => FILTER_BLOCK,
    }
}

/// Floats of the weights packed in blocks of F = `forward_filter_block` filters for the window
/// forward (`conv2d_pack_weights.wgsl`): G·⌈(K/G)/F⌉·(C/G)·R·S·F.
pub(crate) fn packed_weights_len(shape: &ConvShape) -> u64 {
    let block = u64::from(forward_filter_block(shape));
    let blocks = u64::from(shape.filters_per_group()).div_ceil(block) * u64::from(shape.groups);
    blocks * block * u64::from(shape.channels_per_group()) * u64::from(shape.r) * u64::from(shape.s)
}

/// Floats of a row of x as the window forward's and dW's sliding paths read it
/// (`common/input_rows.wgsl`):
/// 4·(2·⌈Q/8⌉ + 1 + ⌊(S − 1)/4⌋), the last block's eight columns and S − 1 after them in vec4s.
pub fn input_rows_width(shape: &ConvShape) -> u64 {
    4 * (2 * u64::from(shape.q()).div_ceil(8) + 1 + u64::from(shape.s - 1) / 4)
}

/// Floats of x packed in rows for the window forward and dW (`conv2d_pack_input_rows.wgsl`):
/// N·C·H rows.
pub(crate) fn packed_input_rows_len(shape: &ConvShape) -> u64 {
    u64::from(shape.n) * u64::from(shape.c) * u64::from(shape.h) * input_rows_width(shape)
}

/// Whether the window forward and dW of `shape` take their sliding paths, reading x's packed
/// rows: stride and dilation 1 along a row, zero padding (or none) at the sides; for dW also
/// more than one column ([`weight_grad_slides`]).
pub fn window_slides(shape: &ConvShape) -> bool {
    let sides = shape.padding.left + shape.padding.right;
    shape.stride.1 == 1
        && shape.dilation.1 == 1
        && (shape.padding_mode == PaddingMode::Zeros || sides == 0)
}

/// Whether the window dW of `shape` reads x's packed rows (`conv2d_bwd_weight_window.wgsl`: a
/// row of one column takes its own path).
pub fn weight_grad_slides(shape: &ConvShape) -> bool {
    window_slides(shape) && shape.q() > 1
}

/// The width W and left padding the window dX sees: the layer's, or with a copying padding mode
/// the padded input's and none (`conv2d::input_grad::bwd_input_params`).
fn input_grad_columns(shape: &ConvShape) -> (u64, u64) {
    match shape.padding_mode {
        PaddingMode::Zeros => (shape.w.into(), shape.padding.left.into()),
        _ => (bwd_input_extent(shape).1, 0),
    }
}

/// Floats of a row of dz as the window dX's sliding path reads it
/// (`common/output_grad_rows.wgsl`): 8·⌈W/8⌉ + 4·⌈(left + S − 1)/4⌉.
pub fn output_grad_rows_width(shape: &ConvShape) -> u64 {
    let (w, left) = input_grad_columns(shape);
    8 * w.div_ceil(8) + 4 * (left + u64::from(shape.s) - 1).div_ceil(4)
}

/// Columns of a packed row of dz before dz's column 0: 4·⌈(left + S − 1)/4⌉ − left (≥ S − 1).
pub fn output_grad_rows_lead(shape: &ConvShape) -> u64 {
    let (_, left) = input_grad_columns(shape);
    4 * (left + u64::from(shape.s) - 1).div_ceil(4) - left
}

/// Floats of dz packed in rows for the window dX (`conv2d_pack_output_grad_rows.wgsl`): N·K·P
/// rows.
pub(crate) fn packed_output_grad_rows_len(shape: &ConvShape) -> u64 {
    u64::from(shape.n) * u64::from(shape.k) * u64::from(shape.p()) * output_grad_rows_width(shape)
}

/// Whether the window dX of `shape` takes its sliding path, reading dz's packed rows: stride
/// and dilation 1 along a row (`conv2d_bwd_input_window.wgsl`).
pub fn input_grad_slides(shape: &ConvShape) -> bool {
    shape.stride.1 == 1 && shape.dilation.1 == 1
}

/// Floats of dz packed in blocks of `WEIGHT_FILTER_BLOCK` filters for the window dW
/// (`conv2d_pack_output_grad.wgsl`): N·P·Q·G·⌈(K/G)/4⌉·4.
pub(crate) fn packed_output_grad_len(shape: &ConvShape) -> u64 {
    let block = u64::from(WEIGHT_FILTER_BLOCK);
    let blocks = u64::from(shape.filters_per_group()).div_ceil(block) * u64::from(shape.groups);
    u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q()) * blocks * block
}

/// Floats of the weights packed in blocks of `CHANNEL_BLOCK` channels for the window dX
/// (`conv2d_pack_input_weights.wgsl`): K·⌈(C/G)/4⌉·R·S·4.
pub(crate) fn packed_input_weights_len(shape: &ConvShape) -> u64 {
    let block = u64::from(crate::gpu::table::CHANNEL_BLOCK);
    let blocks = u64::from(shape.channels_per_group()).div_ceil(block);
    u64::from(shape.k) * blocks * block * u64::from(shape.r) * u64::from(shape.s)
}

/// Columns of the weight gradient as the tiled kernel computes it: (C/G)·R·S weights of a
/// filter, then its bias when the layer has one.
pub(crate) fn weight_grad_cols(shape: &ConvShape) -> u64 {
    shape.reduction_len() + u64::from(shape.bias)
}

/// The (height, width) of the input gradient the dX kernels write: the input's, or with a
/// padding mode other than zeros the padded input's (`conv2d_bwd_input_fold.wgsl` then adds
/// each padded position into the pixel it copies).
pub(crate) fn bwd_input_extent(shape: &ConvShape) -> (u64, u64) {
    let (h, w) = (u64::from(shape.h), u64::from(shape.w));
    match shape.padding_mode {
        PaddingMode::Zeros => (h, w),
        _ => (h + shape.padding.rows(), w + shape.padding.cols()),
    }
}

/// Elements of the input gradient the dX kernels write: N·C·H·W, or N·C·(padded H)·(padded W).
pub(crate) fn bwd_input_len(shape: &ConvShape) -> u64 {
    let (h, w) = bwd_input_extent(shape);
    u64::from(shape.n) * u64::from(shape.c) * h * w
}

/// Workgroups of the simple weight gradient: one per weight and one per bias.
pub(crate) fn bwd_weight_groups(shape: &ConvShape) -> Result<u32> {
    u32::try_from(shape.weight_len() + shape.bias_len()).map_err(|_| too_many(shape))
}

/// Tiles of `conv2d_bwd_weight_tiled.wgsl`, per group: TILE filters × TILE columns of
/// (C/G)·R·S (+ 1 with bias).
pub(crate) fn weight_tiles(shape: &ConvShape) -> Result<u32> {
    let per_group = tiles(shape.filters_per_group().into()) * tiles(weight_grad_cols(shape));
    u32::try_from(per_group * u64::from(shape.groups)).map_err(|_| too_many(shape))
}

/// Splits of the tiled weight gradient's N·P·Q reduction: enough workgroups to fill a large GPU
/// (about 512), each split at least 256 terms long, and the partial sums within `cap` bytes.
pub(crate) fn weight_splits(shape: &ConvShape, cap: u64) -> Result<u32> {
    let terms = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
    let tiles = u64::from(weight_tiles(shape)?).max(1);
    let per_split_bytes = 4 * u64::from(shape.k) * weight_grad_cols(shape);
    let splits = 512u64
        .div_ceil(tiles)
        .min(terms.div_ceil(256))
        .min(cap / per_split_bytes.max(1))
        .max(1);
    Ok(splits as u32)
}

/// Loop iterations one invocation of the window dW may run. llvmpipe (lavapipe, and Mesa's GL)
/// ends every loop of an invocation once it has run 65,535 iterations of them all
/// (`LP_MAX_TGSI_LOOP_ITERATIONS`), silently: the sums come out short. This keeps below it,
/// with room for the kernel's R·S-long clearing and storing loops (measured: 80 rows of 24
/// outputs with 5×5 taps, 71,000 iterations by llvmpipe's count, came out short; 65 rows did not).
pub const WINDOW_LOOP_BUDGET: u64 = 60_000;

/// Loop iterations of the window dW for one output row (n, p): ⌈Q/8⌉ blocks of eight columns,
/// each R rows of S taps (the generic kernel's count; the specialised one unrolls the taps).
/// llvmpipe counts a loop of n iterations as n + 1 (its last pass, every lane done, counts too).
fn window_row_iterations(shape: &ConvShape) -> u64 {
    let (r, s) = (u64::from(shape.r), u64::from(shape.s));
    u64::from(shape.q()).div_ceil(8) * (2 + r * (s + 2)) + 2
}

/// Loop iterations of a window dW invocation outside its rows: zeroing R·S sums and storing
/// them for each of its filters.
fn window_fixed_iterations(shape: &ConvShape) -> u64 {
    let taps = u64::from(shape.r) * u64::from(shape.s);
    (1 + u64::from(WEIGHT_FILTER_BLOCK)) * (taps + 2)
}

/// Invocations of the window dW per split: a block of filters × a channel each.
fn window_per_split(shape: &ConvShape) -> u64 {
    let blocks = u64::from(shape.filters_per_group()).div_ceil(u64::from(WEIGHT_FILTER_BLOCK));
    u64::from(shape.groups) * blocks * u64::from(shape.channels_per_group())
}

/// Whether the window dW takes `shape`: R·S ≤ `table::WINDOW_TAPS`, and a row of outputs
/// within [`WINDOW_LOOP_BUDGET`].
pub fn window_takes(shape: &ConvShape) -> Result<()> {
    let taps = u64::from(shape.r) * u64::from(shape.s);
    if taps > u64::from(crate::gpu::table::WINDOW_TAPS) {
        return Err(Error::Invalid(format!(
            "{shape}: the window dW holds at most {} taps, not R·S = {taps}",
            crate::gpu::table::WINDOW_TAPS
        )));
    }
    if window_row_iterations(shape) + window_fixed_iterations(shape) > WINDOW_LOOP_BUDGET {
        return Err(Error::Invalid(format!(
            "{shape}: a row of Q = {} outputs is too long for the window dW (more than {} loop \
             iterations for one invocation)",
            shape.q(),
            WINDOW_LOOP_BUDGET
        )));
    }
    Ok(())
}

/// Loop iterations of one window forward or dX invocation, which sums `reduce` channels (the
/// forward's C/G, dX's K/G), each R rows of S taps, and sets and stores its block (fewer than
/// 128 iterations where the driver does not unroll those loops).
fn window_block_iterations(reduce: u32, shape: &ConvShape) -> u64 {
    let (r, s) = (u64::from(shape.r), u64::from(shape.s));
    u64::from(reduce) * (2 + r * (s + 2)) + 128
}

fn window_block_takes(pass: &str, reduce: u32, shape: &ConvShape) -> Result<()> {
    let iterations = window_block_iterations(reduce, shape);
    if iterations > WINDOW_LOOP_BUDGET {
        return Err(Error::Invalid(format!(
            "{shape}: an invocation of the window {pass} would run {iterations} loop iterations, \
             more than the {WINDOW_LOOP_BUDGET} that llvmpipe runs correctly"
        )));
    }
    Ok(())
}

/// Whether the window forward takes `shape`: C/G channels of R×S taps within
/// [`WINDOW_LOOP_BUDGET`] (2×1024×8×8 → 16, 7×7 came out wrong on llvmpipe past it).
pub fn window_forward_takes(shape: &ConvShape) -> Result<()> {
    window_block_takes("forward", shape.channels_per_group(), shape)
}

/// Whether the window dX takes `shape`: K/G filters of R×S taps within [`WINDOW_LOOP_BUDGET`].
pub fn window_input_takes(shape: &ConvShape) -> Result<()> {
    window_block_takes("dX", shape.filters_per_group(), shape)
}

/// Splits of the window dW (`conv2d_bwd_weight_window.wgsl`), a range of output rows (n, p)
/// each: enough for 256 invocations (a CPU's lanes several times over), at most one per row,
/// and enough that no invocation runs past [`WINDOW_LOOP_BUDGET`]; an error where the partial
/// sums or the packed dz would not fit `cap` bytes or [`window_takes`] refuses the shape.
pub(crate) fn window_splits(shape: &ConvShape, cap: u64) -> Result<u32> {
    window_takes(shape)?;
    let rows = u64::from(shape.n) * u64::from(shape.p());
    let rows_per_split =
        (WINDOW_LOOP_BUDGET - window_fixed_iterations(shape)) / window_row_iterations(shape);
    let needed = rows.div_ceil(rows_per_split);
    let per_split_bytes = 4 * u64::from(shape.k) * weight_grad_cols(shape);
    let per_split = window_per_split(shape);
    let splits = 256u64
        .div_ceil(per_split.max(1))
        .min(rows)
        .min(cap / per_split_bytes.max(1))
        .max(needed)
        .max(1);
    let packed_bytes = 4 * packed_output_grad_len(shape);
    if packed_bytes > cap {
        return Err(Error::Invalid(format!(
            "{shape}: the window dW's dz in blocks of {WEIGHT_FILTER_BLOCK} filters \
             ({packed_bytes} bytes) does not fit one binding ({cap} bytes)"
        )));
    }
    let rows_bytes = 4 * packed_input_rows_len(shape);
    if weight_grad_slides(shape) && rows_bytes > cap {
        return Err(Error::Invalid(format!(
            "{shape}: the window dW's rows of x ({rows_bytes} bytes) do not fit one binding \
             ({cap} bytes)"
        )));
    }
    if splits.saturating_mul(per_split_bytes) > cap || splits > u64::from(u32::MAX) {
        return Err(Error::Invalid(format!(
            "{shape}: the window dW's {splits} partial sums of {per_split_bytes} bytes do not \
             fit one binding ({cap} bytes)"
        )));
    }
    Ok(splits as u32)
}

/// Workgroups of the window dW with `splits` splits: one invocation per (split, k, c').
pub(crate) fn window_groups(shape: &ConvShape, splits: u32) -> Result<u32> {
    groups(
        u64::from(splits) * window_per_split(shape),
        ELEMENTWISE_WORKGROUP_SIZE,
    )
}

/// Workgroups of the window dX (`conv2d_bwd_input_window.wgsl`): per group and block of
/// [`table::CHANNEL_BLOCK`](crate::gpu::table::CHANNEL_BLOCK) channels, the blocks of eight
/// pixels of a row of the extent of `bwd_input_extent`, each block's of one class mod the stride.
pub(crate) fn input_window_groups(shape: &ConvShape) -> Result<u32> {
    window_input_takes(shape)?;
    let (h, w) = bwd_input_extent(shape);
    let stride = u64::from(shape.stride.1);
    let per_class = w.div_ceil(u64::from(crate::gpu::table::INPUT_ROW_BLOCK) * stride);
    let rows = u64::from(shape.n) * h * stride * per_class;
    let chunks = rows.div_ceil(u64::from(ELEMENTWISE_WORKGROUP_SIZE));
    let block = u64::from(crate::gpu::table::CHANNEL_BLOCK);
    let blocks = u64::from(shape.channels_per_group()).div_ceil(block);
    u32::try_from(u64::from(shape.groups) * blocks * chunks).map_err(|_| too_many(shape))
}

/// Tiles of `conv2d_bwd_input_tiled.wgsl`, per group: TILE input pixels (N·H·W, over the
/// extent of `bwd_input_extent`) × TILE channels of C/G.
pub(crate) fn input_tiles(shape: &ConvShape) -> Result<u32> {
    let (h, w) = bwd_input_extent(shape);
    let rows = u64::from(shape.n) * h * w;
    let per_group = tiles(rows) * tiles(shape.channels_per_group().into());
    u32::try_from(per_group * u64::from(shape.groups)).map_err(|_| too_many(shape))
}

/// Invocations per gradient element in the fused loop: the largest power of two that lets
/// every element of its workgroup work at once (1 when there are more than half as many
/// elements as invocations).
pub(crate) fn fused_lanes(grads: u64) -> u32 {
    let per = (u64::from(FUSED_LOOP_WORKGROUP_SIZE) / grads.max(1)).max(1) as u32;
    1 << (31 - per.leading_zeros())
}
