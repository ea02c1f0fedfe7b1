//! Training: the training and test digits uploaded once; each epoch uploads its shuffled order
//! and cuts its mini-batches from the digits on the device (`DeviceTensor::gather`); the
//! losses are read back together every few steps for the progress bar, the test logits after
//! each epoch for its accuracy.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use wgconv::digits::{self, DeviceSet, Digits, Split, CROP};
use wgconv::{cross_entropy, AdapterRequest, DeviceIndices, DeviceLabels, DeviceTensor};
use wgconv::{GpuContext, Sequential, SgdOptimizer, Tensor4};

use super::pictures::{self, OUT_FILES};
use super::{DigitsArgs, Settings};
use crate::shared::{check_failed, commit, declare, open};
use crate::signals;

/// Steps whose losses are read back together (one readback per progress update).
const READ_EVERY: usize = 16;

/// What an epoch left: the mean training loss (over its digits), the test accuracy, its time.
pub struct Epoch {
    pub loss: f64,
    pub correct: usize,
    pub elapsed: Duration,
}

/// A finished run: its network, epochs, and the test set's final logits.
pub struct Trained {
    pub net: Sequential,
    pub epochs: Vec<Epoch>,
    pub test_logits: Vec<f32>,
    /// Every step's loss, in order.
    pub step_losses: Vec<f32>,
    pub steps_per_epoch: usize,
}

pub fn run(request: &AdapterRequest, args: &DigitsArgs, s: &Settings) -> anyhow::Result<ExitCode> {
    let mut files: Vec<_> = OUT_FILES.map(|f| ("--out", args.out.join(f))).into();
    files.extend(args.save.clone().map(|p| ("--save", p)));
    let mut outputs = declare(&[], &files)?;
    let data = Digits::load()?;
    let split = Digits::split();
    let ctx = open(request, &[])?;
    super::ensure_fits(&ctx, s)?;
    if args.check && !super::check::run(&ctx, &data, &split, s)? {
        return Ok(check_failed(
            "an output of a training step is over its bound",
        ));
    }
    let trained = train(&ctx, &data, &split, s)?;
    signals::report_stop(trained.step_losses.len() as u64);
    pictures::add(&mut outputs, &args.out, &trained, &data, &split)?;
    if let Some(path) = &args.save {
        outputs.add(path, &trained.net.to_safetensors()?)?;
    }
    commit(outputs)?;
    Ok(ExitCode::SUCCESS)
}

/// The whole run, printing a line per epoch. A first SIGINT or SIGTERM stops it after the step
/// in flight: that epoch ends there (its line, its test accuracy), and the outputs are those of
/// the steps done.
pub fn train(
    ctx: &GpuContext,
    data: &Digits,
    split: &Split,
    s: &Settings,
) -> anyhow::Result<Trained> {
    let mut net = digits::network(ctx, s.filters, s.seed)?;
    println!(
        "{}: {} parameters; {} training digits, {} test digits; batch {}, lr {}, momentum {}",
        net.torch_code(),
        26 * s.filters as usize + (1000 * s.filters as usize + 10),
        split.train.len(),
        split.test.len(),
        s.batch,
        s.sgd.lr,
        s.sgd.momentum
    );
    let test = DeviceSet::upload(ctx, data, &split.test)?;
    let (train_x, train_y) = upload_train(ctx, data, split)?;
    let steps_per_epoch = split.train.len().div_ceil(s.batch);
    let bar = progress(s.steps);
    let mut done = 0u64;
    let mut sgd = SgdOptimizer::new(s.sgd);
    let (mut epochs, mut test_logits, mut step_losses) = (Vec::new(), Vec::new(), Vec::new());
    signals::stop_gracefully();
    for epoch in 0..s.epochs {
        if done == s.steps || signals::stop_requested() {
            break;
        }
        let start = Instant::now();
        let order = digits::shuffled(split.train.len(), s.seed, u64::from(epoch));
        let order: Vec<u32> = order.iter().map(|&j| j as u32).collect();
        let order = DeviceIndices::upload(ctx, &order, split.train.len())?;
        let (mut pending, mut sum, mut seen) = (Vec::new(), 0.0f64, 0usize);
        for step in 0..steps_per_epoch {
            if done == s.steps {
                break;
            }
            done += 1;
            let batch = step * s.batch..((step + 1) * s.batch).min(split.train.len());
            let x = train_x.gather(&order, batch.clone())?;
            let labels = train_y.gather(&order, batch.clone())?;
            let logits = net.forward_train(&x)?;
            let (loss, dlogits) = cross_entropy(ctx, &logits, &labels)?;
            let grads = net.backward(&dlogits)?;
            sgd.step(&mut net, &grads)?;
            pending.push((loss, batch.len()));
            if done == 1 {
                signals::test_pause("steps");
            }
            let stop = signals::stop_requested();
            let last_step = step + 1 == steps_per_epoch || done == s.steps || stop;
            if pending.len() == READ_EVERY || last_step {
                let mut last = 0.0;
                let losses: Vec<&DeviceTensor> = pending.iter().map(|(l, _)| l).collect();
                let losses = DeviceTensor::download_all(ctx, &losses)?;
                for (loss, (_, n)) in losses.iter().zip(pending.drain(..)) {
                    let l = loss.data[0];
                    step_losses.push(l);
                    last = f64::from(l);
                    sum += last * n as f64;
                    seen += n;
                }
                bar.set_position(done);
                bar.set_message(format!("epoch {}  loss {last:.4}", epoch + 1));
            }
            if stop {
                break;
            }
        }
        test_logits = digits::logits(&net, &test)?;
        let correct = digits::predictions(&test_logits)
            .iter()
            .zip(&test.labels)
            .filter(|(p, l)| p == l)
            .count();
        let e = Epoch {
            loss: sum / seen.max(1) as f64,
            correct,
            elapsed: start.elapsed(),
        };
        bar.suspend(|| print_epoch(epoch + 1, s.epochs, &e, test.labels.len()));
        epochs.push(e);
    }
    bar.finish_and_clear();
    Ok(Trained {
        net,
        epochs,
        test_logits,
        step_losses,
        steps_per_epoch,
    })
}

fn print_epoch(epoch: u32, of: u32, e: &Epoch, tests: usize) {
    println!(
        "epoch {epoch}/{of}: mean training loss {:.4}, test accuracy {:.2} % ({}/{tests}), {:.2} s",
        e.loss,
        100.0 * e.correct as f64 / tests as f64,
        e.correct,
        e.elapsed.as_secs_f64()
    );
}

fn progress(steps: u64) -> ProgressBar {
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The training digits (in the split's order) and their labels, uploaded once.
fn upload_train(
    ctx: &GpuContext,
    data: &Digits,
    split: &Split,
) -> anyhow::Result<(DeviceTensor, DeviceLabels)> {
    let x: Vec<f32> = split.train.iter().flat_map(|&i| data.input(i)).collect();
    let y: Vec<u32> = split
        .train
        .iter()
        .map(|&i| u32::from(data.labels[i]))
        .collect();
    let x = Tensor4::new("training digits", [y.len(), 1, CROP, CROP], x)?;
    Ok((
        DeviceTensor::upload(ctx, "training digits", &x)?,
        DeviceLabels::upload(ctx, &y, 10)?,
    ))
}
