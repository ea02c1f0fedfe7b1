//! `wgconv digits`: the notebook's layer (K 5×5 filters, ReLU) + max-pool 2 + a linear layer
//! learns to read the MNIST digits shipped in the crate, on the GPU; `--predict` classifies a
//! picture with a saved model.

mod check;
mod pictures;
mod predict;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use wgconv::digits::MAX_FILTERS;
use wgconv::sgd::Sgd;
use wgconv::AdapterRequest;

use crate::shared::{checked_sgd, ensure_binding};

#[derive(Args)]
pub struct DigitsArgs {
    /// Filters K of the 5×5 convolution (the notebook's layer has 2).
    #[arg(long, allow_negative_numbers = true, default_value_t = 2)]
    filters: u32,
    /// Passes over the 7,996 training digits.
    #[arg(long, allow_negative_numbers = true, default_value_t = 5)]
    epochs: u32,
    /// Digits per SGD step (the last batch of an epoch holds the rest).
    #[arg(long, allow_negative_numbers = true, default_value_t = 64)]
    batch: u32,
    /// Learning rate.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.05)]
    lr: f32,
    /// Momentum in [0, 1).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.9)]
    momentum: f32,
    /// Seed of the initial weights (PyTorch's default ranges) and of each epoch's shuffle.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop after this many steps in all, mid-epoch too (a quick look; the last epoch's line
    /// then covers the digits it saw).
    #[arg(long, allow_negative_numbers = true)]
    steps: Option<u64>,
    /// Folder for the pictures: filters, feature maps, curves, confusion matrix, mistakes.
    #[arg(long, value_name = "DIR", default_value = "wgconv-digits")]
    out: PathBuf,
    /// Also save the trained network as .safetensors (nn.Sequential's names and shapes).
    #[arg(long, value_name = "FILE.safetensors")]
    save: Option<PathBuf>,
    /// Also run a few steps on the f64 CPU twin and report each output's worst error.
    #[arg(long)]
    check: bool,
    /// Classify this picture of one digit (any format the image crate reads) with --load.
    #[arg(long, value_name = "IMAGE", requires = "load", conflicts_with_all = [
        "save", "check", "out", "steps", "filters", "epochs", "batch", "lr", "momentum", "seed"
    ])]
    predict: Option<PathBuf>,
    /// The model --predict uses: a .safetensors file written by --save (or by PyTorch).
    #[arg(long, value_name = "FILE.safetensors", requires = "predict")]
    load: Option<PathBuf>,
}

/// The training settings, checked.
pub struct Settings {
    pub filters: u32,
    pub epochs: u32,
    pub batch: usize,
    pub sgd: Sgd,
    pub seed: u64,
    /// Steps in all: `--steps`, or every batch of every epoch.
    pub steps: u64,
}

/// The most epochs taken (each is 7,996 digits).
const MAX_EPOCHS: u32 = 100_000;

fn settings(args: &DigitsArgs) -> anyhow::Result<Settings> {
    let sgd = checked_sgd(Sgd {
        momentum: args.momentum,
        ..Sgd::new(args.lr)
    })?;
    if args.filters == 0 || args.filters > MAX_FILTERS {
        bail!("--filters {}: 1 to {MAX_FILTERS} are taken", args.filters);
    }
    if args.epochs == 0 || args.epochs > MAX_EPOCHS {
        bail!("--epochs {}: 1 to {MAX_EPOCHS} are taken", args.epochs);
    }
    let train = wgconv::digits::Digits::split().train.len();
    if args.batch == 0 || args.batch as usize > train {
        bail!(
            "--batch {}: 1 to {train} (the training digits) are taken",
            args.batch
        );
    }
    let maps =
        wgconv::limits::bytes_of(u64::from(args.batch) * u64::from(args.filters), 20 * 20 * 4);
    let flags = format!("--batch {} --filters {}", args.batch, args.filters);
    ensure_binding(&flags, "a batch's feature maps (B, K, 20, 20)", maps)?;
    let per_epoch = train.div_ceil(args.batch as usize) as u64;
    let all = u64::from(args.epochs) * per_epoch;
    let steps = match args.steps {
        Some(0) => bail!("--steps must be at least 1"),
        Some(n) => n.min(all),
        None => all,
    };
    Ok(Settings {
        filters: args.filters,
        epochs: args.epochs,
        batch: args.batch as usize,
        sgd,
        seed: args.seed,
        steps,
    })
}

pub fn run(request: &AdapterRequest, args: DigitsArgs) -> anyhow::Result<ExitCode> {
    match (&args.predict, &args.load) {
        (Some(image), Some(model)) => predict::run(request, image, model),
        _ => {
            let s = settings(&args)?;
            train::run(request, &args, &s)
        }
    }
}

/// A batch's largest tensor, the conv's maps (B, K, 20, 20), against the adapter's binding
/// limit, once it is open.
pub fn ensure_fits(ctx: &wgconv::GpuContext, s: &Settings) -> anyhow::Result<()> {
    let needed = (s.batch as u64) * u64::from(s.filters) * 20 * 20 * 4;
    let (max, limit) = ctx.binding_limit();
    if needed > max {
        bail!(
            "--batch {} --filters {}: a batch's feature maps (B, K, 20, 20) need {needed} bytes; \
             this adapter's {limit} is {max}",
            s.batch,
            s.filters
        );
    }
    Ok(())
}
