//! `wgconv bench`: validates each kernel version, times its passes through the library's
//! [`wgconv::bench`], and prints a table (and on request JSON, which `bench/compare.py` reads).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::ProgressBar;

use wgconv::bench::{self, Clock};
use wgconv::gpu::WarmUp;
use wgconv::gpu::{KernelChoice, Pass, TrainVersions};
use wgconv::{AdapterRequest, ConvShape, GpuContext, PaddingMode};
use wgconv::{Conv2d, Conv2dConfig, Trainer, TrainerOptions};

use crate::bench_report::{print_table, Measurement, Report, Row, Subject};
use wgconv::limits::bytes_of;

use crate::layer::parse_padding_mode;
use crate::shared::{
    check_failed, commit, declare, ensure_binding, ensure_host, open, parse_kernel, parse_pair,
};

#[derive(Args)]
pub struct BenchArgs {
    /// Named shapes, comma-separated: seed, mnist, resnet56, resnet14, stem.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "seed,mnist,resnet56,resnet14,stem",
        conflicts_with = "shape"
    )]
    shapes: String,
    /// One shape: N,C,H,W,K,R,S,stride,pad.
    #[arg(long, value_name = "N,C,H,W,K,R,S,stride,pad")]
    shape: Option<String>,
    /// Dilation D or DH,DW of the --shape layer.
    #[arg(long, value_name = "D|DH,DW", value_parser = parse_pair, requires = "shape")]
    dilation: Option<(u32, u32)>,
    /// Groups G of the --shape layer (weights (K, C/G, R, S)).
    #[arg(long, value_name = "G", requires = "shape")]
    groups: Option<u32>,
    /// Padding mode of the --shape layer: zeros, reflect, replicate or circular.
    #[arg(long, value_name = "MODE", value_parser = parse_padding_mode, requires = "shape")]
    padding_mode: Option<PaddingMode>,
    /// Replace every shape's batch size N (to scale the shapes down for a slow adapter).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub(crate) batch: Option<u32>,
    /// Passes: fwd, bwd (loss, dW, db, dX), step (fwd + bwd + SGD), or all.
    #[arg(long, value_name = "fwd|bwd|step|all", default_value = "all")]
    pass: String,
    /// Kernel version: simple, tiled, window (for CPU adapters), or fused (the whole-loop kernel for tiny layers, step
    /// pass only); default: every version.
    #[arg(long, value_name = "NAME")]
    kernel: Option<String>,
    /// Timed repeats (the median is reported); at least 20, at most 1000000.
    #[arg(long, allow_negative_numbers = true, default_value_t = 25)]
    pub(crate) repeats: u32,
    /// Untimed warm-up repeats; at most 1000000.
    #[arg(long, allow_negative_numbers = true, default_value_t = 5)]
    pub(crate) warmup: u32,
    /// Passes recorded per timed repeat (the time is divided by it): amortises launch costs;
    /// at most 10000.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    inner: u32,
    /// The clock: gpu (GPU timestamps around the recorded passes where the adapter has them,
    /// else the wall clock) or wall (the wall clock of each repeat, from recording its commands
    /// to the end of the wait for them: as a framework is timed from the host).
    #[arg(long, value_name = "gpu|wall", default_value = "gpu", value_parser = parse_clock)]
    pub(crate) timer: Clock,
    /// Write the results as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The adapter's fp32 peak in TFLOP/s, to report the % of it reached.
    #[arg(long, allow_hyphen_values = true, value_name = "X")]
    peak_tflops: Option<f64>,
    /// Instead of the conv shapes: each op of the README's network (conv 1→K 5×5 + ReLU,
    /// max-pool 2, linear 100·K → 10, cross-entropy, SGD) on a batch (--batch, default 64) of
    /// 24×24 inputs, validated against the f64 twins, then timed.
    #[arg(long, conflicts_with_all = ["shape", "kernel", "json", "inner"])]
    network: bool,
    /// The network's filters K (with --network).
    #[arg(long, value_name = "K", default_value_t = 2, requires = "network")]
    pub(crate) filters: u32,
}

/// What to run, read from the arguments before any GPU work.
struct Plan {
    shapes: Vec<(String, ConvShape)>,
    versions: Vec<(&'static str, TrainVersions)>,
    passes: Vec<Pass>,
    warmup: u32,
    repeats: u32,
    inner: u32,
    clock: Clock,
    peak_tflops: Option<f64>,
}

/// `--timer`'s value.
fn parse_clock(text: &str) -> Result<Clock, String> {
    match text {
        "gpu" => Ok(Clock::Gpu),
        "wall" => Ok(Clock::Wall),
        _ => Err("use gpu (GPU timestamps where the adapter has them) or wall".into()),
    }
}

pub fn run(request: &AdapterRequest, args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.network {
        return crate::bench_network::run_network(request, &args);
    }
    let plan = plan(&args)?;
    let json: Vec<_> = args.json.iter().map(|p| ("--json", p.clone())).collect();
    let mut outputs = declare(&[], &json)?;
    let warm: Vec<WarmUp> = plan
        .versions
        .iter()
        .map(|&(_, v)| WarmUp::Train(v))
        .collect();
    let ctx = open(request, &warm)?;
    let timer = match (plan.clock, ctx.key_limits().timestamp_query) {
        (Clock::Wall, _) => {
            "wall clock (--timer wall: recording, submission and wait of each repeat)"
        }
        (Clock::Gpu, true) => "GPU timestamps",
        (Clock::Gpu, false) => "wall clock (no timestamp queries on this adapter)",
    };
    println!(
        "timing: {timer}; median of {} repeats after {} warm-up",
        plan.repeats, plan.warmup
    );
    let steps = plan.shapes.len() * plan.versions.len() * (plan.passes.len() + 1);
    let bar = ProgressBar::new(steps as u64);
    let mut rows = Vec::new();
    for (name, shape) in &plan.shapes {
        for &(label, versions) in &plan.versions {
            let subject = Subject {
                name,
                shape,
                kernel: label,
                versions,
            };
            rows.extend(bench_version(&ctx, &plan, &bar, &subject)?);
        }
    }
    bar.finish_and_clear();
    print_table(&rows, plan.versions.iter().any(|(_, v)| v.fused_loop));
    let failed = rows.iter().any(|r| matches!(r, Row::Failed { .. }));
    if failed {
        return Ok(check_failed(
            "a version failed its validation; no JSON written",
        ));
    }
    if let Some(path) = &args.json {
        let report = Report::new(ctx.adapter().to_string(), timer, rows);
        outputs.add(path, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    commit(outputs)?;
    Ok(ExitCode::SUCCESS)
}

/// The most `--repeats` and `--warmup`: a million passes is hours on the smallest shape.
pub(crate) const MAX_REPEATS: u32 = 1_000_000;
/// The most `--inner`: its passes are recorded into one command buffer, which the driver holds
/// in host memory (hundreds of bytes a dispatch).
const MAX_INNER: u32 = 10_000;

fn plan(args: &BenchArgs) -> anyhow::Result<Plan> {
    if args.repeats < 20 {
        bail!("--repeats must be at least 20 (got {})", args.repeats);
    }
    if args.inner == 0 {
        bail!("--inner must be at least 1");
    }
    for (flag, value, max) in [
        ("--repeats", args.repeats, MAX_REPEATS),
        ("--warmup", args.warmup, MAX_REPEATS),
        ("--inner", args.inner, MAX_INNER),
    ] {
        if value > max {
            bail!("{flag} {value}: at most {max}");
        }
    }
    if let Some(p) = args.peak_tflops {
        if !(p.is_finite() && p > 0.0) {
            bail!("--peak-tflops must be a positive number (got {p})");
        }
    }
    let passes = match args.pass.as_str() {
        "fwd" => vec![Pass::Forward],
        "bwd" => vec![Pass::Backward],
        "step" => vec![Pass::Step],
        "all" => vec![Pass::Forward, Pass::Backward, Pass::Step],
        other => bail!("--pass {other:?}: use fwd, bwd, step or all"),
    };
    let chosen = match &args.kernel {
        Some(name) => vec![parse_kernel(name)?],
        None => KernelChoice::ALL.to_vec(),
    };
    if chosen == [KernelChoice::Fused] && !passes.contains(&Pass::Step) {
        bail!(
            "--kernel fused with --pass {}: the fused loop is a whole training step, timed by \
             --pass step (or all)",
            args.pass
        );
    }
    let versions = chosen
        .into_iter()
        .map(|k| (k.name(), k.train_versions()))
        .collect();
    Ok(Plan {
        shapes: shapes(args)?,
        versions,
        passes,
        warmup: args.warmup,
        repeats: args.repeats,
        inner: args.inner,
        clock: args.timer,
        peak_tflops: args.peak_tflops,
    })
}

/// `--shape`, or each of `--shapes`, with `--batch` applied.
fn shapes(args: &BenchArgs) -> anyhow::Result<Vec<(String, ConvShape)>> {
    let texts: Vec<&str> = match &args.shape {
        Some(s) => vec![s.as_str()],
        None => args.shapes.split(',').map(str::trim).collect(),
    };
    let mut shapes = Vec::new();
    for text in texts {
        let mut flag = match args.shape {
            Some(_) => format!("--shape {text}"),
            None => format!("--shapes {text}"),
        };
        let (name, shape) = bench::parse_shape(text).with_context(|| flag.clone())?;
        let (name, shape) = with_layer_flags(args, name, shape, &mut flag)?;
        let shape = match args.batch {
            Some(n) => {
                flag = format!("{flag} --batch {n}");
                shape.with_batch(n).with_context(|| flag.clone())?
            }
            None => shape,
        };
        check_shape(&flag, &shape)?;
        shapes.push((name, shape));
    }
    Ok(shapes)
}

/// The --shape layer with --dilation, --groups and --padding-mode applied; the name and `flag`
/// gain the flags given.
fn with_layer_flags(
    args: &BenchArgs,
    name: String,
    shape: ConvShape,
    flag: &mut String,
) -> anyhow::Result<(String, ConvShape)> {
    let mut spec = shape.spec();
    let mut given = String::new();
    if let Some((dh, dw)) = args.dilation {
        spec.dilation = (dh, dw);
        given += &format!(" --dilation {dh},{dw}");
    }
    if let Some(g) = args.groups {
        spec.groups = g;
        given += &format!(" --groups {g}");
    }
    if let Some(m) = args.padding_mode {
        spec.padding_mode = m;
        given += &format!(" --padding-mode {m}");
    }
    if given.is_empty() {
        return Ok((name, shape));
    }
    flag.push_str(&given);
    let shape = ConvShape::new(spec).with_context(|| flag.clone())?;
    Ok((format!("{name}{given}"), shape))
}

/// A shape against what it implies in bytes, before anything is allocated: training does not
/// split batches, so x, y and w must each fit one binding; the random problem fits the host.
fn check_shape(flag: &str, shape: &ConvShape) -> anyhow::Result<()> {
    for (what, floats) in [
        ("the input x (N, C, H, W)", shape.input_len()),
        ("the output y (N, K, P, Q)", shape.output_len()),
        ("the weights w (K, C/G, R, S)", shape.weight_len()),
    ] {
        ensure_binding(flag, what, bytes_of(floats, 4))?;
    }
    let host = bench::problem_bytes(shape);
    ensure_host(flag, "the random x, t, w and b and their uploads", host)
}

/// Validates one version on one shape, then times each of its passes.
fn bench_version(
    ctx: &GpuContext,
    plan: &Plan,
    bar: &ProgressBar,
    subject: &Subject,
) -> anyhow::Result<Vec<Row>> {
    let Subject {
        name,
        shape,
        kernel: label,
        versions,
    } = *subject;
    let fused = versions.fused_loop;
    let passes = plan.passes.len() as u64;
    if fused && !wgconv::gpu::fits_fused_loop(shape) {
        bar.inc(1 + passes);
        return Ok(Vec::new()); // the fused loop only takes tiny layers
    }
    bar.set_message(format!("{name} {label} validating"));
    let validation = bench::validate(ctx, shape, versions)?;
    bar.inc(1);
    if !validation.passed {
        bar.inc(passes);
        let shape = name.to_string();
        return Ok(vec![Row::Failed {
            shape,
            kernel: label,
            validation,
        }]);
    }
    let (x, t, w, b) = bench::random_problem(shape, 5)?;
    let sgd = wgconv::sgd::Sgd::new(1e-6);
    let layer = Conv2d::from_weights(
        ctx,
        Conv2dConfig::of_shape(shape),
        &w,
        shape.bias.then_some(&b[..]),
    )?;
    let options = TrainerOptions::new(sgd)
        .with_log_capacity(1)
        .with_versions(versions);
    let trainer = Trainer::new(layer, &x, &t, options)?;
    if fused && !trainer.versions().fused_loop {
        bail!("the fused loop cannot run on this adapter (too few storage buffers or too little workgroup memory)");
    }
    let mut rows = Vec::new();
    for &pass in &plan.passes {
        if fused && pass != Pass::Step {
            bar.inc(1);
            continue; // the fused loop is a whole step
        }
        bar.set_message(format!("{name} {label} {}", bench::pass_name(pass)));
        let timing = bench::time_pass_with(
            ctx,
            &trainer,
            pass,
            plan.warmup,
            plan.repeats,
            plan.inner,
            plan.clock,
        )?;
        bar.inc(1);
        let bytes = trainer.pass_bytes(pass);
        let m = Measurement::new(subject, pass, &timing, bytes, &validation, plan.peak_tflops);
        rows.push(Row::Timed(m));
    }
    Ok(rows)
}
