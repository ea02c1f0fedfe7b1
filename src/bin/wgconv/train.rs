//! `wgconv train`: the notebook's teacher/student task on the GPU, its loss curve and pictures.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use image::RgbImage;
use indicatif::{ProgressBar, ProgressStyle};

use wgconv::drawing;
use wgconv::figures::{self, Predictions};
use wgconv::gpu::{TrainVersions, WarmUp};
use wgconv::io::{self, ImageOptions};
use wgconv::outputs::Outputs;
use wgconv::pictures::{self, MapKind, Scale};
use wgconv::sgd::Sgd;
use wgconv::teacher_student::{self, Data, TeachConfig, TeachRun};
use wgconv::{weights, AdapterRequest, ConvShape, ConvShapeSpec, GpuContext, Tensor4};

use wgconv::limits::bytes_of;

use crate::loss_log::LossLog;
use crate::shared::{checked_sgd, declare, parse_train_kernel};
use crate::shared::{commit, ensure_binding, ensure_fused_ran, ensure_host, open};
use crate::signals;

#[derive(Args)]
pub struct TrainArgs {
    /// Number of steps (any u64: memory stays flat; loss.png plots at most 4096 evenly spaced
    /// points, loss.csv has every step).
    #[arg(long, allow_negative_numbers = true, default_value_t = 400)]
    steps: u64,
    /// Learning rate.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.5)]
    lr: f32,
    /// Momentum in [0, 1).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.9)]
    momentum: f32,
    /// Weight decay (≥ 0).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    weight_decay: f32,
    /// Images per batch (full-batch training on a fixed set) [default: 4; --builtin is one
    /// image, batch 1].
    #[arg(long, allow_negative_numbers = true)]
    batch: Option<u32>,
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
    #[arg(long, allow_negative_numbers = true, default_value_t = 50)]
    log_every: u32,
    /// Folder for loss.csv, loss.png, prediction_vs_learning.png (the notebook's figure 3.11),
    /// filters.png, maps_before.png, maps_after.png, maps_teacher.png, input.png.
    #[arg(long, value_name = "DIR", default_value = "wgconv-train")]
    out: PathBuf,
    /// Kernel versions: simple, tiled, window (for CPU adapters) or fused (default: the fused loop, which fits the
    /// notebook's layer up to batch 4).
    #[arg(long)]
    kernel: Option<String>,
    /// Also save the student as .safetensors (`weight`, `bias`: torch.nn.Conv2d's names).
    #[arg(long, value_name = "FILE.safetensors")]
    save: Option<PathBuf>,
    /// Teacher and student without biases: the layer has 50 parameters, not 52.
    #[arg(long)]
    no_bias: bool,
}

pub fn run(request: &AdapterRequest, args: TrainArgs) -> anyhow::Result<ExitCode> {
    let cfg = config(&args)?;
    // Fail on bad inputs (crops of a small image, batch 0) before opening a device.
    teacher_student::make_inputs(&cfg.data, cfg.batch, cfg.seed)?;
    let mut outputs = declare_files(&args)?;
    let shape = ConvShape::new(ConvShapeSpec {
        n: cfg.batch,
        ..ConvShape::SEED.spec()
    })?;
    let versions = cfg
        .versions
        .unwrap_or_else(|| TrainVersions::for_shape(&shape));
    // The teacher's targets and the pictures' maps run the forward pass the crate picks.
    let forward = WarmUp::Forward(wgconv::gpu::forward_version_for(&shape));
    let ctx = open(request, &[WarmUp::Train(versions), forward])?;
    if versions.fused_loop && cfg.versions.is_some() && !ctx.has_fused_loop() {
        // Checked before training, not after: the run would fall back to unfused steps.
        ensure_fused_ran(
            cfg.versions,
            TrainVersions {
                fused_loop: false,
                ..versions
            },
        )?;
    }
    // loss.csv goes to its staged file as the losses come back: no memory per step.
    let mut log = LossLog::new(&mut outputs, Some(&args.out.join("loss.csv")))?;
    let run = run_with_progress(&ctx, &cfg, &mut log)?;
    let losses = log.finish()?;
    signals::report_stop(losses.steps);
    let (w_err, b_err) = run.max_param_error();
    println!(
        "teacher/student on {}: {} steps in {:.3} s ({:.0} steps/s, losses read back every {} steps)",
        run.shape,
        losses.steps,
        run.elapsed.as_secs_f64(),
        run.steps_per_second(),
        args.log_every
    );
    println!(
        "loss: {:e} at step 0, {:e} at the last step (before its update)",
        losses.first, losses.last
    );
    match run.shape.bias {
        true => println!(
            "max |w_student − w_teacher| = {w_err:e}; max |b_student − b_teacher| = {b_err:e}"
        ),
        false => println!("max |w_student − w_teacher| = {w_err:e} (no biases)"),
    }
    write_outputs(&ctx, &args, &run, outputs)?;
    Ok(ExitCode::SUCCESS)
}

/// The files `--out DIR` holds.
const OUT_FILES: [&str; 8] = [
    "loss.csv",
    "loss.png",
    "prediction_vs_learning.png",
    "filters.png",
    "maps_before.png",
    "maps_after.png",
    "maps_teacher.png",
    "input.png",
];

/// Every file `train` reads and writes, declared before any GPU work.
fn declare_files(args: &TrainArgs) -> anyhow::Result<Outputs> {
    let inputs: Vec<_> = args
        .input
        .iter()
        .map(|p| ("--input", p.as_path()))
        .collect();
    let mut outputs: Vec<_> = OUT_FILES.map(|f| ("--out", args.out.join(f))).into();
    outputs.extend(args.save.clone().map(|p| ("--save", p)));
    declare(&inputs, &outputs)
}

fn config(args: &TrainArgs) -> anyhow::Result<TeachConfig> {
    let sgd = checked_sgd(Sgd {
        lr: args.lr,
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        nesterov: false,
    })?;
    if args.steps == 0 || args.log_every == 0 {
        bail!("--steps and --log-every must be at least 1");
    }
    let data = match (&args.input, args.builtin) {
        (Some(path), _) => Data::Crops(io::read_input(path, ImageOptions::default())?),
        (None, true) => Data::Builtin,
        (None, false) => Data::Random,
    };
    let batch = match (args.builtin, args.batch) {
        (true, Some(b)) if b != 1 => {
            bail!("--batch {b} with --builtin: the built-in image is one image (batch 1)")
        }
        (true, _) => 1,
        (false, b) => b.unwrap_or(4),
    };
    if batch == 0 {
        bail!("--batch must be at least 1");
    }
    check_counts(batch, args.log_every)?;
    let shape = ConvShape::new(ConvShapeSpec {
        n: batch,
        bias: !args.no_bias,
        ..ConvShape::SEED.spec()
    })?;
    Ok(TeachConfig {
        bias: shape.bias,
        versions: parse_train_kernel(args.kernel.as_deref(), &shape)?,
        steps: args.steps,
        sgd,
        batch,
        seed: args.seed,
        log_every: args.log_every,
        data,
    })
}

/// `--batch` and `--log-every` against what they imply in bytes, before anything is allocated.
fn check_counts(batch: u32, log_every: u32) -> anyhow::Result<()> {
    let flag = format!("--batch {batch}");
    let images = bytes_of(u64::from(batch), 24 * 24 * 4);
    ensure_binding(&flag, "the training images (B, 1, 24, 24)", images)?;
    let maps = bytes_of(u64::from(batch), 2 * 20 * 20 * 4);
    ensure_binding(&flag, "the output maps (B, 2, 20, 20)", maps)?;
    let host = Some(teacher_student::host_bytes(batch));
    ensure_host(&flag, "the images, targets and their uploads", host)?;
    let flag = format!("--log-every {log_every}");
    let log = bytes_of(u64::from(log_every) + 1, 4);
    ensure_binding(&flag, "the loss log read back every --log-every steps", log)?;
    ensure_host(&flag, "the loss log read back every --log-every steps", log)
}

/// The run, with a progress bar that shows the step and the latest loss, and its losses logged.
/// A first SIGINT or SIGTERM stops it after the submission in flight (see [`crate::signals`]).
fn run_with_progress(
    ctx: &GpuContext,
    cfg: &TeachConfig,
    log: &mut LossLog,
) -> anyhow::Result<TeachRun> {
    let bar = ProgressBar::new(cfg.steps);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps  loss {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    signals::stop_gracefully();
    let on_losses = |first, losses: &[f32]| {
        log.record(first, losses);
        bar.set_position(first + losses.len() as u64);
        if let Some(l) = losses.last() {
            bar.set_message(format!("{l:.3e}"));
        }
        if first == 0 {
            signals::test_pause("steps");
        }
    };
    let run = teacher_student::run_until(ctx, cfg, on_losses, signals::stop_requested);
    bar.finish_and_clear();
    Ok(run?)
}

fn write_outputs(
    ctx: &GpuContext,
    args: &TrainArgs,
    run: &TeachRun,
    mut outputs: Outputs,
) -> anyhow::Result<()> {
    let (w, b) = run.student();
    let before = &run.snapshots[0];
    let forward = |x: &Tensor4, shape: &ConvShape, w: &Tensor4, b: &[f32]| {
        ctx.conv2d_bias_relu_fwd(shape, x, w, b, false)
            .map(|out| out.y)
    };
    // The feature maps of the first training image under the given weights.
    let first = Tensor4::new("x", [1, 1, 24, 24], run.x.data[..576].to_vec())?;
    let maps = |w: &Tensor4, b: &[f32], whose: &str| -> anyhow::Result<RgbImage> {
        let y = forward(&first, &run.shape.with_batch(1)?, w, b)?;
        let title = format!("{whose}: feature maps c of the first training image");
        Ok(pictures::map_figure(&y, MapKind::PostRelu, Scale::Shared, &title)?.img)
    };
    let dir = &args.out;
    let points = run.losses.points();
    let title = "teacher/student: loss (log scale) against step";
    let curve = figures::loss_curve(&points, title)?;
    outputs.add_png(&dir.join("loss.png"), &curve)?;
    // Figure 3.11: every output of the whole batch, student against teacher.
    let teacher = forward(&run.x, &run.shape, &run.teacher_w, &run.teacher_b)?;
    let start = forward(&run.x, &run.shape, &before.1, &before.2)?;
    let end = forward(&run.x, &run.shape, w, b)?;
    let predictions = Predictions {
        teacher: &teacher.data,
        before: &start.data,
        after: &end.data,
    };
    let learning = figures::prediction_vs_learning(&predictions, &points)?;
    outputs.add_png(&dir.join("prediction_vs_learning.png"), &learning)?;
    outputs.add_png(&dir.join("filters.png"), &student_vs_teacher(run)?)?;
    let step0 = maps(&before.1, &before.2, "student at step 0")?;
    outputs.add_png(&dir.join("maps_before.png"), &step0)?;
    let last = maps(w, b, "student after training")?;
    outputs.add_png(&dir.join("maps_after.png"), &last)?;
    let teacher = maps(&run.teacher_w, &run.teacher_b, "teacher")?;
    outputs.add_png(&dir.join("maps_teacher.png"), &teacher)?;
    let first_input = pictures::stretched_picture(&run.x, 0);
    outputs.add_png(&dir.join("input.png"), &drawing::upscale(&first_input, 8))?;
    if let Some(path) = &args.save {
        let bias = run.shape.bias.then_some(b);
        outputs.add(path, &weights::safetensors_bytes(w, bias)?)?;
    }
    commit(outputs)
}

/// The student's filters at each snapshot step beside the teacher's: a row per filter, one
/// shared colour bar.
fn student_vs_teacher(run: &TeachRun) -> anyhow::Result<RgbImage> {
    let mut all: Vec<(String, &Tensor4)> = run
        .snapshots
        .iter()
        .map(|(step, w, _)| (format!(", step {step}"), w))
        .collect();
    all.push((", teacher".to_string(), &run.teacher_w));
    let title = "the student's filters while learning, and the teacher's (blue < 0 < red)";
    Ok(pictures::weights_figure(title, &all)?.img)
}
