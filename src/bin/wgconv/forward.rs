//! `wgconv forward`: the layer on an input, with optional check, arrays and pictures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;

use wgconv::gpu::WarmUp;
use wgconv::gpu::{ForwardOutput, KernelVersion};
use wgconv::io::{self, ImageOptions};
use wgconv::outputs::Outputs;
use wgconv::pictures::{self, MapKind, Scale};
use wgconv::{init, notebook, weights, AdapterRequest, ConvShape, Tensor4};

use wgconv::limits::bytes_of;

use crate::layer::LayerArgs;
use crate::shared::{
    check_failed, commit, declare, ensure_binding, ensure_host, open, parse_forward_kernel,
    parse_hw, parse_pair, print_check,
};

#[derive(Args)]
pub struct ForwardArgs {
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
    /// Weights as a .npy array (K, C/G, R, S) for G groups (or (R, S) for one filter).
    #[arg(long, value_name = "W.npy", conflicts_with = "filters")]
    weight: Option<PathBuf>,
    /// Built-in filters: `seed` (the notebook's two 5×5 edge detectors: vertical, horizontal)
    /// or `random:K` (K filters (K, C/G, R, S) uniform in ±1/√(C/G·R·S), from --seed).
    /// Default: seed.
    #[arg(long, value_name = "seed|random:K")]
    filters: Option<String>,
    /// Kernel size R or R,S for `--filters random:K` [default: 5].
    #[arg(long, value_name = "R|R,S", value_parser = parse_pair)]
    kernel_size: Option<(u32, u32)>,
    /// Bias as a .npy array (K). Default: zeros.
    #[arg(long, value_name = "B.npy")]
    bias: Option<PathBuf>,
    #[command(flatten)]
    layer: LayerArgs,
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
    /// Seed for `--filters random:K` [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Forward kernel version: simple or tiled (default: picked for the shape); fused is a
    /// training loop and is refused here.
    #[arg(long, value_name = "NAME")]
    kernel: Option<String>,
}

/// Everything `forward` reads and validates before any GPU work.
struct Problem {
    x: Tensor4,
    w: Tensor4,
    b: Vec<f32>,
    shape: ConvShape,
    scale: Scale,
    version: KernelVersion,
}

pub fn run(request: &AdapterRequest, args: ForwardArgs) -> anyhow::Result<ExitCode> {
    let p = read_problem(&args)?;
    let outputs = declare_files(&args, &p.shape)?;
    let ctx = open(request, &[WarmUp::Forward(p.version)])?;
    let shape = &p.shape;
    println!("shape: {shape}");
    println!(
        "parameters: {} weights + {} biases = {}; {} FLOPs",
        shape.weight_len(),
        shape.k,
        shape.param_count(),
        shape.forward_flops()
    );
    let want_z = args.pre_activation.is_some() || args.maps.is_some();
    println!("forward kernel: {}", p.version.name());
    let started = Instant::now();
    let out = ctx.conv2d_bias_relu_fwd_with(p.version, shape, &p.x, &p.w, &p.b, want_z)?;
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
    if args.check && !check(&p, &out) {
        return Ok(check_failed("elements over their bound; no output written"));
    }
    write_outputs(outputs, &args, &p, &out)?;
    Ok(ExitCode::SUCCESS)
}

/// The pictures `--maps DIR` holds, besides `--per-map`'s.
const MAP_FILES: [&str; 4] = [
    "feature_maps.png",
    "pre_activation.png",
    "filters.png",
    "input.png",
];

/// Every file `forward` reads and writes, declared before any GPU work.
fn declare_files(args: &ForwardArgs, shape: &ConvShape) -> anyhow::Result<Outputs> {
    let mut inputs = vec![("--input", args.input.as_path())];
    inputs.extend(args.weight.as_deref().map(|p| ("--weight", p)));
    inputs.extend(args.bias.as_deref().map(|p| ("--bias", p)));
    let mut outputs = Vec::new();
    outputs.extend(args.output.clone().map(|p| ("--output", p)));
    let z = args.pre_activation.clone();
    outputs.extend(z.map(|p| ("--pre-activation", p)));
    if let Some(dir) = &args.maps {
        outputs.extend(MAP_FILES.map(|name| ("--maps", dir.join(name))));
        if args.per_map {
            for prefix in ["y", "z"] {
                for n in 0..shape.n {
                    for k in 0..shape.k {
                        let name = format!("{prefix}_n{n}_k{k}.png");
                        outputs.push(("--per-map", dir.join(name)));
                    }
                }
            }
        }
    }
    declare(&inputs, &outputs)
}

fn read_problem(args: &ForwardArgs) -> anyhow::Result<Problem> {
    if let Some(hw) = args.resize {
        check_resize(hw, args.rgb)?;
    }
    let options = ImageOptions {
        rgb: args.rgb,
        resize: args.resize,
    };
    let x = io::read_input(&args.input, options)?;
    let w = weights_for(args, channels_per_group(x.dims[1], args.layer.groups()))?;
    let b = match &args.bias {
        Some(path) => weights::read_bias(path)?,
        None => vec![0.0; w.dims[0]],
    };
    // Without --bias the layer adds zeros: the same output as a layer without bias.
    let shape = ConvShape::of_dims(x.dims, w.dims, &args.layer.options(true))?;
    wgconv::gpu::check_forward_inputs(&shape, &x, &w, &b)?;
    let scale = match args.fixed_scale {
        None => Scale::PerMap,
        Some(None) => Scale::Shared,
        Some(Some(v)) if v.is_finite() && v > 0.0 => Scale::Fixed(v),
        Some(Some(v)) => bail!("--fixed-scale must be a positive number (got {v})"),
    };
    let version = match &args.kernel {
        Some(name) => parse_forward_kernel(name)?,
        None => wgconv::gpu::forward_version_for(&shape),
    };
    Ok(Problem {
        x,
        w,
        b,
        shape,
        scale,
        version,
    })
}

/// C/G input channels per filter; C itself where G is 0 or does not divide C, which the shape
/// then refuses with its reason.
fn channels_per_group(c: usize, groups: u32) -> usize {
    match groups as usize {
        g if g > 0 && c.is_multiple_of(g) => c / g,
        _ => c,
    }
}

/// The weights: a .npy file, or built-in seed/random filters for `c` = C/G channels. `--kernel-size`
/// and `--seed` shape random filters only: given with other weights they are an error.
fn weights_for(args: &ForwardArgs, c: usize) -> anyhow::Result<Tensor4> {
    let spec = args.filters.as_deref().unwrap_or("seed");
    if args.weight.is_some() || spec == "seed" {
        let from = match &args.weight {
            Some(_) => "--weight",
            None => "the seed filters",
        };
        for (flag, given) in [
            ("--kernel-size", args.kernel_size.is_some()),
            ("--seed", args.seed.is_some()),
        ] {
            if given {
                bail!("{flag} applies to --filters random:K only, not to {from}");
            }
        }
    }
    if let Some(path) = &args.weight {
        return Ok(weights::read_weight(path)?);
    }
    if spec == "seed" {
        return Ok(notebook::filters_for_channels(c));
    }
    let k = spec
        .strip_prefix("random:")
        .and_then(|k| k.parse::<usize>().ok())
        .filter(|&k| k > 0)
        .with_context(|| format!("--filters {spec:?}: use `seed` or `random:K` with K ≥ 1"))?;
    let (r, s) = args.kernel_size.unwrap_or((5, 5));
    if r == 0 || s == 0 {
        bail!("--kernel-size must be at least 1");
    }
    let flag = format!("--filters {spec} --kernel-size {r},{s}");
    let what = format!("the filters (K, C/G, R, S) = ({k}, {c}, {r}, {s}) as f32");
    let bytes = [k as u64, c as u64, r.into(), s.into()]
        .into_iter()
        .try_fold(4u64, u64::checked_mul);
    ensure_binding(&flag, &what, bytes)?;
    ensure_host(&flag, &what, bytes)?;
    let seed = args.seed.unwrap_or(0);
    Ok(init::random_filters(k, c, r as usize, s as usize, seed))
}

/// `--resize HxW` against what it implies, before the image is read: one image is one binding
/// (batches split by whole images), and resizing holds it at up to 16 bytes a pixel (RGBA f32)
/// next to its f32 copies.
fn check_resize((h, w): (u32, u32), rgb: bool) -> anyhow::Result<()> {
    let flag = format!("--resize {h}x{w}");
    let pixels = u64::from(h) * u64::from(w);
    let channels = if rgb { 3 } else { 1 };
    let tensor = bytes_of(pixels, 4 * channels);
    ensure_binding(&flag, "the resized image as f32", tensor)?;
    ensure_host(
        &flag,
        "resizing the image",
        bytes_of(pixels, 16 + 8 * channels),
    )
}

/// Compares y (and z) with the f64 CPU reference and prints the outcome; true when all pass.
fn check(p: &Problem, out: &ForwardOutput) -> bool {
    let case = wgconv::check::Case {
        family: "forward",
        shape: p.shape,
        x: p.x.clone(),
        w: p.w.clone(),
        b: p.b.clone(),
    };
    let r = wgconv::check::compare_forward(&case, &out.y, out.z.as_ref());
    print_check("y", &r.y);
    if out.z.is_some() {
        print_check("z", &r.z);
    }
    r.passed()
}

fn write_outputs(
    mut outputs: Outputs,
    args: &ForwardArgs,
    p: &Problem,
    out: &ForwardOutput,
) -> anyhow::Result<()> {
    if let Some(path) = &args.output {
        outputs.add_npy(path, &out.y)?;
    }
    if let (Some(path), Some(z)) = (&args.pre_activation, &out.z) {
        outputs.add_npy(path, z)?;
    }
    if let Some(dir) = &args.maps {
        stage_maps(&mut outputs, dir, p, out, args.per_map)?;
    }
    commit(outputs)
}

fn stage_maps(
    outputs: &mut Outputs,
    dir: &Path,
    p: &Problem,
    out: &ForwardOutput,
    per_map: bool,
) -> anyhow::Result<()> {
    let (y, z, scale) = (&out.y, out.z.as_ref(), p.scale);
    let maps = |t, kind| pictures::map_grid(t, kind, scale);

    outputs.add_png(&dir.join("feature_maps.png"), &maps(y, MapKind::PostRelu)?)?;
    if let Some(z) = z {
        let img = maps(z, MapKind::PreActivation)?;
        outputs.add_png(&dir.join("pre_activation.png"), &img)?;
    }
    outputs.add_png(&dir.join("filters.png"), &pictures::filter_grid(&p.w)?)?;
    outputs.add_png(&dir.join("input.png"), &pictures::input_picture(&p.x, 0))?;
    if per_map {
        let mut each = |prefix: &str, t, kind| -> anyhow::Result<()> {
            for (label, img) in pictures::map_pictures(t, kind, scale) {
                let name = format!("{prefix}_{}.png", label.replace(' ', "_"));
                outputs.add_png(&dir.join(name), &img)?;
            }
            Ok(())
        };
        each("y", y, MapKind::PostRelu)?;
        if let Some(z) = z {
            each("z", z, MapKind::PreActivation)?;
        }
    }
    Ok(())
}
