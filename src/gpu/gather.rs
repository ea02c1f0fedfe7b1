//! Batches cut on the device: [`DeviceIndices`] (an epoch's shuffled order, uploaded once) and
//! the row gathers of a data set kept there ([`DeviceTensor::gather`],
//! [`DeviceLabels::gather`]), through `gather_rows.wgsl`.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::gpu::launch::{count, elementwise_grid, ensure_bindable, Recording};
use crate::gpu::loss::DeviceLabels;
use crate::gpu::memory::{GpuBuffer, STORAGE};
use crate::gpu::params::GatherParams;
use crate::gpu::tensor::DeviceTensor;
use crate::gpu::GpuContext;

/// Row indices (u32) on the device, each checked below `rows`, the rows of the data they pick
/// from.
///
/// ```
/// use wgconv::{AdapterRequest, DeviceIndices, DeviceTensor, GpuContext, Tensor4};
/// # fn main() -> Result<(), wgconv::Error> {
/// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
/// let data = Tensor4::new("data", [3, 1, 1, 2], vec![0., 1., 10., 11., 20., 21.])?;
/// let data = DeviceTensor::upload(&ctx, "data", &data)?;
/// let order = DeviceIndices::upload(&ctx, &[2, 0, 1], 3)?;
/// let batch = data.gather(&order, 0..2)?; // rows 2 and 0
/// assert_eq!(batch.download(&ctx)?.data, [20., 21., 0., 1.]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DeviceIndices {
    buffer: GpuBuffer,
    len: usize,
    rows: usize,
    ctx: GpuContext,
}

impl DeviceIndices {
    /// Uploads `indices`, refusing one that is not below `rows`.
    pub fn upload(ctx: &GpuContext, indices: &[u32], rows: usize) -> Result<Self> {
        if let Some(i) = indices.iter().position(|&j| j as usize >= rows) {
            return Err(Error::Invalid(format!(
                "index {} (at {i}) is not below the {rows} rows",
                indices[i]
            )));
        }
        ensure_bindable(ctx, "the indices", indices.len() as u64)?;
        let buffer = ctx.scoped("uploading indices", || {
            ctx.buffer_init("indices", bytemuck::cast_slice(indices), STORAGE)
        })?;
        Ok(DeviceIndices {
            buffer,
            len: indices.len(),
            rows,
            ctx: ctx.clone(),
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rows of the data the indices pick from.
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn ensure_on(&self, ctx: &GpuContext) -> Result<()> {
        if self.ctx.same_as(ctx) {
            return Ok(());
        }
        Err(Error::WrongContext {
            what: "the indices of a gather".into(),
        })
    }

    /// Refuses `range` beyond the indices, empty, or data of `rows` rows other than theirs.
    fn ensure_fits(&self, range: &Range<usize>, rows: usize, what: &str) -> Result<()> {
        if range.start >= range.end || range.end > self.len {
            return Err(Error::Invalid(format!(
                "gather of {what}: the range {range:?} is not a non-empty part of the {} indices",
                self.len
            )));
        }
        if rows != self.rows {
            return Err(Error::Invalid(format!(
                "gather of {what}: the indices pick from {} rows, the data has {rows}",
                self.rows
            )));
        }
        Ok(())
    }
}

impl DeviceTensor {
    /// The rows (first-dim slices) `indices[range]` of this tensor, in that order, as a new
    /// tensor of dims (range.len(), d₁, d₂, d₃): a batch cut on the device.
    pub fn gather(&self, indices: &DeviceIndices, range: Range<usize>) -> Result<DeviceTensor> {
        let ctx = self.context();
        indices.ensure_on(ctx)?;
        let [rows, d1, d2, d3] = self.dims();
        indices.ensure_fits(&range, rows, "a tensor")?;
        let dims = [range.len(), d1, d2, d3];
        let out = DeviceTensor::zeros(ctx, "gathered rows", dims)?;
        let row_len = (d1 * d2 * d3) as u64;
        gather_rows(
            ctx,
            (self.buffer(), &indices.buffer),
            out.buffer(),
            &range,
            row_len,
        )?;
        Ok(out)
    }
}

impl DeviceLabels {
    /// The labels `indices[range]` of these, in that order: a batch's labels cut on the device.
    pub fn gather(&self, indices: &DeviceIndices, range: Range<usize>) -> Result<DeviceLabels> {
        let ctx = &self.ctx;
        indices.ensure_on(ctx)?;
        indices.ensure_fits(&range, self.len, "labels")?;
        let buffer = ctx.scoped("allocating labels", || {
            ctx.buffer("gathered labels", range.len() as u64 * 4, STORAGE)
        })?;
        gather_rows(ctx, (&self.buffer, &indices.buffer), &buffer, &range, 1)?;
        Ok(DeviceLabels {
            buffer,
            len: range.len(),
            classes: self.classes,
            ctx: ctx.clone(),
        })
    }
}

/// One dispatch of `gather_rows.wgsl`: `out` ← the `row_len`-word rows of `src` that
/// `indices[range]` name.
fn gather_rows(
    ctx: &GpuContext,
    (src, indices): (&wgpu::Buffer, &wgpu::Buffer),
    out: &wgpu::Buffer,
    range: &Range<usize>,
    row_len: u64,
) -> Result<()> {
    let words = range.len() as u64 * row_len;
    ensure_bindable(ctx, "the gathered rows", words)?;
    let grid = elementwise_grid(ctx, words)?;
    let params = GatherParams {
        rows: count("gathered rows", range.len() as u64)?,
        row_len: count("words per row", row_len)?,
        start: count("the first index", range.start as u64)?,
        groups_x: grid.0,
        groups_y: grid.1,
        ..Default::default()
    };
    ctx.scoped("running gather_rows", || -> Result<()> {
        let mut rec = Recording::new(ctx, "gather_rows");
        let named = [("src", src), ("indices", indices), ("out", out)];
        let kernel = &ctx.kernels.gather_rows;
        rec.dispatch(kernel, bytemuck::bytes_of(&params), &named, grid)?;
        rec.submit();
        Ok(())
    })?
}
