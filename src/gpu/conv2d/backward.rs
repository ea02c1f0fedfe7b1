//! The layer as an op of a network: a training forward that keeps what the backward needs, and
//! a backward for any upstream gradient dy, through the ReLU, into dW, db and (when asked) dX.
//! The kernels are the trainer's own (simple and tiled dW with its split reduction, simple and
//! tiled dX with the fold for copying padding modes).

use crate::error::{Error, Result};
use crate::gpu::conv2d::input_grad::input_grad;
use crate::gpu::conv2d::Conv2d;
use crate::gpu::forward::{check_i32_indices, conv_params};
use crate::gpu::grids::weight_grad_slides;
use crate::gpu::grids::{
    bwd_input_len, bwd_weight_groups, fold_grid, groups, weight_grad_cols, weight_splits,
    weight_tiles, window_groups, window_splits, ELEMENTWISE_WORKGROUP_SIZE,
};
use crate::gpu::kernel::KernelVersion;
use crate::gpu::launch::{elementwise_grid, ensure_bindable, scratch, Recording};
use crate::gpu::pack::{Pack, PackFor, Rows};
use crate::gpu::params::{ConvParams, ElementwiseParams};
use crate::gpu::tensor::DeviceTensor;
use crate::gpu::tune::TunedPass;
use crate::gpu::GpuContext;
use crate::shape::{ConvShape, ShapeError};

/// What [`Conv2d::forward_train`] keeps for [`Conv2d::backward`]: the input x and the output y
/// (whose sign is the ReLU's mask). Both share the device data of the tensors they came from:
/// overwrite x before the backward and the gradient is of the new x.
#[derive(Debug)]
pub struct Conv2dSaved {
    shape: ConvShape,
    x: DeviceTensor,
    y: DeviceTensor,
}

impl Conv2dSaved {
    /// The problem's shape (its batch is x's).
    pub fn shape(&self) -> &ConvShape {
        &self.shape
    }

    /// The same forward seen as a 1×1 convolution of the flattened input (N, features, 1, 1),
    /// for a layer whose kernel covered the whole map (P = Q = 1): the same x and y.
    pub(crate) fn flattened(&self, n: usize, features: usize) -> Result<Conv2dSaved> {
        let k = self.shape.k;
        let config =
            crate::gpu::Conv2dConfig::new(features as u32, k, (1, 1)).with_bias(self.shape.bias);
        Ok(Conv2dSaved {
            shape: config.shape_for([n, features, 1, 1])?,
            x: self.x.reshape([n, features, 1, 1])?,
            y: self.y.share_as(self.y.dims()),
        })
    }
}

/// Gradients of one backward, on the device. Each call allocates them anew: they are
/// **overwritten**, never accumulated (llm.c's `+=` needs a `zero_grad`; this needs none).
#[derive(Debug)]
pub struct Conv2dGrads {
    /// dL/dW (K, C/G, R, S).
    pub weight: DeviceTensor,
    /// dL/db (K, 1, 1, 1); None for a layer without bias.
    pub bias: Option<DeviceTensor>,
    /// dL/dx (N, C, H, W), when asked for.
    pub input: Option<DeviceTensor>,
}

/// What [`Conv2d::backward_with`] computes and with which kernel versions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackwardOptions {
    /// Also compute dL/dx (a layer after another needs it; the first layer does not).
    pub input_grad: bool,
    /// The dW version; None lets the crate pick (`GpuContext::bwd_weight_rule`).
    pub weight_kernel: Option<KernelVersion>,
    /// The dX version; None lets the crate pick (`versions::bwd_input_version_for`, the window
    /// version for it on CPU cores).
    pub input_kernel: Option<KernelVersion>,
}

/// Refuses what a training step cannot bind: it does not split batches (the forward does).
pub(crate) fn check_training_bindings(ctx: &GpuContext, shape: &ConvShape) -> Result<()> {
    check_i32_indices(shape)?;
    for (what, elements) in [
        ("the input x", shape.input_len()),
        ("the output y", shape.output_len()),
        ("the weights w", shape.weight_len()),
        ("the padded input's gradient", bwd_input_len(shape)),
    ] {
        ensure_bindable(ctx, &format!("{what} of {shape}"), elements)?;
    }
    Ok(())
}

impl Conv2d {
    /// The forward of a training step: y as [`Conv2d::forward`] gives it, and what the
    /// backward needs. Refuses a batch over the binding limit (training does not split it).
    pub fn forward_train(&self, x: &DeviceTensor) -> Result<(DeviceTensor, Conv2dSaved)> {
        let shape = self.config().shape_for(x.dims())?;
        check_training_bindings(self.context(), &shape)?;
        let y = self.forward(x)?;
        let saved = Conv2dSaved {
            shape,
            x: x.share_as(x.dims()),
            y: y.share_as(y.dims()),
        };
        Ok((y, saved))
    }

    /// dL/dW, dL/db and, with `input_grad`, dL/dx from dy = dL/dy (N, K, P, Q) of the forward
    /// that made `saved`, all on the device; nothing is read back. Through the ReLU when the
    /// layer has one (dz = dy where y > 0). The gradients are new tensors (overwritten, not
    /// accumulated).
    pub fn backward(
        &self,
        saved: &Conv2dSaved,
        dy: &DeviceTensor,
        input_grad: bool,
    ) -> Result<Conv2dGrads> {
        let options = BackwardOptions {
            input_grad,
            ..Default::default()
        };
        self.backward_with(saved, dy, options)
    }

    /// [`Conv2d::backward`] with chosen kernel versions.
    pub fn backward_with(
        &self,
        saved: &Conv2dSaved,
        dy: &DeviceTensor,
        options: BackwardOptions,
    ) -> Result<Conv2dGrads> {
        let ctx = self.context();
        let shape = &saved.shape;
        if Conv2d::of_config_shape(self, shape)? != *shape {
            return Err(Error::Invalid(
                "Conv2d::backward: the saved forward is of another layer".into(),
            ));
        }
        dy.ensure_on(ctx, "the gradient dy of Conv2d::backward")?;
        saved
            .x
            .ensure_on(ctx, "the saved input of Conv2d::backward")?;
        if dy.dims() != saved.y.dims() {
            return Err(Error::Shape(ShapeError::Mismatch {
                what: "dims of dy (N, K, P, Q), the output's",
                expected: format!("{:?}", saved.y.dims()),
                got: format!("{:?}", dy.dims()),
            }));
        }
        let options = self.tuned_backward(saved, dy, options)?;
        let out = self.alloc_grads(shape, options.input_grad)?;
        ctx.scoped("running the conv2d backward", || -> Result<()> {
            let mut rec = Recording::new(ctx, "conv2d backward");
            let dz_own;
            let dz: &wgpu::Buffer = match self.config().has_relu() {
                true => {
                    dz_own = scratch(ctx, "dz", shape.output_len());
                    relu_bwd(ctx, &mut rec, (saved.y.buffer(), dy.buffer()), &dz_own)?;
                    &dz_own
                }
                false => dy.buffer(),
            };
            let version = options
                .weight_kernel
                .unwrap_or_else(|| ctx.bwd_weight_rule(shape));
            let bias = out.bias.as_ref().map(DeviceTensor::buffer);
            weight_grads(
                ctx,
                &mut rec,
                shape,
                version,
                (saved.x.buffer(), dz),
                (out.weight.buffer(), bias),
            )?;
            if let Some(dx) = &out.input {
                let version = options
                    .input_kernel
                    .unwrap_or_else(|| ctx.bwd_input_rule(shape));
                input_grad(
                    ctx,
                    &mut rec,
                    shape,
                    version,
                    (self.weight().buffer(), dz),
                    dx.buffer(),
                )?;
            }
            rec.submit();
            Ok(())
        })??;
        Ok(out)
    }

    /// `options` with every version left to the crate chosen: by the rules, or by measuring
    /// (`gpu::tune`) where the context tunes — dW alone first, then dX beside the chosen dW.
    fn tuned_backward(
        &self,
        saved: &Conv2dSaved,
        dy: &DeviceTensor,
        options: BackwardOptions,
    ) -> Result<BackwardOptions> {
        let (ctx, shape) = (self.context(), &saved.shape);
        let relu = if self.config().has_relu() { "relu" } else { "" };
        let weight = match options.weight_kernel {
            Some(v) => v,
            None => ctx.tuned(
                (TunedPass::WeightGrad, shape, relu),
                ctx.bwd_weight_rule(shape),
                |v| {
                    let only_dw = BackwardOptions {
                        input_grad: false,
                        weight_kernel: Some(v),
                        input_kernel: None,
                    };
                    self.backward_with(saved, dy, only_dw).map(|_| ())
                },
            )?,
        };
        let input = match (options.input_grad, options.input_kernel) {
            (_, Some(v)) => Some(v),
            (false, None) => None,
            (true, None) => Some(ctx.tuned(
                (TunedPass::InputGrad, shape, relu),
                ctx.bwd_input_rule(shape),
                |v| {
                    let both = BackwardOptions {
                        input_grad: true,
                        weight_kernel: Some(weight),
                        input_kernel: Some(v),
                    };
                    self.backward_with(saved, dy, both).map(|_| ())
                },
            )?),
        };
        Ok(BackwardOptions {
            weight_kernel: Some(weight),
            input_kernel: input,
            ..options
        })
    }

    fn of_config_shape(&self, shape: &ConvShape) -> Result<ConvShape> {
        let dims = [shape.n, shape.c, shape.h, shape.w].map(|d| d as usize);
        self.config().shape_for(dims)
    }

    fn alloc_grads(&self, shape: &ConvShape, input_grad: bool) -> Result<Conv2dGrads> {
        let ctx = self.context();
        let weight = DeviceTensor::zeros(ctx, "dw", self.weight().dims())?;
        let bias = match self.bias() {
            Some(b) => Some(DeviceTensor::zeros(ctx, "db", b.dims())?),
            None => None,
        };
        let x_dims = [shape.n, shape.c, shape.h, shape.w].map(|d| d as usize);
        let input = match input_grad {
            true => Some(DeviceTensor::zeros(ctx, "dx", x_dims)?),
            false => None,
        };
        Ok(Conv2dGrads {
            weight,
            bias,
            input,
        })
    }
}

/// dz = dy where y > 0 (relu_bwd.wgsl).
pub(crate) fn relu_bwd(
    ctx: &GpuContext,
    rec: &mut Recording<'_>,
    (y, dy): (&wgpu::Buffer, &wgpu::Buffer),
    dz: &wgpu::Buffer,
) -> Result<()> {
    let len = dz.size() / 4;
    let grid = elementwise_grid(ctx, len)?;
    let params = ElementwiseParams {
        len: crate::gpu::launch::count("relu_bwd elements", len)?,
        groups_x: grid.0,
        groups_y: grid.1,
        ..Default::default()
    };
    let buffers = [("y", y), ("dy", dy), ("dz", dz)];
    rec.dispatch(
        &ctx.kernels.relu_bwd,
        bytemuck::bytes_of(&params),
        &buffers,
        grid,
    )
}

/// dW and db from x and dz: the simple kernel, or the tiled or window one's split partial sums
/// and their reduction.
fn weight_grads(
    ctx: &GpuContext,
    rec: &mut Recording<'_>,
    shape: &ConvShape,
    version: KernelVersion,
    (x, dz): (&wgpu::Buffer, &wgpu::Buffer),
    (dw, db): (&wgpu::Buffer, Option<&wgpu::Buffer>),
) -> Result<()> {
    let k = &ctx.kernels;
    let max_dim = ctx.limits.max_compute_workgroups_per_dimension;
    let db = db.map(|db| ("db", db));
    if version == KernelVersion::Simple {
        let grid = fold_grid(bwd_weight_groups(shape)?, max_dim)?;
        let params = ConvParams {
            splits: 1,
            ..conv_params(shape, grid)
        };
        let mut named = vec![("x", x), ("dz", dz), ("dw", dw)];
        named.extend(db);
        let kernel = k.bwd_weight.get(shape.bias);
        return rec.dispatch(kernel, bytemuck::bytes_of(&params), &named, grid);
    }
    let (pack, rows);
    let mut named = vec![("x", x)];
    let (kernel, splits, workgroups) = match version {
        KernelVersion::Window => {
            let splits = window_splits(shape, ctx.binding_limit().0)?;
            let workgroups = window_groups(shape, splits)?;
            // The window dW reads dz in blocks of filters and x in rows, packed first.
            pack = Pack::new(ctx, shape, PackFor::WeightGrad)?;
            pack.dispatch(ctx, rec, dz)?;
            rows = Rows::new(ctx, shape, PackFor::InputRows, weight_grad_slides(shape))?;
            if let Rows::Packed(rows) = &rows {
                rows.dispatch(ctx, rec, x)?;
            }
            named.extend([pack.packed(), rows.binding()]);
            (k.bwd_weight_window.get(shape.bias), splits, workgroups)
        }
        _ => {
            let splits = weight_splits(shape, ctx.binding_limit().0)?;
            let tiles = weight_tiles(shape)?
                .checked_mul(splits)
                .ok_or_else(|| Error::Invalid(format!("{shape}: too many workgroups for dW")))?;
            named.push(("dz", dz));
            (k.bwd_weight_tiled.get(shape.bias), splits, tiles)
        }
    };
    let grid = fold_grid(workgroups, max_dim)?;
    let cols = u64::from(shape.k) * weight_grad_cols(shape);
    let partial = scratch(ctx, "dw partial sums", u64::from(splits) * cols);
    let params = ConvParams {
        splits,
        ..conv_params(shape, grid)
    };
    named.push(("partial", &*partial));
    rec.dispatch(kernel, bytemuck::bytes_of(&params), &named, grid)?;
    let grid = fold_grid(groups(cols, ELEMENTWISE_WORKGROUP_SIZE)?, max_dim)?;
    let params = ConvParams {
        splits,
        ..conv_params(shape, grid)
    };
    let mut named = vec![("partial", &*partial), ("dw", dw)];
    named.extend(db);
    let kernel = k.bwd_weight_reduce.get(shape.bias);
    rec.dispatch(kernel, bytemuck::bytes_of(&params), &named, grid)
}
