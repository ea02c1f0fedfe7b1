//! The fused conv + bias + ReLU forward pass on the GPU (`shaders/conv2d_bias_relu_fwd.wgsl`).

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::gpu::kernel::KernelVersion;
use crate::gpu::params::ConvParams;
use crate::gpu::wgsl::{ELEMENTWISE_WORKGROUP_SIZE, TILE};
use crate::gpu::GpuContext;
use crate::shape::{ConvShape, ShapeError};
use crate::tensor::Tensor4;

/// Invocations per workgroup (WORKGROUP_SIZE in the shader).
pub const FORWARD_WORKGROUP_SIZE: u32 = ELEMENTWISE_WORKGROUP_SIZE;
/// Output rows (N·P·Q) and filters (K) per workgroup of the tiled kernel (TILE in
/// `conv2d_bias_relu_fwd_tiled.wgsl`).
pub const FORWARD_TILE: (u32, u32) = (TILE, TILE);

/// Whether a GEMM pass has enough work, and enough of its 64 tile columns used, for the tiled
/// version: at least 2¹⁶ multiply-adds and `columns` ≥ 16 (a quarter of a tile). Measured on
/// lavapipe (BENCHMARKS.md): tiled dX with C = 3 (stem) ran 5× slower than simple, with C = 64
/// (resnet56) 5.6× faster.
fn tiled_pays(shape: &ConvShape, columns: u64) -> bool {
    shape.output_len() * shape.reduction_len() >= 1 << 16 && columns >= 16
}

/// The forward version the crate picks for `shape`: tiled when it has the work and K ≥ 16
/// (the tile's columns are filters).
pub fn forward_version_for(shape: &ConvShape) -> KernelVersion {
    if tiled_pays(shape, u64::from(shape.k)) {
        KernelVersion::Tiled
    } else {
        KernelVersion::Simple
    }
}

/// The dW version for `shape`: tiled when K ≥ 16 and C·R·S ≥ 16 (its tile is K × C·R·S).
pub fn bwd_weight_version_for(shape: &ConvShape) -> KernelVersion {
    if tiled_pays(shape, u64::from(shape.k).min(shape.reduction_len())) {
        KernelVersion::Tiled
    } else {
        KernelVersion::Simple
    }
}

/// The dX version for `shape`: tiled when C ≥ 16 (the tile's columns are input channels).
pub fn bwd_input_version_for(shape: &ConvShape) -> KernelVersion {
    if tiled_pays(shape, u64::from(shape.c)) {
        KernelVersion::Tiled
    } else {
        KernelVersion::Simple
    }
}

/// Workgroups of forward `version` on `shape`, before folding.
pub(crate) fn forward_groups(shape: &ConvShape, version: KernelVersion) -> Result<u32> {
    let groups = match version {
        KernelVersion::Simple => shape
            .output_len()
            .div_ceil(u64::from(FORWARD_WORKGROUP_SIZE)),
        KernelVersion::Tiled => {
            let rows = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
            rows.div_ceil(u64::from(FORWARD_TILE.0))
                * u64::from(shape.k).div_ceil(u64::from(FORWARD_TILE.1))
        }
    };
    u32::try_from(groups)
        .map_err(|_| Error::Invalid(format!("{shape}: too many workgroups for one dispatch")))
}

/// What the forward pass returns.
#[derive(Debug, Clone)]
pub struct ForwardOutput {
    /// y = max(0, z), (N, K, P, Q).
    pub y: Tensor4,
    /// The pre-activation z, when it was asked for.
    pub z: Option<Tensor4>,
    /// How many batch chunks the work was split into (1 unless a tensor exceeded the binding
    /// limit).
    pub chunks: usize,
}

/// `data`'s bytes, zero-padded to a multiple of 16: the tiled forward kernel reads the weights
/// as vec4 (the padding is never used in a sum).
pub(crate) fn padded_to_16_bytes(data: &[f32]) -> Vec<u8> {
    let mut bytes = bytemuck::cast_slice::<f32, u8>(data).to_vec();
    bytes.resize(bytes.len().next_multiple_of(16), 0);
    bytes
}

/// A grid of `groups` workgroups folded into (x, y, z), each at most `max_dim`.
pub(crate) fn fold_grid(groups: u32, max_dim: u32) -> Result<(u32, u32, u32)> {
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

fn mismatch(
    what: &'static str,
    expected: impl std::fmt::Debug,
    got: impl std::fmt::Debug,
) -> Error {
    Error::Shape(ShapeError::Mismatch {
        what,
        expected: format!("{expected:?}"),
        got: format!("{got:?}"),
    })
}

/// Checks that x, w and b have the shape's dims and hold only finite numbers.
pub fn check_forward_inputs(shape: &ConvShape, x: &Tensor4, w: &Tensor4, b: &[f32]) -> Result<()> {
    let d = |v: u32| v as usize;
    let x_dims = [d(shape.n), d(shape.c), d(shape.h), d(shape.w)];
    if x.dims != x_dims {
        return Err(mismatch("input x dims (N, C, H, W)", x_dims, x.dims));
    }
    let w_dims = [d(shape.k), d(shape.c), d(shape.r), d(shape.s)];
    if w.dims != w_dims {
        return Err(mismatch("weight w dims (K, C, R, S)", w_dims, w.dims));
    }
    if b.len() != d(shape.k) {
        return Err(mismatch("bias length (K)", shape.k, b.len()));
    }
    x.ensure_finite("input x")?;
    w.ensure_finite("weight w")?;
    crate::tensor::ensure_finite_slice("bias b", b)?;
    Ok(())
}

impl GpuContext {
    /// y = max(0, conv(x, w) + b) on the GPU (and z = conv(x, w) + b when `want_z`).
    ///
    /// x is (N, C, H, W), w is (K, C, R, S), b is (K); y is (N, K, P, Q). A batch whose
    /// tensors exceed the device's binding limit is split into chunks of whole images.
    ///
    /// ```no_run
    /// use wgconv::{AdapterRequest, ConvShape, GpuContext, Tensor4};
    /// # fn main() -> Result<(), wgconv::Error> {
    /// let ctx = GpuContext::new(&AdapterRequest::from_env())?;
    /// let shape = ConvShape::SEED; // 24×24 image, two 5×5 filters
    /// let x = Tensor4::new("x", [1, 1, 24, 24], vec![0.5; 576])?;
    /// let w = Tensor4::new("w", [2, 1, 5, 5], vec![0.04; 50])?;
    /// let out = ctx.conv2d_bias_relu_fwd(&shape, &x, &w, &[0.0, -1.0], false)?;
    /// assert_eq!(out.y.dims, [1, 2, 20, 20]);
    /// # Ok(()) }
    /// ```
    pub fn conv2d_bias_relu_fwd(
        &self,
        shape: &ConvShape,
        x: &Tensor4,
        w: &Tensor4,
        b: &[f32],
        want_z: bool,
    ) -> Result<ForwardOutput> {
        self.conv2d_bias_relu_fwd_with(forward_version_for(shape), shape, x, w, b, want_z)
    }

    /// [`GpuContext::conv2d_bias_relu_fwd`] with a chosen kernel version.
    pub fn conv2d_bias_relu_fwd_with(
        &self,
        version: KernelVersion,
        shape: &ConvShape,
        x: &Tensor4,
        w: &Tensor4,
        b: &[f32],
        want_z: bool,
    ) -> Result<ForwardOutput> {
        check_forward_inputs(shape, x, w, b)?;
        let chunk = self.forward_chunk(shape)?;
        let image_len = (shape.c * shape.h * shape.w) as usize;
        let w_buf = self.scoped("uploading weights", || {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("w"),
                    contents: &padded_to_16_bytes(&w.data),
                    usage: wgpu::BufferUsages::STORAGE,
                })
        })?;
        let b_buf = self.scoped("uploading bias", || {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("b"),
                    contents: bytemuck::cast_slice(b),
                    usage: wgpu::BufferUsages::STORAGE,
                })
        })?;
        let out_dims = [
            shape.n as usize,
            shape.k as usize,
            shape.p() as usize,
            shape.q() as usize,
        ];
        let mut y = Vec::with_capacity(shape.output_len() as usize);
        let mut z = want_z.then(|| Vec::with_capacity(shape.output_len() as usize));
        let mut chunks = 0;
        let mut start = 0u32;
        while start < shape.n {
            let n = chunk.min(shape.n - start);
            let part = shape.with_batch(n)?;
            let xs = &x.data[start as usize * image_len..(start + n) as usize * image_len];
            let (yc, zc) = self.forward_chunk_run(version, &part, xs, &w_buf, &b_buf, want_z)?;
            y.extend_from_slice(&yc);
            if let (Some(z), Some(zc)) = (z.as_mut(), zc) {
                z.extend_from_slice(&zc);
            }
            chunks += 1;
            start += n;
        }
        Ok(ForwardOutput {
            y: Tensor4::new("y", out_dims, y)?,
            z: z.map(|z| Tensor4::new("z", out_dims, z)).transpose()?,
            chunks,
        })
    }

    /// How many images one dispatch may take without a tensor exceeding the binding limit.
    fn forward_chunk(&self, shape: &ConvShape) -> Result<u32> {
        let (cap, limit) = self.binding_limit();
        let too_big = |what: String, needed: u64| Error::LimitExceeded {
            what,
            limit,
            needed,
            max: cap,
        };
        let weight_bytes = shape.weight_len() * 4;
        if weight_bytes > cap {
            return Err(too_big(format!("the weights {shape}"), weight_bytes));
        }
        let image_in = u64::from(shape.c) * u64::from(shape.h) * u64::from(shape.w) * 4;
        let image_out = u64::from(shape.k) * u64::from(shape.p()) * u64::from(shape.q()) * 4;
        if image_in > cap {
            return Err(too_big(
                format!("one input image (C·H·W f32) of {shape}"),
                image_in,
            ));
        }
        if image_out > cap {
            return Err(too_big(
                format!("one output image (K·P·Q f32) of {shape}"),
                image_out,
            ));
        }
        // The kernel computes window corners in i32.
        let padded_h = u64::from(shape.h) + 2 * u64::from(shape.padding.0);
        let padded_w = u64::from(shape.w) + 2 * u64::from(shape.padding.1);
        if padded_h.max(padded_w) >= 1 << 31 {
            return Err(Error::Invalid(format!(
                "padded input {padded_h}×{padded_w} is too large for the kernel's i32 indices"
            )));
        }
        let per_chunk = (cap / image_in)
            .min(cap / image_out)
            .min(u64::from(shape.n));
        Ok(per_chunk as u32)
    }

    fn forward_chunk_run(
        &self,
        version: KernelVersion,
        shape: &ConvShape,
        x: &[f32],
        w_buf: &wgpu::Buffer,
        b_buf: &wgpu::Buffer,
        want_z: bool,
    ) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
        let out_len = shape.output_len();
        let out_bytes = out_len * 4;
        let groups = forward_groups(shape, version)?;
        let (gx, gy, gz) = fold_grid(groups, self.limits.max_compute_workgroups_per_dimension)?;
        let params = ConvParams {
            n: shape.n,
            c: shape.c,
            h: shape.h,
            w: shape.w,
            k: shape.k,
            r: shape.r,
            s: shape.s,
            p: shape.p(),
            q: shape.q(),
            stride_h: shape.stride.0,
            stride_w: shape.stride.1,
            pad_h: shape.padding.0,
            pad_w: shape.padding.1,
            write_z: u32::from(want_z),
            groups_x: gx,
            groups_y: gy,
            ..Default::default()
        };
        let device = &self.device;
        let run = self.scoped("running conv2d_bias_relu_fwd", || {
            let params_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("ConvParams"),
                contents: bytemuck::bytes_of(&params),
                usage: wgpu::BufferUsages::UNIFORM,
            });
            let x_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("x"),
                contents: bytemuck::cast_slice(x),
                usage: wgpu::BufferUsages::STORAGE,
            });
            let out_buffer = |label, size| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                })
            };
            let read_buffer = |label, size| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            };
            let y_buf = out_buffer("y", out_bytes);
            // Without z the binding still needs a buffer; the kernel never writes it.
            let z_buf = out_buffer("z", if want_z { out_bytes } else { 4 });
            let kernel = match version {
                KernelVersion::Simple => &self.kernels.forward,
                KernelVersion::Tiled => &self.kernels.forward_tiled,
            };
            let bind = kernel.bind(
                device,
                &[
                    ("params", &params_buf),
                    ("x", &x_buf),
                    ("w", w_buf),
                    ("b", b_buf),
                    ("y", &y_buf),
                    ("z", &z_buf),
                ],
            )?;
            let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("conv2d_bias_relu_fwd"),
            });
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("conv2d_bias_relu_fwd"),
                    timestamp_writes: None,
                });
                kernel.dispatch(&mut pass, &bind, (gx, gy, gz));
            }
            let y_read = read_buffer("y readback", out_bytes);
            encoder.copy_buffer_to_buffer(&y_buf, 0, &y_read, 0, out_bytes);
            let z_read = want_z.then(|| {
                let z_read = read_buffer("z readback", out_bytes);
                encoder.copy_buffer_to_buffer(&z_buf, 0, &z_read, 0, out_bytes);
                z_read
            });
            let submission = self.queue.submit([encoder.finish()]);
            Ok::<_, Error>((y_read, z_read, submission))
        })?;
        let (y_read, z_read, submission) = run?;
        self.wait(submission, "running conv2d_bias_relu_fwd")?;
        let y = self.read_f32(&y_read, "reading y back")?;
        let z = z_read
            .map(|buf| self.read_f32(&buf, "reading z back"))
            .transpose()?;
        Ok((y, z))
    }
}
