//! Versions chosen by measuring (`gpu::tune`): off by default (the rules choose); on, each pass
//! of a shape is measured once and its choice kept; a run with the choice held repeats bit for
//! bit and equals the chosen version run by name; a tuning file keeps the choices for a new
//! context, which then measures nothing; a bad file is refused, naming its line.

mod common;

use common::device_bits as bits;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wgconv::gpu::KernelVersion;
use wgconv::{
    AdapterRequest, BackwardOptions, Conv2d, Conv2dConfig, DeviceTensor, ForwardOptions,
    GpuContext, Tensor4,
};

fn context() -> GpuContext {
    GpuContext::new(&AdapterRequest::from_env()).expect("a GPU adapter")
}

fn random(dims: [usize; 4], seed: u64) -> Tensor4 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let len = dims.iter().product();
    Tensor4::new(
        "t",
        dims,
        (0..len).map(|_| rng.random_range(-1.0..=1.0)).collect(),
    )
    .unwrap()
}

/// y, dW, db, dX of a 3→16 3×3 layer (padding 1) on a batch of 2, with `options`' versions.
fn step(ctx: &GpuContext, options: (Option<KernelVersion>, BackwardOptions)) -> Vec<Vec<u32>> {
    let config = Conv2dConfig::new(3, 16, (3, 3)).with_padding((1, 1));
    let layer = Conv2d::new(ctx, config, 3).unwrap();
    let x = DeviceTensor::upload(ctx, "x", &random([2, 3, 12, 12], 1)).unwrap();
    let y = layer
        .forward_with(
            &x,
            ForwardOptions {
                want_z: false,
                kernel: options.0,
            },
        )
        .unwrap()
        .y;
    let (y_train, saved) = layer.forward_train(&x).unwrap();
    let dy = DeviceTensor::upload(ctx, "dy", &random(y_train.dims(), 2)).unwrap();
    let g = layer.backward_with(&saved, &dy, options.1).unwrap();
    vec![
        bits(ctx, &y),
        bits(ctx, &g.weight),
        bits(ctx, g.bias.as_ref().unwrap()),
        bits(ctx, g.input.as_ref().unwrap()),
    ]
}

/// A fresh folder under the temp dir for one test (the crate's tests build without `tempfile`).
fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wgconv-tune-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const CHOOSE: BackwardOptions = BackwardOptions {
    input_grad: true,
    weight_kernel: None,
    input_kernel: None,
};

fn version_of(choices: &[(String, String)], pass: &str) -> KernelVersion {
    let (_, v) = choices.iter().find(|(k, _)| k.starts_with(pass)).unwrap();
    KernelVersion::parse(v).unwrap()
}

#[test]
fn measured_choices_are_kept_repeat_and_travel_in_a_file() {
    let ctx = context();
    assert!(!ctx.tunes(), "off by default");
    step(&ctx, (None, CHOOSE));
    assert_eq!(
        ctx.tuned_choices().unwrap(),
        (vec![], 0),
        "nothing measured when off"
    );

    let dir = scratch_dir("kept");
    let file = dir.join("cache").join("tune.txt");
    ctx.set_tuning(true);
    ctx.set_tuning_file(&file).unwrap();
    let first = step(&ctx, (None, CHOOSE));
    let (choices, measured) = ctx.tuned_choices().unwrap();
    // Forward (forward_train runs the same forward: the same key), dW, dX.
    assert_eq!(measured, 3, "{choices:?}");
    assert_eq!(
        step(&ctx, (None, CHOOSE)),
        first,
        "a held choice repeats bit for bit"
    );
    assert_eq!(ctx.tuned_choices().unwrap().1, 3, "measured once per key");
    let pinned = BackwardOptions {
        input_grad: true,
        weight_kernel: Some(version_of(&choices, "WeightGrad")),
        input_kernel: Some(version_of(&choices, "InputGrad")),
    };
    let forward = version_of(&choices, "Forward");
    assert_eq!(
        step(&ctx, (Some(forward), pinned)),
        first,
        "the chosen versions, by name"
    );

    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    let again = context();
    again.set_tuning(true);
    again.set_tuning_file(&file).unwrap();
    assert_eq!(
        step(&again, (None, CHOOSE)),
        first,
        "a warm cache gives the same bits"
    );
    assert_eq!(
        again.tuned_choices().unwrap().1,
        0,
        "nothing measured with the file warm"
    );
}

#[test]
fn a_bad_tuning_file_is_refused_by_line() {
    let ctx = context();
    let dir = scratch_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tune.txt");
    std::fs::write(&file, "simple\tForward x\nfast Forward y\n").unwrap();
    let e = ctx.set_tuning_file(&file).unwrap_err().to_string();
    assert!(e.contains("line 2"), "{e}");
    assert_eq!(ctx.tuned_choices().unwrap(), (vec![], 0), "nothing loaded");
    let _ = std::fs::remove_dir_all(&dir);
}
