//! `wgconv step`: N full-batch SGD steps on (X, T), the new weights (and bias) written out.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use clap::Args;

use wgconv::gpu::TrainVersions;
use wgconv::gpu::WarmUp;
use wgconv::io::{self, ImageOptions};
use wgconv::outputs::Outputs;
use wgconv::sgd::Sgd;
use wgconv::{weights, AdapterRequest, ConvShape, Tensor4};
use wgconv::{Conv2d, Conv2dConfig, Trainer, TrainerOptions};

use crate::layer::LayerArgs;
use crate::loss_log::LossLog;
use crate::shared::{
    check_failed, checked_sgd, commit, declare, ensure_fused_ran, open, parse_train_kernel,
    print_check,
};
use crate::signals;

#[derive(Args)]
pub struct StepArgs {
    /// Input x: .npy (or an image), rank 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W).
    #[arg(long, value_name = "X.npy")]
    input: PathBuf,
    /// Weights (K, C/G, R, S) for G groups: .npy or .safetensors (tensor "weight").
    #[arg(long, value_name = "W.npy")]
    weight: PathBuf,
    /// Bias (K): .npy or .safetensors (tensor "bias"). Without it the layer has no bias.
    #[arg(long, value_name = "B.npy")]
    bias: Option<PathBuf>,
    /// Target t, the output's shape (N, K, P, Q) (rank 2 or 3 when N, K are 1).
    #[arg(long, value_name = "T.npy")]
    target: PathBuf,
    /// Learning rate (> 0).
    #[arg(long, allow_hyphen_values = true)]
    lr: f32,
    /// Momentum in [0, 1).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    momentum: f32,
    /// Weight decay (L2, ≥ 0), applied to weight and bias as torch.optim.SGD does.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    weight_decay: f32,
    /// Nesterov momentum.
    #[arg(long)]
    nesterov: bool,
    /// Number of full-batch steps (any u64: memory stays flat however many; the loss log
    /// grows on disk as it runs).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    steps: u64,
    #[command(flatten)]
    layer: LayerArgs,
    /// Where to write the updated weights (.npy).
    #[arg(long, value_name = "W2.npy")]
    out_weight: PathBuf,
    /// Where to write the updated bias (.npy); needs --bias.
    #[arg(long, value_name = "B2.npy")]
    out_bias: Option<PathBuf>,
    /// dL/dw of the last step, before its update, without weight decay.
    #[arg(long, value_name = "DW.npy")]
    grad_weight: Option<PathBuf>,
    /// dL/db of the last step, before its update, without weight decay; needs --bias.
    #[arg(long, value_name = "DB.npy")]
    grad_bias: Option<PathBuf>,
    /// dL/dx of the last step.
    #[arg(long, value_name = "DX.npy")]
    grad_input: Option<PathBuf>,
    /// CSV with header `step,loss`, one row per step (0-based): the loss before its update.
    #[arg(long, value_name = "loss.csv")]
    loss_log: Option<PathBuf>,
    /// Kernel versions: simple, tiled, window (for CPU adapters) or fused (default: picked for the shape, the fused loop
    /// where the layer fits it; a last step that writes dX runs unfused).
    #[arg(long)]
    kernel: Option<String>,
    /// Also run every step's kernels on the f64 CPU reference (from the GPU's state) and report
    /// the worst deviation of each output against its bound; exit 1 if any is over.
    #[arg(long)]
    check: bool,
}

/// The training problem, read and validated before any GPU work.
struct Problem {
    x: Tensor4,
    t: Tensor4,
    w: Tensor4,
    b: Vec<f32>,
    shape: ConvShape,
    sgd: Sgd,
    versions: Option<TrainVersions>,
}

pub fn run(request: &AdapterRequest, args: StepArgs) -> anyhow::Result<ExitCode> {
    let p = read_problem(&args)?;
    let mut outputs = declare_files(&args)?;
    let versions = p
        .versions
        .unwrap_or_else(|| TrainVersions::for_shape(&p.shape));
    let ctx = open(request, &[WarmUp::Train(versions)])?;
    println!("shape: {}", p.shape);
    let log_capacity = args.steps.min(1024) as u32;
    let b = p.shape.bias.then_some(p.b.as_slice());
    let layer = Conv2d::from_weights(&ctx, Conv2dConfig::of_shape(&p.shape), &p.w, b)?;
    let mut options = TrainerOptions::new(p.sgd).with_log_capacity(log_capacity);
    options.versions = p.versions;
    let mut trainer = Trainer::new(layer, &p.x, &p.t, options)?;
    ensure_fused_ran(p.versions, trainer.versions())?;
    let want_dx = args.grad_input.is_some();
    // The loss log goes to its staged file as the losses come back: no memory per step.
    let mut log = LossLog::new(&mut outputs, args.loss_log.as_deref())?;
    let started = Instant::now();
    if args.check {
        if !checked(&mut trainer, &p, args.steps, want_dx, &mut log)? {
            return Ok(check_failed("elements over their bound; no output written"));
        }
    } else {
        run_steps(&mut trainer, args.steps, want_dx, log_capacity, &mut log)?;
    }
    let losses = log.finish()?;
    let elapsed = started.elapsed().as_secs_f64();
    signals::report_stop(losses.steps);
    println!(
        "{} step(s) in {:.3} s ({:.0} steps/s); loss {:e} → {:e} (before the first and the last update)",
        losses.steps,
        elapsed,
        losses.steps as f64 / elapsed.max(1e-9),
        losses.first,
        losses.last
    );
    write_outputs(outputs, &args, &trainer)?;
    Ok(ExitCode::SUCCESS)
}

/// Every file `step` reads and writes, declared before any GPU work.
fn declare_files(args: &StepArgs) -> anyhow::Result<Outputs> {
    let mut inputs = vec![
        ("--input", args.input.as_path()),
        ("--weight", args.weight.as_path()),
        ("--target", args.target.as_path()),
    ];
    inputs.extend(args.bias.as_deref().map(|p| ("--bias", p)));
    let mut outputs = vec![("--out-weight", args.out_weight.clone())];
    let optional = [
        ("--out-bias", &args.out_bias),
        ("--grad-weight", &args.grad_weight),
        ("--grad-bias", &args.grad_bias),
        ("--grad-input", &args.grad_input),
        ("--loss-log", &args.loss_log),
    ];
    for (flag, path) in optional {
        outputs.extend(path.clone().map(|p| (flag, p)));
    }
    declare(&inputs, &outputs)
}

fn read_problem(args: &StepArgs) -> anyhow::Result<Problem> {
    let sgd = checked_sgd(Sgd {
        lr: args.lr,
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        nesterov: args.nesterov,
    })?;
    if args.steps == 0 {
        bail!("--steps must be at least 1");
    }
    refuse_bias_outputs_without_bias(args)?;
    let x = io::read_input(&args.input, ImageOptions::default())?;
    let w = weights::read_weight(&args.weight)?;
    let b = match &args.bias {
        Some(path) => weights::read_bias(path)?,
        None => Vec::new(),
    };
    let options = args.layer.options(args.bias.is_some());
    let shape = ConvShape::of_dims(x.dims, w.dims, &options)?;
    wgconv::gpu::check_forward_inputs(&shape, &x, &w, &b)?;
    let t = read_target(&args.target, &shape)?;
    t.ensure_finite("target t")?;
    let versions = parse_train_kernel(args.kernel.as_deref(), &shape)?;
    Ok(Problem {
        x,
        t,
        w,
        b,
        shape,
        sgd,
        versions,
    })
}

/// Without --bias the layer has no bias: nothing for --out-bias or --grad-bias to hold.
fn refuse_bias_outputs_without_bias(args: &StepArgs) -> anyhow::Result<()> {
    if args.bias.is_some() {
        return Ok(());
    }
    for (flag, given) in [
        ("--out-bias", args.out_bias.is_some()),
        ("--grad-bias", args.grad_bias.is_some()),
    ] {
        if given {
            bail!("{flag} needs --bias: without it the layer has no bias");
        }
    }
    Ok(())
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

/// The steps, a submission of `per_submission` at a time. From the first on, a first SIGINT or
/// SIGTERM stops them after the submission in flight (see [`crate::signals`]); with `want_dx`
/// each submission's last step also makes dL/dx, so that it is the last step's wherever they
/// stop.
fn run_steps(
    trainer: &mut Trainer,
    steps: u64,
    want_dx: bool,
    per_submission: u32,
    log: &mut LossLog,
) -> anyhow::Result<()> {
    signals::stop_gracefully();
    let mut done = 0;
    while done < steps {
        let n = (steps - done).min(u64::from(per_submission));
        trainer.run(n, want_dx, |first, l| log.record(first, l))?;
        if done == 0 {
            signals::test_pause("steps");
        }
        done += n;
        if signals::stop_requested() {
            break;
        }
    }
    Ok(())
}

/// The steps, each checked against the CPU reference and its loss logged; whether all passed.
fn checked(
    trainer: &mut Trainer,
    p: &Problem,
    steps: u64,
    want_dx: bool,
    log: &mut LossLog,
) -> anyhow::Result<bool> {
    let check = wgconv::step_check::checked_steps_with(
        trainer,
        (&p.x, &p.t),
        steps,
        want_dx,
        |step, loss| log.record(step, &[loss]),
    )?;
    for (name, c) in check.outputs() {
        print_check(name, &c);
    }
    println!(
        "ReLU mask: {} unexplained differences",
        check.mask_mismatches
    );
    Ok(check.passed())
}

fn write_outputs(mut outputs: Outputs, args: &StepArgs, trainer: &Trainer) -> anyhow::Result<()> {
    let state = trainer.read_state()?;
    // A finite loss can hide non-finite weights behind the ReLU (every output cut to 0).
    state.w.ensure_finite("updated weights")?;
    wgconv::tensor::ensure_finite_slice("updated bias", &state.b)?;
    outputs.add_npy(&args.out_weight, &state.w)?;
    if let Some(p) = &args.out_bias {
        outputs.add_npy_vec(p, &state.b)?;
    }
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
    commit(outputs)
}
