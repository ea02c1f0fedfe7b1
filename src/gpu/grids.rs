//! How many workgroups each kernel launches, and the fold of a long grid into (x, y, z).

use crate::error::{Error, Result};
use crate::gpu::kernel::KernelVersion;
use crate::shape::ConvShape;

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
        KernelVersion::Tiled => {
            let rows = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
            let tiles =
                rows.div_ceil(u64::from(TILE)) * u64::from(shape.k).div_ceil(u64::from(TILE));
            u32::try_from(tiles).map_err(|_| too_many(shape))
        }
    }
}

/// Workgroups of the simple weight gradient: one per weight and one per bias.
pub(crate) fn bwd_weight_groups(shape: &ConvShape) -> Result<u32> {
    u32::try_from(shape.weight_len() + u64::from(shape.k)).map_err(|_| too_many(shape))
}

/// Tiles of `conv2d_bwd_weight_tiled.wgsl`: TILE filters × TILE columns of C·R·S + 1.
pub(crate) fn weight_tiles(shape: &ConvShape) -> Result<u32> {
    let cols = shape.reduction_len() + 1;
    u32::try_from(u64::from(shape.k).div_ceil(u64::from(TILE)) * cols.div_ceil(u64::from(TILE)))
        .map_err(|_| too_many(shape))
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

/// Tiles of `conv2d_bwd_input_tiled.wgsl`: TILE input pixels (N·H·W) × TILE channels.
pub(crate) fn input_tiles(shape: &ConvShape) -> Result<u32> {
    let rows = u64::from(shape.n) * u64::from(shape.h) * u64::from(shape.w);
    u32::try_from(rows.div_ceil(u64::from(TILE)) * u64::from(shape.c).div_ceil(u64::from(TILE)))
        .map_err(|_| too_many(shape))
}

/// Invocations per gradient element in the fused loop: the largest power of two that lets
/// every element of its workgroup work at once (1 when there are more than half as many
/// elements as invocations).
pub(crate) fn fused_lanes(grads: u64) -> u32 {
    let per = (u64::from(FUSED_LOOP_WORKGROUP_SIZE) / grads.max(1)).max(1) as u32;
    1 << (31 - per.leading_zeros())
}
