//! `wgconv demo`: the notebook's forward half on the GPU, its arithmetic and its pictures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use wgconv::gpu::WarmUp;
use wgconv::io::{self, ImageOptions, Input};
use wgconv::AdapterRequest;

use crate::shared::{check_failed, commit, declare, open};

#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the PNGs.
    #[arg(long, value_name = "DIR", default_value = "wgconv-demo")]
    out: PathBuf,
    /// Use this image (resized to 24×24, grayscale) instead of the built-in one.
    #[arg(long, value_name = "IMAGE")]
    input: Option<PathBuf>,
}

pub fn run(request: &AdapterRequest, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let x = match &args.input {
        Some(path) => Some(read_image(path)?),
        None => None,
    };
    let inputs: Vec<_> = args
        .input
        .iter()
        .map(|p| ("--input", p.as_path()))
        .collect();
    let files = wgconv::demo::PICTURES.map(|name| ("--out", args.out.join(name)));
    let mut outputs = declare(&inputs, &files)?;
    let version = wgconv::gpu::forward_version_for(&wgconv::ConvShape::SEED);
    let ctx = open(request, &[WarmUp::Forward(version)])?;
    let demo = wgconv::demo::run(&ctx, x)?;
    print!("{}", demo.report());
    if !demo.check.passed() {
        return Ok(check_failed(
            "GPU and CPU disagree beyond the bound; no pictures written",
        ));
    }
    for (name, img) in demo.pictures()? {
        outputs.add_png(&args.out.join(name), &img)?;
    }
    commit(outputs)?;
    Ok(ExitCode::SUCCESS)
}

/// The demo's input: one 24×24 grayscale image (an image is resized; an array must fit).
fn read_image(path: &Path) -> anyhow::Result<wgconv::Tensor4> {
    let options = ImageOptions {
        rgb: false,
        resize: Some((24, 24)),
    };
    let x = match io::read_any(path)? {
        Input::Image(img) => io::image_to_tensor(&img, options),
        Input::Array(x) => x,
    };
    if x.dims != [1, 1, 24, 24] {
        bail!(
            "--input {}: the demo needs one 24×24 grayscale image, got dims {:?}",
            path.display(),
            x.dims
        );
    }
    Ok(x)
}
