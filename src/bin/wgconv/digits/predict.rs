//! `--predict IMAGE --load FILE`: one picture through a saved network.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use wgconv::digits::{self, prepare_picture};
use wgconv::io::{read_any, Input};
use wgconv::AdapterRequest;

use crate::shared::{declare, open};

pub fn run(request: &AdapterRequest, image: &Path, model: &Path) -> anyhow::Result<ExitCode> {
    // Nothing is written; the inputs are checked (they exist, are regular files) as elsewhere.
    declare(&[("--predict", image), ("--load", model)], &[])?;
    let img = match read_any(image).with_context(|| format!("--predict {}", image.display()))? {
        Input::Image(img) => img,
        Input::Array(_) => anyhow::bail!(
            "--predict {}: a .npy array; a picture of one digit (PNG, JPEG, …) is expected",
            image.display()
        ),
    };
    let bytes = std::fs::read(model).with_context(|| format!("--load {}", model.display()))?;
    let filters =
        digits::filters_of(&bytes).with_context(|| format!("--load {}", model.display()))?;
    let prepared = prepare_picture(&img);
    let ctx = open(request, &[])?;
    let mut net = digits::network(&ctx, filters, 0)?;
    net.load_safetensors(&bytes)
        .with_context(|| format!("--load {}", model.display()))?;
    if let Some((w, h)) = prepared.resized_from {
        println!("the picture is {w}×{h}: resized to 28×28");
    }
    if prepared.inverted {
        println!("the picture is a dark digit on a light background: inverted (MNIST's are light on dark)");
    }
    let logits = digits::classify(&net, &prepared.input)?;
    let p = digits::softmax(&logits);
    let best = digits::predictions(&logits)[0];
    println!("predicted: {best}");
    for (d, v) in p.iter().enumerate() {
        println!("  {d}: {v:.6}");
    }
    Ok(ExitCode::SUCCESS)
}
