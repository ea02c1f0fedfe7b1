//! Losses as ops: each returns the loss (one number) and the gradient of its input, both on the
//! device. Mean squared error of any two tensors (`F.mse_loss`) and cross-entropy of class
//! logits against integer labels (`F.cross_entropy`).

use crate::error::{Error, Result};
use crate::gpu::grids::{groups, LOSS_WORKGROUP_SIZE};
use crate::gpu::launch::{count, elementwise_grid, ensure_bindable, scratch, Recording};
use crate::gpu::memory::{GpuBuffer, STORAGE};
use crate::gpu::params::{CrossEntropyParams, LossParams};
use crate::gpu::tensor::DeviceTensor;
use crate::gpu::GpuContext;
use crate::shape::ShapeError;

/// Class labels (u32) on the device, each checked below `classes` when uploaded.
#[derive(Debug)]
pub struct DeviceLabels {
    pub(crate) buffer: GpuBuffer,
    pub(crate) len: usize,
    pub(crate) classes: u32,
    pub(crate) ctx: GpuContext,
}

impl DeviceLabels {
    /// Uploads `labels`, refusing one that is not below `classes`.
    pub fn upload(ctx: &GpuContext, labels: &[u32], classes: u32) -> Result<Self> {
        if let Some(i) = labels.iter().position(|&l| l >= classes) {
            return Err(Error::Invalid(format!(
                "label {} (at {i}) is not below the {classes} classes",
                labels[i]
            )));
        }
        ensure_bindable(ctx, "the labels", labels.len() as u64)?;
        let buffer = ctx.scoped("uploading labels", || {
            ctx.buffer_init("labels", bytemuck::cast_slice(labels), STORAGE)
        })?;
        Ok(DeviceLabels {
            buffer,
            len: labels.len(),
            classes,
            ctx: ctx.clone(),
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of classes the labels were checked against.
    pub fn classes(&self) -> u32 {
        self.classes
    }
}

fn mismatch(what: &'static str, expected: String, got: String) -> Error {
    Error::Shape(ShapeError::Mismatch {
        what,
        expected,
        got,
    })
}

/// The mean of `partials` over `m` into a new one-element tensor (loss_mean.wgsl).
fn record_mean(
    ctx: &GpuContext,
    rec: &mut Recording<'_>,
    partials: (&wgpu::Buffer, u32),
    m: u32,
) -> Result<DeviceTensor> {
    let loss = DeviceTensor::zeros(ctx, "loss", [1, 1, 1, 1])?;
    let params = LossParams {
        m,
        partials: partials.1,
        ..Default::default()
    };
    let named = [("partials", partials.0), ("loss", loss.buffer())];
    rec.dispatch(
        &ctx.kernels.loss_mean,
        bytemuck::bytes_of(&params),
        &named,
        (1, 1, 1),
    )?;
    Ok(loss)
}

/// `F.mse_loss(pred, target)`: L = Σ (pred − target)² / M and dL/dpred = 2(pred − target)/M,
/// both on the device (L as a (1, 1, 1, 1) tensor). The kernels are the trainer's loss pass
/// without its ReLU mask, and a fixed-order mean.
pub fn mse_loss(
    ctx: &GpuContext,
    pred: &DeviceTensor,
    target: &DeviceTensor,
) -> Result<(DeviceTensor, DeviceTensor)> {
    pred.ensure_on(ctx, "the prediction of mse_loss")?;
    target.ensure_on(ctx, "the target of mse_loss")?;
    if pred.dims() != target.dims() {
        let dims = |t: &DeviceTensor| format!("{:?}", t.dims());
        return Err(mismatch(
            "dims of mse_loss's target, the prediction's",
            dims(pred),
            dims(target),
        ));
    }
    let m = count("mse_loss elements", pred.len() as u64)?;
    ensure_bindable(ctx, "the prediction of mse_loss", u64::from(m))?;
    let partials = groups(u64::from(m), LOSS_WORKGROUP_SIZE)?;
    let grid =
        crate::gpu::grids::fold_grid(partials, ctx.limits.max_compute_workgroups_per_dimension)?;
    let grad = DeviceTensor::zeros(ctx, "dL/dpred", pred.dims())?;
    let loss = ctx.scoped("running mse_loss", || -> Result<DeviceTensor> {
        let sums = scratch(ctx, "loss partials", u64::from(partials));
        let params = LossParams {
            m,
            partials,
            groups_x: grid.0,
            groups_y: grid.1,
            scale: (2.0 / f64::from(m)) as f32,
            relu_mask: 0,
            ..Default::default()
        };
        let mut rec = Recording::new(ctx, "mse_loss");
        let named = [
            ("y", pred.buffer()),
            ("t", target.buffer()),
            ("dz", grad.buffer()),
            ("partials", &*sums),
        ];
        rec.dispatch(&ctx.kernels.loss, bytemuck::bytes_of(&params), &named, grid)?;
        let loss = record_mean(ctx, &mut rec, (&sums, partials), m)?;
        rec.submit();
        Ok(loss)
    })??;
    Ok((loss, grad))
}

/// `F.cross_entropy(logits, labels)` (mean over the batch): L = mean_n (log Σ_c exp z_nc −
/// z_n,label) and dL/dlogits = (softmax(z_n) − onehot(label))/N, both on the device (L as a
/// (1, 1, 1, 1) tensor). Logits are (N, classes, 1, 1), as [`crate::Linear`] makes them; the
/// max is subtracted first, so large logits do not overflow; NaN propagates.
pub fn cross_entropy(
    ctx: &GpuContext,
    logits: &DeviceTensor,
    labels: &DeviceLabels,
) -> Result<(DeviceTensor, DeviceTensor)> {
    logits.ensure_on(ctx, "the logits of cross_entropy")?;
    if !labels.ctx.same_as(ctx) {
        return Err(Error::WrongContext {
            what: "the labels of cross_entropy".into(),
        });
    }
    let [n, classes, h, w] = logits.dims();
    if h != 1 || w != 1 || n != labels.len || classes != labels.classes as usize || n == 0 {
        return Err(mismatch(
            "dims of cross_entropy's logits (N, classes, 1, 1) for the labels",
            format!("[{}, {}, 1, 1]", labels.len, labels.classes),
            format!("{:?}", logits.dims()),
        ));
    }
    ensure_bindable(ctx, "the logits of cross_entropy", logits.len() as u64)?;
    let rows = count("cross_entropy samples", n as u64)?;
    let grid = elementwise_grid(ctx, n as u64)?;
    let params = CrossEntropyParams {
        n: rows,
        classes: labels.classes,
        groups_x: grid.0,
        groups_y: grid.1,
        scale: (1.0 / n as f64) as f32,
        ..Default::default()
    };
    let grad = DeviceTensor::zeros(ctx, "dL/dlogits", logits.dims())?;
    let loss = ctx.scoped("running cross_entropy", || -> Result<DeviceTensor> {
        let row_loss = scratch(ctx, "per-sample losses", n as u64);
        let mut rec = Recording::new(ctx, "cross_entropy");
        let named = [
            ("logits", logits.buffer()),
            ("labels", &*labels.buffer),
            ("dlogits", grad.buffer()),
            ("row_loss", &*row_loss),
        ];
        let kernel = &ctx.kernels.cross_entropy;
        rec.dispatch(kernel, bytemuck::bytes_of(&params), &named, grid)?;
        let loss = record_mean(ctx, &mut rec, (&row_loss, rows), rows)?;
        rec.submit();
        Ok(loss)
    })??;
    Ok((loss, grad))
}
