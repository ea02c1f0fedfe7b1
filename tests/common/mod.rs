//! Shared by the integration tests: one GPU context per test binary.
#![allow(dead_code)]

#[cfg(unix)]
pub mod tree;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use wgconv::{AdapterRequest, GpuContext};

/// The context every GPU test uses: the adapter `WGPU_BACKEND` / `WGPU_ADAPTER_NAME` select.
/// There is no skipping: with no adapter the test fails and says how to get one.
pub fn gpu() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| match GpuContext::new(&AdapterRequest::from_env()) {
        Ok(ctx) => {
            eprintln!("GPU tests run on: {}", ctx.adapter());
            ctx
        }
        Err(e) => panic!("these tests need a GPU adapter and none could be opened: {e}"),
    })
}

/// What one run of the `wgconv` binary printed, and its exit code.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `wgconv` binary in `dir`.
pub fn wgconv(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_wgconv"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run wgconv");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes an f32 `.npy` file.
pub fn write_npy(path: &Path, dims: &[usize], data: &[f32]) {
    std::fs::write(path, wgconv::npy::encode_f32(dims, data)).expect("write npy");
}

/// A trainer of a layer holding `w` and `b` (with bias) on x toward t: the tests' shorthand
/// for `Conv2d::from_weights` then `Trainer::new`.
#[allow(clippy::too_many_arguments)]
pub fn trainer(
    ctx: &GpuContext,
    shape: &wgconv::ConvShape,
    x: &wgconv::Tensor4,
    t: &wgconv::Tensor4,
    w: &wgconv::Tensor4,
    b: &[f32],
    sgd: wgconv::sgd::Sgd,
    log_capacity: u32,
    versions: Option<wgconv::gpu::TrainVersions>,
) -> wgconv::Result<wgconv::gpu::Trainer> {
    use wgconv::gpu::{Conv2d, Conv2dConfig, Trainer, TrainerOptions};
    let layer = Conv2d::from_weights(
        ctx,
        Conv2dConfig::of_shape(shape),
        w,
        shape.bias.then_some(b),
    )?;
    let mut options = TrainerOptions::new(sgd).with_log_capacity(log_capacity);
    options.versions = versions;
    Trainer::new(layer, x, t, options)
}

/// The bits of a tensor downloaded from `ctx` (for bit-for-bit comparisons).
pub fn device_bits(ctx: &GpuContext, t: &wgconv::DeviceTensor) -> Vec<u32> {
    t.download(ctx)
        .unwrap()
        .data
        .iter()
        .map(|v| v.to_bits())
        .collect()
}
