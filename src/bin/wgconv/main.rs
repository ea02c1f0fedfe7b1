//! The `wgconv` command line: parses the arguments and hands each subcommand to its module.

mod bench;
mod bench_network;
mod bench_report;
mod check;
mod demo;
mod digits;
mod forward;
mod info;
mod layer;
mod loss_log;
mod opening;
mod shared;
mod signals;
mod step;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A convolutional layer (conv + bias + ReLU) in WGSL compute shaders, on any GPU wgpu runs on,
/// checked against an f64 CPU reference.
///
/// Exit status: 0 success, 1 a GPU-vs-CPU check found elements over their bound, 2 an error,
/// 128 + the signal's number when stopped by one (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
#[derive(Parser)]
#[command(name = "wgconv", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    device: shared::DeviceArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every adapter (name, backend, type, driver), the chosen one, and its key limits.
    Info,
    /// Run the layer on an input: y = ReLU(conv(x, w) + b).
    Forward(forward::ForwardArgs),
    /// GPU vs CPU on random shapes (batch, channels, kernel, stride, padding, dilation, groups,
    /// padding mode and bias drawn; edge cases included), every forward kernel version; prints
    /// a table, exits 1 on any failure.
    Check(check::CheckArgs),
    /// The notebook's forward half on the GPU: a 24×24 input, two 5×5 edge filters, stride 1;
    /// prints the computation of c¹₁,₁ and writes PNGs.
    Demo(demo::DemoArgs),
    /// N full-batch SGD steps on (X, T) with MSE loss through the ReLU; writes the new weights
    /// (and bias, with --bias), and on request the last step's gradients and the loss of every step.
    Step(step::StepArgs),
    /// The notebook's "prediction vs learning": a random student learns a hidden teacher layer
    /// (the two 5×5 filters with biases) on the GPU; writes the loss curve, filters and maps.
    Train(train::TrainArgs),
    /// Time each kernel version's passes on benchmark shapes, after validating it against the
    /// CPU reference (GPU timestamps where the adapter has them).
    Bench(bench::BenchArgs),
    /// Conv (K 5×5 filters) + ReLU → max-pool 2 → linear learns the shipped MNIST digits on the GPU; --predict classifies a picture.
    Digits(digits::DigitsArgs),
}

fn main() -> ExitCode {
    let code = match signals::install().and_then(|()| run(Cli::parse())) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    };
    signals::finish(code)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let request = cli.device.request()?;
    match cli.command {
        Command::Info => info::run(&request),
        Command::Forward(args) => forward::run(&request, args),
        Command::Check(args) => check::run(&request, args),
        Command::Demo(args) => demo::run(&request, args),
        Command::Step(args) => step::run(&request, args),
        Command::Train(args) => train::run(&request, args),
        Command::Bench(args) => bench::run(&request, args),
        Command::Digits(args) => digits::run(&request, args),
    }
}
