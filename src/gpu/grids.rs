//! How many workgroups each kernel launches, and the fold of a long grid into (x, y, z).

use crate::error::{Error, Result};
use crate::gpu::kernel::KernelVersion;
use crate::shape::ConvShape;

/// A dispatch's workgroups along x, y and z.
pub type Grid = (u32, u32, u32);

/// Invocations per workgroup of `conv2d_bias_relu_fwd.wgsl`.
pub const FORWARD_WORKGROUP_SIZE: u32 = 64;
/// Output rows (N·P·Q) and filters (K) per workgroup of the tiled forward kernel: TILE_M and
/// TILE_K in `conv2d_bias_relu_fwd_tiled.wgsl`.
pub const FORWARD_TILE: (u32, u32) = (64, 64);
/// Invocations per workgroup of `loss_mse_relu_bwd.wgsl`.
pub const LOSS_WORKGROUP_SIZE: u32 = 256;
/// Invocations per workgroup of `conv2d_bwd_input.wgsl`, `conv2d_bwd_weight_reduce.wgsl` and
/// `sgd_update.wgsl`.
pub const ELEMENTWISE_WORKGROUP_SIZE: u32 = 64;

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
        KernelVersion::Tiled => {
            let rows = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
            let tiles = rows.div_ceil(u64::from(FORWARD_TILE.0))
                * u64::from(shape.k).div_ceil(u64::from(FORWARD_TILE.1));
            u32::try_from(tiles).map_err(|_| too_many(shape))
        }
    }
}

/// Workgroups of the simple weight gradient: one per weight and one per bias.
pub(crate) fn bwd_weight_groups(shape: &ConvShape) -> Result<u32> {
    u32::try_from(shape.weight_len() + u64::from(shape.k)).map_err(|_| too_many(shape))
}

/// Tiles of `conv2d_bwd_weight_tiled.wgsl`: 64 filters × 64 columns of C·R·S + 1.
pub(crate) fn weight_tiles(shape: &ConvShape) -> Result<u32> {
    let cols = shape.reduction_len() + 1;
    u32::try_from(u64::from(shape.k).div_ceil(64) * cols.div_ceil(64)).map_err(|_| too_many(shape))
}

/// Splits of the tiled weight gradient's N·P·Q reduction: enough workgroups to fill a large GPU
/// (about 512), each split at least 256 terms long, and the partial sums within `cap` bytes.
pub(crate) fn weight_splits(shape: &ConvShape, cap: u64) -> Result<u32> {
    let terms = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
    let tiles = u64::from(weight_tiles(shape)?).max(1);
    let per_split_bytes = 4 * u64::from(shape.k) * (shape.reduction_len() + 1);
    let splits = 512u64
        .div_ceil(tiles)
        .min(terms.div_ceil(256))
        .min(cap / per_split_bytes.max(1))
        .max(1);
    Ok(splits as u32)
}

/// Tiles of `conv2d_bwd_input_tiled.wgsl`: 64 input pixels (N·H·W) × 64 channels.
pub(crate) fn input_tiles(shape: &ConvShape) -> Result<u32> {
    let rows = u64::from(shape.n) * u64::from(shape.h) * u64::from(shape.w);
    u32::try_from(rows.div_ceil(64) * u64::from(shape.c).div_ceil(64)).map_err(|_| too_many(shape))
}

/// Invocations per gradient element in the fused loop: the largest power of two that lets
/// every element of a 256-invocation workgroup work at once (1 when there are more than 128).
pub(crate) fn fused_lanes(grads: u64) -> u32 {
    let per = (256 / grads.max(1)).max(1) as u32;
    1 << (31 - per.leading_zeros())
}
