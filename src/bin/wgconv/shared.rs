//! What several subcommands share: the device options, argument parsers, check reports and
//! the commit of staged outputs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;

use wgconv::compare::Comparison;
use wgconv::gpu::{KernelChoice, KernelVersion, TrainVersions, WarmUp};
use wgconv::outputs::Outputs;
use wgconv::{AdapterRequest, GpuContext};

/// The adapter options, global to every subcommand.
#[derive(Args)]
pub struct DeviceArgs {
    /// Backends to use: vulkan, metal, dx12, gl (comma-separated). Overrides WGPU_BACKEND.
    #[arg(long, global = true, value_name = "LIST")]
    backend: Option<String>,
    /// Use the adapter whose name contains this (case-insensitive). Overrides WGPU_ADAPTER_NAME.
    #[arg(long, global = true, value_name = "NAME")]
    adapter: Option<String>,
    /// Refuse CPU/software adapters (lavapipe, llvmpipe, WARP, SwiftShader).
    #[arg(long, global = true)]
    require_gpu: bool,
    /// Give up on a GPU submission not finished after this many seconds (> 0, at most 86400;
    /// default 120), and on opening the device — compiling every kernel and running each once,
    /// minutes on a driver's first run — after as many (default 900).
    #[arg(long, allow_hyphen_values = true, global = true, value_name = "SECS", value_parser = parse_timeout)]
    timeout: Option<Duration>,
}

/// The longest `--timeout`: a day.
pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// `--timeout`: a finite number of seconds, > 0 and at most [`MAX_TIMEOUT_SECS`].
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
        return Err(format!(
            "{s:?}: use a number of seconds > 0 and at most {MAX_TIMEOUT_SECS} (a day)"
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

impl DeviceArgs {
    /// The adapter request: the environment's (WGPU_BACKEND, ...) overridden by the options.
    pub fn request(&self) -> anyhow::Result<AdapterRequest> {
        let mut r = AdapterRequest::from_env();
        if self.backend.is_some() {
            r.backends = self.backend.clone();
        }
        if self.adapter.is_some() {
            r.adapter_name = self.adapter.clone();
        }
        r.require_gpu = self.require_gpu;
        if let Some(t) = self.timeout {
            (r.timeout, r.compile_timeout) = (t, t);
        }
        Ok(r)
    }
}

/// Opens the device, runs the kernels `warm` names once, and says which adapter it is on: see
/// [`crate::opening`].
pub fn open(request: &AdapterRequest, warm: &[WarmUp]) -> anyhow::Result<GpuContext> {
    let tune = tuning_from_env()?;
    let ctx = crate::opening::open_within_timeout(request, warm)?;
    println!("adapter: {}", ctx.adapter());
    if tune != Tune::Off {
        ctx.set_tuning(true);
    }
    if tune == Tune::Cache {
        let path = wgconv::gpu::tune::default_tuning_file(&ctx)
            .context("WGCONV_TUNE=cache: neither XDG_CACHE_HOME nor HOME is set")?;
        ctx.set_tuning_file(&path)?;
        println!("kernel versions measured and kept in {}", path.display());
    }
    Ok(ctx)
}

/// `WGCONV_TUNE`: off (unset, the default), on (measure each layer pass's versions once per
/// shape), or cache (measure, and keep the choices on disk for later runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tune {
    Off,
    On,
    Cache,
}

fn tuning_from_env() -> anyhow::Result<Tune> {
    let Some(value) = std::env::var_os("WGCONV_TUNE") else {
        return Ok(Tune::Off);
    };
    match value.to_str() {
        Some("" | "0" | "off") => Ok(Tune::Off),
        Some("1" | "on") => Ok(Tune::On),
        Some("cache") => Ok(Tune::Cache),
        _ => anyhow::bail!("WGCONV_TUNE={value:?}: expected off, on or cache"),
    }
}

/// The optimiser settings, validated; an error names the flags.
pub fn checked_sgd(sgd: wgconv::sgd::Sgd) -> anyhow::Result<wgconv::sgd::Sgd> {
    sgd.validate().with_context(|| {
        format!(
            "--lr {} --momentum {} --weight-decay {}",
            sgd.lr, sgd.momentum, sgd.weight_decay
        )
    })?;
    Ok(sgd)
}

/// Refuses `flag` when what it implies (`what`, `bytes`; None past 64 bits) would not fit in
/// host memory.
pub fn ensure_host(flag: &str, what: &str, bytes: Option<u64>) -> anyhow::Result<()> {
    Ok(wgconv::limits::ensure_host_fits(
        || format!("{flag}: {what}"),
        bytes,
    )?)
}

/// Refuses `flag` when one tensor it implies would exceed what one binding may hold on any
/// device (checked before opening one; the device's own limits are checked once it is open).
pub fn ensure_binding(flag: &str, what: &str, bytes: Option<u64>) -> anyhow::Result<()> {
    Ok(wgconv::gpu::ensure_within_binding_range(
        || format!("{flag}: {what}"),
        bytes,
    )?)
}

/// "5" → (5, 5); "3,2" → (3, 2).
pub fn parse_pair(s: &str) -> Result<(u32, u32), String> {
    let parse = |t: &str| {
        t.trim()
            .parse::<u32>()
            .map_err(|_| format!("{t:?} is not a non-negative integer"))
    };
    match s.split_once(',') {
        Some((a, b)) => Ok((parse(a)?, parse(b)?)),
        None => parse(s).map(|v| (v, v)),
    }
}

/// "24x24" → (24, 24).
pub fn parse_hw(s: &str) -> Result<(u32, u32), String> {
    let (h, w) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s:?} is not HxW (e.g. 24x24)"))?;
    let parse = |t: &str| match t.trim().parse::<u32>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(format!("{t:?} in {s:?} is not a positive integer")),
    };
    Ok((parse(h)?, parse(w)?))
}

/// `--kernel`: simple, tiled, window or fused, the same set on every command.
pub fn parse_kernel(name: &str) -> anyhow::Result<KernelChoice> {
    KernelChoice::parse(name)
        .with_context(|| format!("--kernel {name:?}: use one of simple, tiled, window, fused"))
}

/// `--kernel` for a forward pass on its own: "fused" is refused, saying why.
pub fn parse_forward_kernel(name: &str) -> anyhow::Result<KernelVersion> {
    parse_kernel(name)?.forward().with_context(|| {
        "--kernel fused: the fused loop is a whole training step (forward, loss, gradients and \
         SGD) in one kernel; a forward pass runs simple, tiled or window"
    })
}

/// `--kernel` for training `shape`: None lets the library pick; "fused" where the layer does not
/// fit the fused loop is refused, saying why.
pub fn parse_train_kernel(
    name: Option<&str>,
    shape: &wgconv::ConvShape,
) -> anyhow::Result<Option<TrainVersions>> {
    let Some(name) = name else { return Ok(None) };
    let choice = parse_kernel(name)?;
    if choice == KernelChoice::Fused && !wgconv::gpu::fits_fused_loop(shape) {
        bail!(
            "--kernel fused: {shape} does not fit the fused loop (it needs K·(C/G)·R·S ≤ 512, \
             K ≤ 32, N·K·P·Q ≤ 3200 and N·C·H·W ≤ 2304)"
        );
    }
    Ok(Some(choice.train_versions()))
}

/// Errors when `--kernel fused` was asked for but the trainer could not run it.
pub fn ensure_fused_ran(asked: Option<TrainVersions>, ran: TrainVersions) -> anyhow::Result<()> {
    if asked.is_some_and(|v| v.fused_loop) && !ran.fused_loop {
        bail!("--kernel fused: this adapter cannot run the fused loop (it needs 11 storage buffers per stage, 24 KiB of workgroup memory and 256 invocations per workgroup)");
    }
    Ok(())
}

/// One line on a GPU-vs-CPU comparison: its worst element against its bound.
pub fn print_check(name: &str, c: &Comparison) {
    match c.worst {
        Some(w) => println!(
            "check {name}: {} elements, {} over their bound; worst at {:?}: GPU {:e}, CPU {:e}, \
             |error| {:.3e} = {:.3e} of its bound {:.3e}",
            c.checked,
            c.over,
            w.index,
            w.gpu,
            w.reference,
            (f64::from(w.gpu) - w.reference).abs(),
            w.ratio(),
            w.bound
        ),
        None => println!("check {name}: nothing to compare"),
    }
}

/// Says that a check failed and nothing was written; exit status 1.
pub fn check_failed(what: &str) -> ExitCode {
    eprintln!("check failed: {what}");
    ExitCode::from(1)
}

/// A command's inputs and outputs (flag, path), declared and checked before any work: no output
/// is a directory, a FIFO, a device, another output or an input; see [`wgconv::outputs`].
pub fn declare(inputs: &[(&str, &Path)], outputs: &[(&str, PathBuf)]) -> anyhow::Result<Outputs> {
    let mut declared = Outputs::new();
    for (flag, path) in inputs {
        declared.input(flag, path)?;
    }
    for (flag, path) in outputs {
        declared.declare(flag, path)?;
    }
    Ok(declared)
}

/// Moves the staged files into place and lists them. (The test hooks pause before the renames
/// and after the first.)
pub fn commit(outputs: Outputs) -> anyhow::Result<()> {
    crate::signals::test_pause("commit");
    let mut first = true;
    let written = outputs.commit_with(|_| {
        if std::mem::take(&mut first) {
            crate::signals::test_pause("renaming");
        }
    })?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}
