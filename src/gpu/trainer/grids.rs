//! The trainer's launch sizes and the uniforms that carry them: one per kernel.

use crate::error::{Error, Result};
use crate::gpu::conv2d::bwd_input_params;
use crate::gpu::forward::conv_params;
use crate::gpu::grids::{
    bwd_input_len, bwd_weight_groups, fold_grid, groups, input_tiles, input_window_groups,
    weight_grad_cols, weight_splits, weight_tiles, window_groups, window_splits, Grid,
    ELEMENTWISE_WORKGROUP_SIZE, LOSS_WORKGROUP_SIZE,
};
use crate::gpu::kernel::KernelVersion;
use crate::gpu::memory::GpuBuffer;
use crate::gpu::params::{ConvParams, LossParams, SgdParams};
use crate::gpu::versions::TrainVersions;
use crate::gpu::GpuContext;
use crate::sgd::Sgd;
use crate::shape::{ConvShape, PaddingMode};

/// Workgroups of every backward and update kernel of one training step.
pub(super) struct Grids {
    pub(super) loss: Grid,
    /// Workgroups of the loss pass before folding: one partial sum each.
    pub(super) loss_partials: u32,
    pub(super) bwd_weight: Grid,
    pub(super) bwd_weight_reduce: Grid,
    /// Whether the weight gradient is split (tiled or window), with its split reduction.
    pub(super) split_weight: bool,
    /// Slices of the N·P·Q reduction of the tiled weight gradient (1 for the simple one).
    pub(super) splits: u32,
    pub(super) bwd_input: Grid,
    /// conv2d_bwd_input_fold.wgsl's, for a padding mode other than zeros.
    pub(super) bwd_input_fold: Option<Grid>,
    pub(super) sgd_w: Grid,
    pub(super) sgd_b: Grid,
}

impl Grids {
    pub(super) fn new(
        ctx: &GpuContext,
        shape: &ConvShape,
        versions: &TrainVersions,
    ) -> Result<Self> {
        let max_dim = ctx.limits.max_compute_workgroups_per_dimension;
        let fold = |groups: u32| fold_grid(groups, max_dim);
        let cap = ctx.binding_limit().0;
        let (splits, bwd_weight) = match versions.bwd_weight {
            KernelVersion::Simple => (1, bwd_weight_groups(shape)?),
            KernelVersion::Tiled => {
                let splits = weight_splits(shape, cap)?;
                let tiles = weight_tiles(shape)?.checked_mul(splits).ok_or_else(|| {
                    Error::Invalid(format!("{shape}: too many workgroups for dW"))
                })?;
                (splits, tiles)
            }
            KernelVersion::Window => {
                let splits = window_splits(shape, cap)?;
                (splits, window_groups(shape, splits)?)
            }
        };
        let split_weight = versions.bwd_weight != KernelVersion::Simple;
        let loss_partials = groups(shape.output_len(), LOSS_WORKGROUP_SIZE)?;
        let weight_grads = u64::from(shape.k) * weight_grad_cols(shape);
        let bwd_input = match versions.bwd_input {
            KernelVersion::Simple => groups(bwd_input_len(shape), ELEMENTWISE_WORKGROUP_SIZE)?,
            KernelVersion::Tiled => input_tiles(shape)?,
            KernelVersion::Window => input_window_groups(shape)?,
        };
        let elementwise = |len: u64| groups(len, ELEMENTWISE_WORKGROUP_SIZE);
        let bwd_input_fold = match shape.padding_mode {
            PaddingMode::Zeros => None,
            _ => Some(fold(elementwise(shape.input_len())?)?),
        };
        Ok(Grids {
            loss: fold(loss_partials)?,
            loss_partials,
            bwd_weight: fold(bwd_weight)?,
            bwd_weight_reduce: fold(elementwise(weight_grads)?)?,
            split_weight,
            splits,
            bwd_input: fold(bwd_input)?,
            bwd_input_fold,
            sgd_w: fold(elementwise(shape.weight_len())?)?,
            sgd_b: fold(elementwise(u64::from(shape.k))?)?,
        })
    }
}

/// The uniforms of the backward and update kernels.
pub(super) struct Uniforms {
    pub(super) bwd_weight: GpuBuffer,
    /// The dW and dX kernels' params, to specialise them for the shape.
    pub(super) bwd_weight_params: ConvParams,
    pub(super) bwd_input_params: ConvParams,
    pub(super) bwd_weight_reduce: GpuBuffer,
    pub(super) bwd_input: GpuBuffer,
    pub(super) bwd_input_fold: Option<GpuBuffer>,
    pub(super) loss: GpuBuffer,
    pub(super) loss_params: LossParams,
    pub(super) sgd_w: GpuBuffer,
    pub(super) sgd_b: GpuBuffer,
}

fn sgd_params(sgd: &Sgd, len: u64, grid: Grid) -> SgdParams {
    SgdParams {
        len: len as u32,
        nesterov: u32::from(sgd.nesterov),
        lr: sgd.lr,
        momentum: sgd.momentum,
        weight_decay: sgd.weight_decay,
        groups_x: grid.0,
        groups_y: grid.1,
        ..Default::default()
    }
}

impl Uniforms {
    pub(super) fn new(ctx: &GpuContext, shape: &ConvShape, g: &Grids, sgd: &Sgd) -> Self {
        let uniform =
            |label: &str, bytes: &[u8]| ctx.buffer_init(label, bytes, wgpu::BufferUsages::UNIFORM);
        let conv = |label: &str, params: ConvParams| uniform(label, bytemuck::bytes_of(&params));
        let m = shape.output_len();
        let loss_params = LossParams {
            m: m as u32,
            partials: g.loss_partials,
            groups_x: g.loss.0,
            groups_y: g.loss.1,
            scale: (2.0 / m as f64) as f32,
            relu_mask: 1,
            ..Default::default()
        };
        let splits = g.splits;
        let bwd_weight_params = ConvParams {
            splits,
            ..conv_params(shape, g.bwd_weight)
        };
        let bwd_input_params = bwd_input_params(shape, g.bwd_input);
        Uniforms {
            bwd_weight: conv("ConvParams bwd w", bwd_weight_params),
            bwd_weight_params,
            bwd_input_params,
            bwd_weight_reduce: conv(
                "ConvParams bwd w reduce",
                ConvParams {
                    splits,
                    ..conv_params(shape, g.bwd_weight_reduce)
                },
            ),
            bwd_input: conv("ConvParams bwd x", bwd_input_params),
            bwd_input_fold: g
                .bwd_input_fold
                .map(|grid| conv("ConvParams bwd x fold", conv_params(shape, grid))),
            loss: uniform("LossParams", bytemuck::bytes_of(&loss_params)),
            loss_params,
            sgd_w: uniform(
                "SgdParams w",
                bytemuck::bytes_of(&sgd_params(sgd, shape.weight_len(), g.sgd_w)),
            ),
            sgd_b: uniform(
                "SgdParams b",
                bytemuck::bytes_of(&sgd_params(sgd, u64::from(shape.k), g.sgd_b)),
            ),
        }
    }
}
