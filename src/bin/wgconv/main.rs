//! The `wgconv` command line: parses arguments, calls the library, prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use wgconv::check::{run_case, CaseGenerator};
use wgconv::drawing;
use wgconv::gpu::KernelVersion;
use wgconv::io::{self, ImageOptions, Outputs};
use wgconv::pictures::{self, MapKind, Scale};
use wgconv::weights;
use wgconv::{filters, AdapterRequest, ConvShape, GpuContext, Tensor4};

/// A convolutional layer (conv + bias + ReLU) in WGSL compute shaders, on any GPU wgpu runs on,
/// checked against an f64 CPU reference.
///
/// Exit status: 0 success, 1 a GPU-vs-CPU check found elements over their bound, 2 an error.
#[derive(Parser)]
#[command(name = "wgconv", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    device: DeviceArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct DeviceArgs {
    /// Backends to use: vulkan, metal, dx12, gl (comma-separated). Overrides WGPU_BACKEND.
    #[arg(long, global = true, value_name = "LIST")]
    backend: Option<String>,
    /// Use the adapter whose name contains this (case-insensitive). Overrides WGPU_ADAPTER_NAME.
    #[arg(long, global = true, value_name = "NAME")]
    adapter: Option<String>,
    /// Refuse CPU/software adapters (lavapipe, llvmpipe, WARP, SwiftShader).
    #[arg(long, global = true)]
    require_gpu: bool,
    /// Give up on a GPU submission that has not finished after this many seconds.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 120.0)]
    timeout: f64,
}

#[derive(Subcommand)]
enum Command {
    /// List every adapter (name, backend, type, driver), the chosen one, and its key limits.
    Info,
    /// Run the layer on an input: y = ReLU(conv(x, w) + b).
    Forward(ForwardArgs),
    /// GPU vs CPU on random shapes (batch, channels, kernel, stride, padding drawn; edge cases
    /// included), every forward kernel version; prints a table, exits 1 on any failure.
    Check(CheckArgs),
    /// The notebook's forward half on the GPU: a 24×24 input, two 5×5 edge filters, stride 1;
    /// prints the computation of c¹₁,₁ and writes PNGs.
    Demo(DemoArgs),
    /// N full-batch SGD steps on (X, T) with MSE loss through the ReLU; writes the new weights
    /// and bias, and on request the last step's gradients and the loss of every step.
    Step(StepArgs),
    /// The notebook's "prediction vs learning": a random student learns a hidden teacher layer
    /// (the two 5×5 filters with biases) on the GPU; writes the loss curve, filters and maps.
    Train(TrainArgs),
    /// Time each kernel version's passes on benchmark shapes, after validating it against the
    /// CPU reference (GPU timestamps where the adapter has them).
    Bench(BenchArgs),
}

#[derive(Args)]
struct BenchArgs {
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
    /// Replace every shape's batch size N (to scale the shapes down for a slow adapter).
    #[arg(long, value_name = "N")]
    batch: Option<u32>,
    /// Passes: fwd, bwd (loss, dW, db, dX), step (fwd + bwd + SGD), or all.
    #[arg(long, value_name = "fwd|bwd|step|all", default_value = "all")]
    pass: String,
    /// Kernel version: simple, tiled, or fused (the whole-loop kernel for tiny layers, step
    /// pass only); default: every version.
    #[arg(long, value_name = "NAME")]
    kernel: Option<String>,
    /// Timed repeats (the median is reported); at least 20.
    #[arg(long, default_value_t = 25)]
    repeats: u32,
    /// Untimed warm-up repeats.
    #[arg(long, default_value_t = 5)]
    warmup: u32,
    /// Passes recorded per timed repeat (the time is divided by it): amortises launch costs.
    #[arg(long, default_value_t = 1)]
    inner: u32,
    /// Write the results as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The adapter's fp32 peak in TFLOP/s, to report the % of it reached.
    #[arg(long, value_name = "X")]
    peak_tflops: Option<f64>,
}

#[derive(Args)]
struct StepArgs {
    /// Input x: .npy (or an image), rank 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W).
    #[arg(long, value_name = "X.npy")]
    input: PathBuf,
    /// Weights (K, C, R, S): .npy or .safetensors (tensor "weight").
    #[arg(long, value_name = "W.npy")]
    weight: PathBuf,
    /// Bias (K): .npy or .safetensors (tensor "bias").
    #[arg(long, value_name = "B.npy")]
    bias: PathBuf,
    /// Target t, the output's shape (N, K, P, Q) (rank 2 or 3 when N, K are 1).
    #[arg(long, value_name = "T.npy")]
    target: PathBuf,
    /// Learning rate (> 0).
    #[arg(long)]
    lr: f32,
    /// Momentum in [0, 1).
    #[arg(long, default_value_t = 0.0)]
    momentum: f32,
    /// Weight decay (L2, ≥ 0), applied to weight and bias as torch.optim.SGD does.
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f32,
    /// Nesterov momentum.
    #[arg(long)]
    nesterov: bool,
    /// Number of full-batch steps.
    #[arg(long, default_value_t = 1)]
    steps: u64,
    /// Stride S or SH,SW.
    #[arg(long, value_name = "S|SH,SW", value_parser = parse_pair, default_value = "1")]
    stride: (u32, u32),
    /// Zero padding P or PH,PW.
    #[arg(long, value_name = "P|PH,PW", value_parser = parse_pair, default_value = "0")]
    padding: (u32, u32),
    /// Where to write the updated weights (.npy).
    #[arg(long, value_name = "W2.npy")]
    out_weight: PathBuf,
    /// Where to write the updated bias (.npy).
    #[arg(long, value_name = "B2.npy")]
    out_bias: PathBuf,
    /// dL/dw of the last step, before its update, without weight decay.
    #[arg(long, value_name = "DW.npy")]
    grad_weight: Option<PathBuf>,
    /// dL/db of the last step, before its update, without weight decay.
    #[arg(long, value_name = "DB.npy")]
    grad_bias: Option<PathBuf>,
    /// dL/dx of the last step.
    #[arg(long, value_name = "DX.npy")]
    grad_input: Option<PathBuf>,
    /// CSV with header `step,loss`, one row per step (0-based): the loss before its update.
    #[arg(long, value_name = "loss.csv")]
    loss_log: Option<PathBuf>,
    /// Also run every step's kernels on the f64 CPU reference (from the GPU's state) and report
    /// the worst deviation of each output against its bound; exit 1 if any is over.
    #[arg(long)]
    check: bool,
}

#[derive(Args)]
struct TrainArgs {
    /// Number of steps.
    #[arg(long, default_value_t = 400)]
    steps: u64,
    /// Learning rate.
    #[arg(long, default_value_t = 0.5)]
    lr: f32,
    /// Momentum in [0, 1).
    #[arg(long, default_value_t = 0.9)]
    momentum: f32,
    /// Weight decay (≥ 0).
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f32,
    /// Images per batch (full-batch training on a fixed set).
    #[arg(long, default_value_t = 4)]
    batch: u32,
    /// Seed of the images and of the student's initial weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Train on random 24×24 crops of this image (grayscale) instead of random images.
    #[arg(long, value_name = "IMAGE", conflicts_with = "builtin")]
    input: Option<PathBuf>,
    /// Train on the built-in 24×24 image (batch 1).
    #[arg(long)]
    builtin: bool,
    /// Losses come back from the GPU every this many steps (and at the end).
    #[arg(long, default_value_t = 50)]
    log_every: u32,
    /// Folder for loss.csv, loss.png, filters.png, maps_before.png, maps_after.png,
    /// maps_teacher.png.
    #[arg(long, value_name = "DIR", default_value = "wgconv-train")]
    out: PathBuf,
    /// Also save the student as .safetensors (`weight`, `bias`: torch.nn.Conv2d's names).
    #[arg(long, value_name = "FILE.safetensors")]
    save: Option<PathBuf>,
}

#[derive(Args)]
struct ForwardArgs {
    /// Input: an image (PNG, JPEG, ... scaled to [0, 1]) or a .npy array, f32 or f64, of rank
    /// 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W).
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Read an image as three channels (R, G, B) instead of grayscale.
    #[arg(long)]
    rgb: bool,
    /// Resize an image input to HxW first (e.g. 24x24).
    #[arg(long, value_name = "HxW", value_parser = parse_hw)]
    resize: Option<(u32, u32)>,
    /// Weights as a .npy array (K, C, R, S) (or (R, S) for one filter).
    #[arg(long, value_name = "W.npy", conflicts_with = "filters")]
    weight: Option<PathBuf>,
    /// Built-in filters: `seed` (the notebook's two 5×5 edge detectors: vertical, horizontal)
    /// or `random:K` (K filters uniform in ±1/√(C·R·S), from --seed). Default: seed.
    #[arg(long, value_name = "seed|random:K")]
    filters: Option<String>,
    /// Kernel size R or R,S for `--filters random:K`.
    #[arg(long, value_name = "R|R,S", value_parser = parse_pair, default_value = "5")]
    kernel_size: (u32, u32),
    /// Bias as a .npy array (K). Default: zeros.
    #[arg(long, value_name = "B.npy")]
    bias: Option<PathBuf>,
    /// Stride S or SH,SW.
    #[arg(long, value_name = "S|SH,SW", value_parser = parse_pair, default_value = "1")]
    stride: (u32, u32),
    /// Zero padding P or PH,PW (added on both sides).
    #[arg(long, value_name = "P|PH,PW", value_parser = parse_pair, default_value = "0")]
    padding: (u32, u32),
    /// Write y (N, K, P, Q) as .npy.
    #[arg(long, value_name = "Y.npy")]
    output: Option<PathBuf>,
    /// Write the pre-activation z = conv(x, w) + b as .npy.
    #[arg(long, value_name = "Z.npy")]
    pre_activation: Option<PathBuf>,
    /// Write pictures to DIR: feature_maps.png (post-ReLU, grayscale), pre_activation.png
    /// (blue < 0 < red), filters.png, input.png.
    #[arg(long, value_name = "DIR")]
    maps: Option<PathBuf>,
    /// With --maps, also write one file per map: y_n0_k1.png (batch 0, filter 1), z_n0_k1.png, ...
    #[arg(long, requires = "maps")]
    per_map: bool,
    /// With --maps, scale all maps alike so they compare: by their common maximum, or by MAX
    /// when given (default: each map by its own maximum).
    #[arg(long, value_name = "MAX", num_args = 0..=1, requires = "maps")]
    fixed_scale: Option<Option<f32>>,
    /// Also run the f64 CPU reference and report the worst error against its bound; exit 1 if
    /// any element is over (and write nothing).
    #[arg(long)]
    check: bool,
    /// Seed for `--filters random:K`.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Forward kernel version: simple or tiled (default: picked for the shape).
    #[arg(long, value_name = "NAME")]
    kernel: Option<String>,
}

#[derive(Args)]
struct CheckArgs {
    /// Number of random cases.
    #[arg(long, default_value_t = 200)]
    cases: usize,
    /// Seed of the shape generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Check one forward version only (simple, tiled); default: all.
    #[arg(long, value_name = "NAME")]
    kernel: Option<String>,
}

#[derive(Args)]
struct DemoArgs {
    /// Folder for the PNGs.
    #[arg(long, value_name = "DIR", default_value = "wgconv-demo")]
    out: PathBuf,
    /// Use this image (resized to 24×24, grayscale) instead of the built-in one.
    #[arg(long, value_name = "IMAGE")]
    input: Option<PathBuf>,
}

/// "5" → (5, 5); "3,2" → (3, 2).
fn parse_pair(s: &str) -> Result<(u32, u32), String> {
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
fn parse_hw(s: &str) -> Result<(u32, u32), String> {
    let (h, w) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s:?} is not HxW (e.g. 24x24)"))?;
    let parse = |t: &str| match t.trim().parse::<u32>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(format!("{t:?} in {s:?} is not a positive integer")),
    };
    Ok((parse(h)?, parse(w)?))
}

/// `--kernel` for a single pass: simple or tiled.
fn parse_kernel(name: &str) -> anyhow::Result<KernelVersion> {
    KernelVersion::parse(name)
        .with_context(|| format!("--kernel {name:?}: use one of simple, tiled"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let request = adapter_request(&cli.device)?;
    match cli.command {
        Command::Info => info(&request),
        Command::Forward(args) => forward(&request, args),
        Command::Check(args) => check(&request, args),
        Command::Demo(args) => demo(&request, args),
        Command::Step(args) => step(&request, args),
        Command::Train(args) => train(&request, args),
        Command::Bench(args) => bench(&request, args),
    }
}

fn adapter_request(d: &DeviceArgs) -> anyhow::Result<AdapterRequest> {
    if !(d.timeout.is_finite() && d.timeout > 0.0) {
        bail!(
            "--timeout must be a positive number of seconds (got {})",
            d.timeout
        );
    }
    let mut r = AdapterRequest::from_env();
    if d.backend.is_some() {
        r.backends = d.backend.clone();
    }
    if d.adapter.is_some() {
        r.adapter_name = d.adapter.clone();
    }
    r.require_gpu = d.require_gpu;
    r.timeout = Duration::from_secs_f64(d.timeout);
    Ok(r)
}

fn open(request: &AdapterRequest) -> anyhow::Result<GpuContext> {
    let ctx = GpuContext::new(request)?;
    println!("adapter: {}", ctx.adapter());
    Ok(ctx)
}

fn info(request: &AdapterRequest) -> anyhow::Result<ExitCode> {
    let adapters = wgconv::gpu::list_adapters(request)?;
    println!("adapters (best first):");
    for a in &adapters {
        println!("  {a}");
    }
    let ctx = GpuContext::new(request)?;
    println!("chosen: {}", ctx.adapter());
    let l = ctx.key_limits();
    let (cap, limit) = ctx.binding_limit();
    println!("limits:");
    println!(
        "  max_storage_buffer_binding_size  {} bytes",
        l.max_storage_buffer_binding_size
    );
    println!(
        "  max_buffer_size                  {} bytes",
        l.max_buffer_size
    );
    println!(
        "  max_compute_workgroups_per_dim   {}",
        l.max_compute_workgroups_per_dimension
    );
    println!(
        "  max_invocations_per_workgroup    {}",
        l.max_compute_invocations_per_workgroup
    );
    println!(
        "  max_workgroup_storage_size       {} bytes",
        l.max_compute_workgroup_storage_size
    );
    println!(
        "  max_storage_buffers_per_stage    {}",
        l.max_storage_buffers_per_shader_stage
    );
    println!("  largest tensor per binding       {cap} bytes (set by {limit})");
    println!("features:");
    println!(
        "  timestamp queries                {}",
        if l.timestamp_query { "yes" } else { "no" }
    );
    Ok(ExitCode::SUCCESS)
}

/// The weights for `forward`: a .npy file, or built-in seed/random filters for C channels.
fn forward_weights(args: &ForwardArgs, c: usize) -> anyhow::Result<Tensor4> {
    if let Some(path) = &args.weight {
        return Ok(weights::read_weight(path)?);
    }
    match args.filters.as_deref().unwrap_or("seed") {
        "seed" => Ok(filters::seed_filters_for_channels(c)),
        spec => {
            let k = spec
                .strip_prefix("random:")
                .and_then(|k| k.parse::<usize>().ok())
                .filter(|&k| k > 0)
                .with_context(|| {
                    format!("--filters {spec:?}: use `seed` or `random:K` with K ≥ 1")
                })?;
            let (r, s) = args.kernel_size;
            if r == 0 || s == 0 {
                bail!("--kernel-size must be at least 1");
            }
            Ok(filters::random_filters(
                k, c, r as usize, s as usize, args.seed,
            ))
        }
    }
}

fn forward(request: &AdapterRequest, args: ForwardArgs) -> anyhow::Result<ExitCode> {
    // Read and validate everything before any GPU work.
    let x = io::read_input(
        &args.input,
        ImageOptions {
            rgb: args.rgb,
            resize: args.resize,
        },
    )?;
    let w = forward_weights(&args, x.dims[1])?;
    let b = match &args.bias {
        Some(path) => weights::read_bias(path)?,
        None => vec![0.0; w.dims[0]],
    };
    let shape = ConvShape::of_dims(x.dims, w.dims, args.stride, args.padding)?;
    wgconv::gpu::check_forward_inputs(&shape, &x, &w, &b)?;
    let scale = match args.fixed_scale {
        None => Scale::PerMap,
        Some(None) => Scale::Shared,
        Some(Some(v)) if v.is_finite() && v > 0.0 => Scale::Fixed(v),
        Some(Some(v)) => bail!("--fixed-scale must be a positive number (got {v})"),
    };
    let version = match &args.kernel {
        Some(name) => parse_kernel(name)?,
        None => wgconv::gpu::forward::forward_version_for(&shape),
    };

    let ctx = open(request)?;
    println!("shape: {shape}");
    println!(
        "parameters: {} weights + {} biases = {}; {} FLOPs",
        shape.weight_len(),
        shape.k,
        shape.param_count(),
        shape.forward_flops()
    );
    let want_z = args.pre_activation.is_some() || args.maps.is_some();
    println!("forward kernel: {}", version.name());
    let started = Instant::now();
    let out = ctx.conv2d_bias_relu_fwd_with(version, &shape, &x, &w, &b, want_z)?;
    println!(
        "forward: {:.3} ms wall clock (upload, run, read back), {} chunk(s)",
        started.elapsed().as_secs_f64() * 1e3,
        out.chunks
    );
    let zeroed = out.y.data.iter().filter(|&&v| v == 0.0).count();
    let max = out.y.data.iter().fold(0.0f32, |m, &v| m.max(v));
    println!(
        "y: {:?}, max {max:.4}, {zeroed} of {} values are 0 after ReLU",
        out.y.dims,
        out.y.data.len()
    );

    if args.check {
        let case = wgconv::check::Case {
            family: "forward",
            shape,
            x: x.clone(),
            w: w.clone(),
            b: b.clone(),
        };
        let r = wgconv::check::compare_forward(&case, &out.y, out.z.as_ref());
        print_check("y", &r.y);
        if out.z.is_some() {
            print_check("z", &r.z);
        }
        if !r.passed() {
            eprintln!("check failed: elements over their bound; no output written");
            return Ok(ExitCode::from(1));
        }
    }

    let mut outputs = Outputs::new();
    if let Some(path) = &args.output {
        outputs.add_npy(path, &out.y)?;
    }
    if let (Some(path), Some(z)) = (&args.pre_activation, &out.z) {
        outputs.add_npy(path, z)?;
    }
    if let Some(dir) = &args.maps {
        stage_maps(
            &mut outputs,
            dir,
            &x,
            &w,
            &out.y,
            out.z.as_ref(),
            scale,
            args.per_map,
        )?;
    }
    for path in outputs.commit()? {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_check(name: &str, c: &wgconv::compare::Comparison) {
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

#[allow(clippy::too_many_arguments)]
fn stage_maps(
    outputs: &mut Outputs,
    dir: &Path,
    x: &Tensor4,
    w: &Tensor4,
    y: &Tensor4,
    z: Option<&Tensor4>,
    scale: Scale,
    per_map: bool,
) -> anyhow::Result<()> {
    outputs.add_png(
        &dir.join("feature_maps.png"),
        &pictures::map_grid(y, MapKind::PostRelu, scale),
    )?;
    if let Some(z) = z {
        outputs.add_png(
            &dir.join("pre_activation.png"),
            &pictures::map_grid(z, MapKind::PreActivation, scale),
        )?;
    }
    outputs.add_png(&dir.join("filters.png"), &pictures::filter_grid(w))?;
    outputs.add_png(&dir.join("input.png"), &pictures::input_picture(x, 0))?;
    if per_map {
        for (label, img) in pictures::map_pictures(y, MapKind::PostRelu, scale) {
            outputs.add_png(
                &dir.join(format!("y_{}.png", label.replace(' ', "_"))),
                &img,
            )?;
        }
        if let Some(z) = z {
            for (label, img) in pictures::map_pictures(z, MapKind::PreActivation, scale) {
                outputs.add_png(
                    &dir.join(format!("z_{}.png", label.replace(' ', "_"))),
                    &img,
                )?;
            }
        }
    }
    Ok(())
}

fn check(request: &AdapterRequest, args: CheckArgs) -> anyhow::Result<ExitCode> {
    if args.cases == 0 {
        bail!("--cases must be at least 1");
    }
    let versions: Vec<KernelVersion> = match &args.kernel {
        None => KernelVersion::ALL.to_vec(),
        Some(name) => vec![parse_kernel(name)?],
    };
    let ctx = open(request)?;
    println!(
        "forward versions checked: {}",
        versions
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut gen = CaseGenerator::new(args.seed);
    println!(
        "{:>5}  {:<24} {:<58} {:>8} {:>10} {:>10}  status",
        "case", "family", "shape", "outputs", "y err/bnd", "z err/bnd"
    );
    let (mut failed, mut worst, mut outputs) = (0usize, 0.0f64, 0u64);
    let started = Instant::now();
    for i in 0..args.cases {
        let case = gen.next_case();
        // Every kernel version on the same case; the row shows the worst of them.
        let mut results = Vec::new();
        for &version in &versions {
            results.push(
                run_case(&ctx, &case, version)
                    .with_context(|| format!("case {i} ({}): {}", version.name(), case.shape))?,
            );
        }
        let passed = results.iter().all(|r| r.passed());
        let y_worst = results
            .iter()
            .map(|r| r.y.worst_ratio())
            .fold(0.0, f64::max);
        let z_worst = results
            .iter()
            .map(|r| r.z.worst_ratio())
            .fold(0.0, f64::max);
        outputs += case.shape.output_len();
        worst = worst.max(y_worst).max(z_worst);
        if !passed {
            failed += 1;
        }
        println!(
            "{i:>5}  {:<24} {:<58} {:>8} {:>10.3e} {:>10.3e}  {}",
            case.family,
            case.shape.to_string(),
            case.shape.output_len(),
            y_worst,
            z_worst,
            if passed { "ok" } else { "FAIL" }
        );
    }
    println!(
        "{} cases ({outputs} outputs, y and z each) in {:.2} s: {} passed, {failed} failed; \
         worst error {worst:.3e} of its bound",
        args.cases,
        started.elapsed().as_secs_f64(),
        args.cases - failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn demo(request: &AdapterRequest, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let x = match &args.input {
        Some(path) => Some(io::read_input(
            path,
            ImageOptions {
                rgb: false,
                resize: Some((24, 24)),
            },
        )?),
        None => None,
    };
    if let Some(x) = &x {
        if x.dims != [1, 1, 24, 24] {
            bail!(
                "--input {}: the demo needs one 24×24 grayscale image, got dims {:?}",
                args.input.as_deref().unwrap_or(Path::new("?")).display(),
                x.dims
            );
        }
    }
    let ctx = open(request)?;
    let demo = wgconv::demo::run(&ctx, x)?;
    print!("{}", demo.report());
    if !demo.check.passed() {
        eprintln!("check failed: GPU and CPU disagree beyond the bound; no pictures written");
        return Ok(ExitCode::from(1));
    }
    let mut outputs = Outputs::new();
    for (name, img) in demo.pictures() {
        outputs.add_png(&args.out.join(name), &img)?;
    }
    for path in outputs.commit()? {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A target read like an input (rank 2, 3 or 4), checked against the output's dims.
fn read_target(path: &Path, shape: &ConvShape) -> anyhow::Result<Tensor4> {
    let t = io::read_input(path, ImageOptions::default())?;
    let dims = [
        shape.n as usize,
        shape.k as usize,
        shape.p() as usize,
        shape.q() as usize,
    ];
    if t.dims != dims {
        bail!(
            "{}: the target's shape {:?} is not the output's (N, K, P, Q) = {dims:?}",
            path.display(),
            t.dims
        );
    }
    Ok(t)
}

fn step(request: &AdapterRequest, args: StepArgs) -> anyhow::Result<ExitCode> {
    let sgd = wgconv::sgd::Sgd {
        lr: args.lr,
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        nesterov: args.nesterov,
    };
    sgd.validate()?;
    if args.steps == 0 {
        bail!("--steps must be at least 1");
    }
    let x = io::read_input(&args.input, ImageOptions::default())?;
    let w = weights::read_weight(&args.weight)?;
    let b = weights::read_bias(&args.bias)?;
    let shape = ConvShape::of_dims(x.dims, w.dims, args.stride, args.padding)?;
    wgconv::gpu::check_forward_inputs(&shape, &x, &w, &b)?;
    let t = read_target(&args.target, &shape)?;
    t.ensure_finite("target t")?;

    let ctx = open(request)?;
    println!("shape: {shape}");
    let log_capacity = args.steps.min(1024) as u32;
    let mut trainer = wgconv::gpu::Trainer::new(&ctx, &shape, &x, &t, &w, &b, sgd, log_capacity)?;
    let want_dx = args.grad_input.is_some();
    let started = Instant::now();
    let losses: Vec<f32> = if args.check {
        let check = wgconv::train_check::checked_steps(&mut trainer, &x, &t, args.steps, want_dx)?;
        for (name, c) in check.outputs() {
            print_check(name, &c);
        }
        println!(
            "ReLU mask: {} unexplained differences",
            check.mask_mismatches
        );
        if !check.passed() {
            eprintln!("check failed: elements over their bound; no output written");
            return Ok(ExitCode::from(1));
        }
        check.losses
    } else {
        let mut losses = Vec::with_capacity(args.steps as usize);
        trainer.run(args.steps, want_dx, |_, l| losses.extend_from_slice(l))?;
        losses
    };
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{} step(s) in {:.3} s ({:.0} steps/s); loss {:e} → {:e} (before the first and the last update)",
        args.steps,
        elapsed,
        args.steps as f64 / elapsed.max(1e-9),
        losses[0],
        losses[losses.len() - 1]
    );

    let state = trainer.read_state()?;
    // A finite loss can hide non-finite weights behind the ReLU (every output cut to 0).
    state.w.ensure_finite("updated weights")?;
    wgconv::tensor::ensure_finite_slice("updated bias", &state.b)?;
    let mut outputs = Outputs::new();
    outputs.add_npy(&args.out_weight, &state.w)?;
    outputs.add_npy_vec(&args.out_bias, &state.b)?;
    if args.grad_weight.is_some() || args.grad_bias.is_some() {
        let (dw, db) = trainer.read_grads()?;
        if let Some(p) = &args.grad_weight {
            outputs.add_npy(p, &dw)?;
        }
        if let Some(p) = &args.grad_bias {
            outputs.add_npy_vec(p, &db)?;
        }
    }
    if let Some(p) = &args.grad_input {
        outputs.add_npy(p, &trainer.read_input_grad()?)?;
    }
    if let Some(p) = &args.loss_log {
        outputs.add(
            p,
            loss_csv(losses.iter().enumerate().map(|(i, &l)| (i as u64, l))).as_bytes(),
        )?;
    }
    for path in outputs.commit()? {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `step,loss` and one row per step; losses printed with enough digits to round-trip an f32.
fn loss_csv(rows: impl Iterator<Item = (u64, f32)>) -> String {
    let mut s = String::from("step,loss\n");
    for (step, loss) in rows {
        s.push_str(&format!("{step},{loss:e}\n"));
    }
    s
}

fn train(request: &AdapterRequest, args: TrainArgs) -> anyhow::Result<ExitCode> {
    use wgconv::teacher_student::{self, Data, TeachConfig};
    let sgd = wgconv::sgd::Sgd {
        lr: args.lr,
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        nesterov: false,
    };
    sgd.validate()?;
    if args.steps == 0 || args.log_every == 0 {
        bail!("--steps and --log-every must be at least 1");
    }
    let data = match (&args.input, args.builtin) {
        (Some(path), _) => Data::Crops(io::read_input(path, ImageOptions::default())?),
        (None, true) => Data::Builtin,
        (None, false) => Data::Random,
    };
    let batch = if args.builtin { 1 } else { args.batch };
    let cfg = TeachConfig {
        steps: args.steps,
        sgd,
        batch,
        seed: args.seed,
        log_every: args.log_every,
        data,
    };
    // Fail on bad inputs (crops of a small image, batch 0) before opening a device.
    teacher_student::make_inputs(&cfg.data, cfg.batch, cfg.seed)?;
    let ctx = open(request)?;
    let bar = indicatif::ProgressBar::new(args.steps);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps  loss {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let run = teacher_student::run(&ctx, &cfg, |first, losses| {
        bar.set_position(first + losses.len() as u64);
        if let Some(l) = losses.last() {
            bar.set_message(format!("{l:.3e}"));
        }
    });
    bar.finish_and_clear();
    let run = run?;
    let (w_err, b_err) = run.max_param_error();
    let final_loss = run.losses.last().map_or(f32::NAN, |&(_, l)| l);
    println!(
        "teacher/student on {}: {} steps in {:.3} s ({:.0} steps/s, losses read back every {} steps)",
        run.shape,
        run.losses.len(),
        run.elapsed.as_secs_f64(),
        run.steps_per_second(),
        args.log_every
    );
    println!(
        "loss: {:e} at step 0, {final_loss:e} at the last step (before its update)",
        run.losses[0].1
    );
    println!("max |w_student − w_teacher| = {w_err:e}; max |b_student − b_teacher| = {b_err:e}");

    let (w, b) = run.student();
    let before = &run.snapshots[0];
    let maps = |w: &Tensor4, b: &[f32]| -> anyhow::Result<Tensor4> {
        let first = Tensor4::new("x", [1, 1, 24, 24], run.x.data[..576].to_vec())?;
        Ok(ctx
            .conv2d_bias_relu_fwd(&ConvShape::SEED, &first, w, b, false)?
            .y)
    };
    let mut outputs = Outputs::new();
    let dir = &args.out;
    outputs.add(
        &dir.join("loss.csv"),
        loss_csv(run.losses.iter().copied()).as_bytes(),
    )?;
    outputs.add_png(
        &dir.join("loss.png"),
        &drawing::loss_curve(
            &run.losses,
            "teacher/student: loss (log scale) against step",
        ),
    )?;
    outputs.add_png(&dir.join("filters.png"), &student_vs_teacher(&run))?;
    outputs.add_png(
        &dir.join("maps_before.png"),
        &pictures::map_grid(
            &maps(&before.1, &before.2)?,
            MapKind::PostRelu,
            Scale::Shared,
        ),
    )?;
    outputs.add_png(
        &dir.join("maps_after.png"),
        &pictures::map_grid(&maps(w, b)?, MapKind::PostRelu, Scale::Shared),
    )?;
    outputs.add_png(
        &dir.join("maps_teacher.png"),
        &pictures::map_grid(
            &maps(&run.teacher_w, &run.teacher_b)?,
            MapKind::PostRelu,
            Scale::Shared,
        ),
    )?;
    let first_input = pictures::stretched_picture(&run.x, 0);
    outputs.add_png(&dir.join("input.png"), &drawing::upscale(&first_input, 8))?;
    if let Some(path) = &args.save {
        outputs.add(path, &weights::safetensors_bytes(w, b)?)?;
    }
    for path in outputs.commit()? {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The student's filters at each snapshot step beside the teacher's: a row per filter.
fn student_vs_teacher(run: &wgconv::teacher_student::TeachRun) -> image::RgbImage {
    let mut all: Vec<(String, &Tensor4)> = run
        .snapshots
        .iter()
        .map(|(step, w, _)| (format!("step {step}"), w))
        .collect();
    all.push(("teacher".to_string(), &run.teacher_w));
    let max = all
        .iter()
        .flat_map(|(_, w)| w.data.iter())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    let mut cells = Vec::new();
    for k in 0..2 {
        for (label, w) in &all {
            let img = pictures::diverging_map(&w.data[k * 25..(k + 1) * 25], 5, 5, max);
            cells.push((format!("k{k} {label}"), drawing::upscale(&img, 16)));
        }
    }
    drawing::grid(&cells, all.len())
}

fn bench(request: &AdapterRequest, args: BenchArgs) -> anyhow::Result<ExitCode> {
    use wgconv::bench::{self, Timer};
    use wgconv::gpu::{Pass, TrainVersions, Trainer};
    if args.repeats < 20 {
        bail!("--repeats must be at least 20 (got {})", args.repeats);
    }
    if args.inner == 0 {
        bail!("--inner must be at least 1");
    }
    if let Some(p) = args.peak_tflops {
        if !(p.is_finite() && p > 0.0) {
            bail!("--peak-tflops must be a positive number (got {p})");
        }
    }
    let passes: Vec<Pass> = match args.pass.as_str() {
        "fwd" => vec![Pass::Forward],
        "bwd" => vec![Pass::Backward],
        "step" => vec![Pass::Step],
        "all" => vec![Pass::Forward, Pass::Backward, Pass::Step],
        other => bail!("--pass {other:?}: use fwd, bwd, step or all"),
    };
    // "fused" is the whole-loop kernel for tiny layers: step pass only.
    let versions: Vec<(&str, TrainVersions)> = {
        let all = [
            ("simple", TrainVersions::all(KernelVersion::Simple)),
            ("tiled", TrainVersions::all(KernelVersion::Tiled)),
            ("fused", TrainVersions::fused()),
        ];
        match &args.kernel {
            None => all.to_vec(),
            Some(name) => vec![*all
                .iter()
                .find(|(n, _)| n == name)
                .with_context(|| format!("--kernel {name:?}: use one of simple, tiled, fused"))?],
        }
    };
    let texts: Vec<String> = match &args.shape {
        Some(s) => vec![s.clone()],
        None => args
            .shapes
            .split(',')
            .map(|s| s.trim().to_string())
            .collect(),
    };
    let mut shapes = Vec::new();
    for text in &texts {
        let (name, shape) = bench::parse_shape(text)?;
        let shape = match args.batch {
            Some(n) => shape.with_batch(n)?,
            None => shape,
        };
        shapes.push((name, shape));
    }
    let ctx = open(request)?;
    let timer_note = if ctx.key_limits().timestamp_query {
        "GPU timestamps"
    } else {
        "wall clock (no timestamp queries on this adapter)"
    };
    println!(
        "timing: {timer_note}; median of {} repeats after {} warm-up",
        args.repeats, args.warmup
    );
    let bar =
        indicatif::ProgressBar::new((shapes.len() * versions.len() * (passes.len() + 1)) as u64);
    let mut rows = Vec::new();
    let mut json = Vec::new();
    let mut failed = false;
    for (name, shape) in &shapes {
        for &(label, versions_all) in &versions {
            let fused = versions_all.fused_loop;
            if fused && !wgconv::gpu::train::fits_fused_loop(shape) {
                bar.inc(1 + passes.len() as u64);
                continue; // the fused loop only takes tiny layers
            }
            bar.set_message(format!("{name} {label} validating"));
            let v = bench::validate(&ctx, shape, versions_all)?;
            bar.inc(1);
            if !v.passed {
                failed = true;
                rows.push(format!(
                    "{name:<10} {:<6} {:<7} FAILED validation on {} (worst {:.3e} of its bound): not timed",
                    "-",
                    label,
                    v.shape,
                    v.worst_ratio
                ));
                continue;
            }
            let (x, t, w, b) = bench::random_problem(shape, 5);
            let trainer = Trainer::new_with(
                &ctx,
                shape,
                &x,
                &t,
                &w,
                &b,
                wgconv::sgd::Sgd::new(1e-6),
                1,
                versions_all,
            )?;
            if fused && !trainer.versions().fused_loop {
                bail!("the fused loop cannot run on this adapter (too few storage buffers or too little workgroup memory)");
            }
            for &pass in &passes {
                if fused && pass != Pass::Step {
                    bar.inc(1);
                    continue; // the fused loop is a whole step
                }
                bar.set_message(format!("{name} {label} {}", bench::pass_name(pass)));
                let timing =
                    bench::time_pass(&ctx, &trainer, pass, args.warmup, args.repeats, args.inner)?;
                bar.inc(1);
                let flops = bench::pass_flops(shape, pass) as f64;
                let gflops = flops / (timing.median_ms * 1e-3) / 1e9;
                let pct = args.peak_tflops.map(|p| 100.0 * gflops / (p * 1e3));
                let mib = trainer.pass_bytes(pass) as f64 / (1 << 20) as f64;
                rows.push(format!(
                    "{name:<10} {:<6} {:<7} {:>10.4} {:>10.4} {:>10.1} {:>7} {:>9.2}  {:.2e} on {}",
                    if fused {
                        "step*"
                    } else {
                        bench::pass_name(pass)
                    },
                    label,
                    timing.median_ms,
                    timing.min_ms,
                    gflops,
                    pct.map_or("-".to_string(), |p| format!("{p:.1}")),
                    mib,
                    v.worst_ratio,
                    v.shape
                ));
                json.push(serde_json::json!({
                    "shape": name,
                    "dims": {"n": shape.n, "c": shape.c, "h": shape.h, "w": shape.w, "k": shape.k,
                             "r": shape.r, "s": shape.s, "stride": shape.stride.0, "pad": shape.padding.0},
                    "pass": bench::pass_name(pass),
                    "kernel": label,
                    "includes_dx": !fused,
                    "median_ms": timing.median_ms,
                    "min_ms": timing.min_ms,
                    "repeats": timing.repeats,
                    "inner": timing.inner,
                    "timer": if timing.timer == Timer::GpuTimestamps { "gpu_timestamps" } else { "wall_clock" },
                    "gflops": gflops,
                    "percent_of_peak": pct,
                    "buffer_bytes": trainer.pass_bytes(pass),
                    "validated_on": v.shape.to_string(),
                    "validation_worst_ratio": v.worst_ratio,
                }));
            }
        }
    }
    bar.finish_and_clear();
    println!(
        "{:<10} {:<6} {:<7} {:>10} {:>10} {:>10} {:>7} {:>9}  validation (worst error/bound on the reduced shape)",
        "shape", "pass", "kernel", "median ms", "min ms", "GFLOP/s", "% peak", "MiB"
    );
    for r in rows {
        println!("{r}");
    }
    if versions.iter().any(|(_, v)| v.fused_loop) {
        println!("step* = the fused loop's step: forward, loss, dW, db and SGD, without dX (training needs none)");
    }
    let doc = serde_json::json!({
        "adapter": ctx.adapter().to_string(),
        "timer": timer_note,
        "results": json,
    });
    if let Some(path) = &args.json {
        let mut outputs = Outputs::new();
        outputs.add(path, serde_json::to_string_pretty(&doc)?.as_bytes())?;
        for p in outputs.commit()? {
            println!("wrote {}", p.display());
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
