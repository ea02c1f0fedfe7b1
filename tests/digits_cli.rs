//! `wgconv digits` end to end: a short run's --save (nn.Sequential's names and shapes) and
//! --out pictures, --predict on the shipped example digit (as it is, inverted, resized), and
//! bad inputs (exit 2, the reason, nothing written).

mod common;

use std::path::{Path, PathBuf};

use common::tree::refused;
use common::wgconv;

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/digits")
        .join(name)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn a_short_run_saves_pytorch_names_and_draws_every_picture() {
    let d = tmp();
    let args = ["digits", "--filters", "3", "--steps", "4", "--batch", "32"];
    let r = wgconv(
        d.path(),
        &[
            &args[..],
            &["--save", "m.safetensors", "--out", "pics", "--check"],
        ]
        .concat(),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("epoch 1/5:"))
        .expect("an epoch line");
    assert!(
        line.contains("mean training loss") && line.contains("test accuracy"),
        "{line}"
    );
    let bytes = std::fs::read(d.path().join("m.safetensors")).expect("saved");
    let st = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let mut names: Vec<(String, Vec<usize>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.shape().to_vec()))
        .collect();
    names.sort();
    let expected = [
        ("0.bias", vec![3]),
        ("0.weight", vec![3, 1, 5, 5]),
        ("4.bias", vec![10]),
        ("4.weight", vec![10, 300]),
    ];
    let expected: Vec<(String, Vec<usize>)> = expected
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .collect();
    assert_eq!(names, expected);
    for f in [
        "filters.png",
        "maps_input.png",
        "maps_conv.png",
        "maps_pool.png",
        "curves.png",
        "confusion.png",
        "mistakes.png",
    ] {
        let img = image::open(d.path().join("pics").join(f)).expect(f);
        assert!(img.width() > 300 && img.height() > 200, "{f}");
    }
}

/// The ten probabilities printed after `predicted: D`, and D.
fn prediction(stdout: &str) -> (u32, Vec<f64>) {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("predicted: "));
    let first = lines.next().expect("a prediction");
    let d = first["predicted: ".len()..]
        .trim()
        .parse()
        .expect("a digit");
    let p = lines
        .take(10)
        .map(|l| {
            l.split(':')
                .nth(1)
                .expect("d: p")
                .trim()
                .parse()
                .expect("p")
        })
        .collect();
    (d, p)
}

#[test]
fn predict_reads_the_shipped_example_as_it_is_inverted_and_resized() {
    let d = tmp();
    let model = asset("model-k2.safetensors");
    let model = model.to_str().expect("utf-8");
    let example = asset("example-7.png");
    let run = |picture: &Path| {
        let r = wgconv(
            d.path(),
            &[
                "digits",
                "--predict",
                picture.to_str().expect("utf-8"),
                "--load",
                model,
            ],
        );
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        r.stdout
    };
    let out = run(&example);
    let (digit, p) = prediction(&out);
    assert_eq!(digit, 7, "{out}");
    assert_eq!(p.len(), 10);
    // Ten values printed to 6 decimals: the sum is 1 within 10 roundings of 5e-7.
    assert!((p.iter().sum::<f64>() - 1.0).abs() <= 5e-6, "{p:?}");
    assert!(
        !out.contains("inverted") && !out.contains("resized"),
        "{out}"
    );
    let img = image::open(&example).expect("example").to_luma8();
    let mut dark = img.clone();
    dark.pixels_mut().for_each(|p| p.0[0] = 255 - p.0[0]);
    dark.save(d.path().join("dark.png")).expect("write");
    let out = run(&d.path().join("dark.png"));
    assert!(out.contains("inverted"), "{out}");
    assert_eq!(prediction(&out).0, 7, "{out}");
    let big = image::imageops::resize(&img, 112, 112, image::imageops::FilterType::Nearest);
    big.save(d.path().join("big.png")).expect("write");
    let out = run(&d.path().join("big.png"));
    assert!(out.contains("112×112: resized"), "{out}");
    assert_eq!(prediction(&out).0, 7, "{out}");
}

#[test]
fn bad_training_flags_are_refused_and_nothing_is_written() {
    let d = tmp();
    for (flag, value) in [
        ("--filters", "0"),
        ("--filters", "100000"),
        ("--epochs", "0"),
        ("--batch", "0"),
        ("--batch", "7997"),
        ("--steps", "0"),
        ("--lr", "-1"),
        ("--momentum", "1.5"),
    ] {
        refused(d.path(), &["digits", flag, value], &[flag]);
    }
    // Within the flags' ranges, but a batch's maps exceed the adapter's binding limit.
    let huge = [
        "digits",
        "--filters",
        "256",
        "--batch",
        "7996",
        "--steps",
        "1",
    ];
    refused(d.path(), &huge, &["--batch 7996 --filters 256", "bytes"]);
    std::fs::create_dir(d.path().join("a-dir")).expect("mkdir");
    refused(
        d.path(),
        &["digits", "--steps", "1", "--save", "a-dir"],
        &["--save", "a-dir"],
    );
}

#[test]
fn bad_predict_inputs_are_refused() {
    let d = tmp();
    let model = asset("model-k2.safetensors");
    let model = model.to_str().expect("utf-8");
    let example = asset("example-7.png");
    let example = example.to_str().expect("utf-8");
    std::fs::write(d.path().join("not.png"), b"not a picture").expect("write");
    refused(
        d.path(),
        &["digits", "--predict", "not.png", "--load", model],
        &["not.png"],
    );
    refused(
        d.path(),
        &[
            "digits",
            "--predict",
            example,
            "--load",
            "missing.safetensors",
        ],
        &["missing.safetensors"],
    );
    refused(d.path(), &["digits", "--predict", example], &["--load"]);
    // Training flags have no meaning with --predict.
    let with = [
        "digits",
        "--predict",
        example,
        "--load",
        model,
        "--filters",
        "3",
    ];
    refused(d.path(), &with, &["--filters"]);
    // A state dict without the linear layer, and one whose conv is not (K, 1, 5, 5).
    let w = vec![0u8; 2 * 25 * 4];
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2, 1, 5, 5], &w)
        .expect("view");
    let bytes = safetensors::serialize([("0.weight", view)], None).expect("serialize");
    std::fs::write(d.path().join("half.safetensors"), bytes).expect("write");
    refused(
        d.path(),
        &["digits", "--predict", example, "--load", "half.safetensors"],
        &["0.bias"],
    );
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2, 1, 25, 1], &w)
        .expect("view");
    let bytes = safetensors::serialize([("0.weight", view)], None).expect("serialize");
    std::fs::write(d.path().join("odd.safetensors"), bytes).expect("write");
    refused(
        d.path(),
        &["digits", "--predict", example, "--load", "odd.safetensors"],
        &["0.weight", "(K, 1, 5, 5)"],
    );
}
