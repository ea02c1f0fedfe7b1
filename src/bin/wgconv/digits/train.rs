//! Training: shuffled mini-batches of the training digits, uploaded one by one (the test set is
//! uploaded once), losses read back every few steps for the progress bar, the test accuracy
//! after each epoch.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use wgconv::digits::{self, DeviceSet, Digits, Split, CROP};
use wgconv::{cross_entropy, AdapterRequest, DeviceLabels, DeviceTensor, GpuContext};
use wgconv::{Sequential, SgdOptimizer, Tensor4};

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
    let train_x: Vec<f32> = split.train.iter().flat_map(|&i| data.input(i)).collect();
    let train_y: Vec<u32> = split
        .train
        .iter()
        .map(|&i| u32::from(data.labels[i]))
        .collect();
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
        let (mut pending, mut sum, mut seen) = (Vec::new(), 0.0f64, 0usize);
        for (step, chunk) in order.chunks(s.batch).enumerate() {
            if done == s.steps {
                break;
            }
            done += 1;
            let (x, labels) = batch_of(ctx, &train_x, &train_y, chunk)?;
            let logits = net.forward_train(&x)?;
            let (loss, dlogits) = cross_entropy(ctx, &logits, &labels)?;
            let grads = net.backward(&dlogits)?;
            sgd.step(&mut net, &grads)?;
            pending.push((loss, chunk.len()));
            if done == 1 {
                signals::test_pause("steps");
            }
            let stop = signals::stop_requested();
            let last_step = step + 1 == steps_per_epoch || done == s.steps || stop;
            if pending.len() == READ_EVERY || last_step {
                let mut last = 0.0;
                for (loss, n) in pending.drain(..) {
                    let l = loss.download(ctx)?.data[0];
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

/// The digits `chunk` (positions in the training split) gathered on the host and uploaded.
fn batch_of(
    ctx: &GpuContext,
    x: &[f32],
    y: &[u32],
    chunk: &[usize],
) -> anyhow::Result<(DeviceTensor, DeviceLabels)> {
    let len = CROP * CROP;
    let mut data = Vec::with_capacity(chunk.len() * len);
    for &j in chunk {
        data.extend_from_slice(&x[j * len..(j + 1) * len]);
    }
    let labels: Vec<u32> = chunk.iter().map(|&j| y[j]).collect();
    let t = Tensor4::new("batch", [chunk.len(), 1, CROP, CROP], data)?;
    Ok((
        DeviceTensor::upload(ctx, "batch", &t)?,
        DeviceLabels::upload(ctx, &labels, 10)?,
    ))
}
