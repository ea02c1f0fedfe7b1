//! The layer options on the command line: `--dilation`, `--groups`, `--padding` (4 sides,
//! same, valid) and `--padding-mode` on forward, step and bench; step without `--bias`; and
//! every bad value refused (exit 2, the reason on stderr, nothing written).

mod common;

use std::path::{Path, PathBuf};

use common::{wgconv, write_npy};
use wgconv::check::CaseGenerator;
use wgconv::compare::{compare, forward_bound};
use wgconv::{cpu, npy, ConvShape, ConvShapeSpec, Padding, PaddingMode};

/// A 2×4×9×8 input with K = 4 and a 3×3 kernel, changed by `spec`.
fn shape(spec: ConvShapeSpec) -> ConvShape {
    ConvShape::new(spec).expect("valid shape")
}

fn base() -> ConvShapeSpec {
    ConvShapeSpec {
        n: 2,
        c: 4,
        h: 9,
        w: 8,
        k: 4,
        r: 3,
        s: 3,
        ..Default::default()
    }
}

/// Runs `forward` on random inputs of `shape` with `flags` and compares y with the f64 CPU
/// reference within its bound.
fn forward_matches_the_reference(shape: ConvShape, flags: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let case = CaseGenerator::new(5).inputs(shape, "cli");
    write_npy(&d.join("x.npy"), &case.x.dims, &case.x.data);
    write_npy(&d.join("w.npy"), &case.w.dims, &case.w.data);
    write_npy(&d.join("b.npy"), &[case.b.len()], &case.b);
    let mut args = vec![
        "forward", "--input", "x.npy", "--weight", "w.npy", "--bias", "b.npy", "--output", "y.npy",
    ];
    args.extend(flags);
    let r = wgconv(d, &args);
    assert_eq!(r.code, 0, "{flags:?}: {}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("shape: {shape}")),
        "{}",
        r.stdout
    );
    let y = npy::parse(&std::fs::read(d.join("y.npy")).expect("y.npy")).expect("parse y");
    let dims = [2, 4, shape.p() as usize, shape.q() as usize];
    assert_eq!(y.shape, dims.to_vec(), "{flags:?}");
    let reference = cpu::conv2d_bias_relu_fwd(&shape, &case.x.data, &case.w.data, &case.b);
    let bound = |i: usize| forward_bound(&shape, reference.abs_sum[i]);
    assert!(
        compare(&y.data, &reference.y, bound, dims).passed(),
        "{flags:?}"
    );
}

#[test]
fn forward_depthwise_dilated_and_reflect_match_the_reference() {
    let depthwise = shape(ConvShapeSpec {
        groups: 4,
        padding: Padding::symmetric(1, 1),
        ..base()
    });
    forward_matches_the_reference(depthwise, &["--groups", "4", "--padding", "same"]);
    let dilated = shape(ConvShapeSpec {
        dilation: (2, 3),
        padding: Padding {
            top: 1,
            bottom: 0,
            left: 2,
            right: 1,
        },
        ..base()
    });
    forward_matches_the_reference(dilated, &["--dilation", "2,3", "--padding", "1,0,2,1"]);
    let reflect = shape(ConvShapeSpec {
        groups: 2,
        padding: Padding::symmetric(2, 1),
        padding_mode: PaddingMode::Reflect,
        ..base()
    });
    let flags = [
        "--groups",
        "2",
        "--padding",
        "2,1",
        "--padding-mode",
        "reflect",
    ];
    forward_matches_the_reference(reflect, &flags);
}

#[test]
fn forward_random_filters_are_drawn_per_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_npy(&d.join("x.npy"), &[1, 4, 6, 6], &[0.5; 144]);
    let args = [
        "forward",
        "--input",
        "x.npy",
        "--filters",
        "random:8",
        "--kernel-size",
        "3",
        "--groups",
        "4",
        "--check",
    ];
    let r = wgconv(d, &args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("w(8,1,3,3)"), "{}", r.stdout);
    assert!(r.stdout.contains(" 0 over their bound"), "{}", r.stdout);
}

/// Inputs for `step`: x (2, 4, 6, 6), depthwise weights (4, 1, 3, 3), b (4), t (2, 4, 6, 6).
fn step_inputs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let x: Vec<f32> = (0..288).map(|i| (i % 11) as f32 / 11.0).collect();
    let w: Vec<f32> = (0..36).map(|i| ((i % 5) as f32 - 2.0) / 10.0).collect();
    write_npy(&d.join("x.npy"), &[2, 4, 6, 6], &x);
    write_npy(&d.join("w.npy"), &[4, 1, 3, 3], &w);
    write_npy(&d.join("b.npy"), &[4], &[0.1, -0.1, 0.2, 0.0]);
    write_npy(&d.join("t.npy"), &[2, 4, 6, 6], &[0.3; 288]);
    dir
}

const STEP: [&str; 10] = [
    "step", "--input", "x.npy", "--weight", "w.npy", "--target", "t.npy", "--lr", "0.1", "--check",
];

#[test]
fn step_with_groups_and_padding_modes_passes_its_checks() {
    let dir = step_inputs();
    let d = dir.path();
    let mut args = STEP.to_vec();
    args.extend([
        "--steps",
        "3",
        "--groups",
        "4",
        "--padding",
        "1",
        "--padding-mode",
        "replicate",
        "--out-weight",
        "w2.npy",
    ]);
    let r = wgconv(d, &args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("replicate groups 4 no bias"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("check db: nothing to compare"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("check dw: 108 elements, 0 over"),
        "{}",
        r.stdout
    );
    let w2 = npy::parse(&std::fs::read(d.join("w2.npy")).expect("w2.npy")).expect("parse");
    assert_eq!(w2.shape, vec![4, 1, 3, 3]);

    let mut args = STEP.to_vec();
    args.extend([
        "--bias",
        "b.npy",
        "--groups",
        "2",
        "--padding",
        "same",
        "--padding-mode",
        "circular",
        "--out-weight",
        "w3.npy",
        "--out-bias",
        "b3.npy",
        "--grad-bias",
        "db.npy",
    ]);
    write_npy(&d.join("w.npy"), &[4, 2, 3, 3], &[0.05; 72]);
    let r = wgconv(d, &args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("check db: 4 elements, 0 over"),
        "{}",
        r.stdout
    );
    for f in ["w3.npy", "b3.npy", "db.npy"] {
        assert!(d.join(f).is_file(), "{f} missing");
    }
}

fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("read_dir")
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap_or_default()))
        .collect();
    v.sort();
    v
}

/// Exit 2, stderr mentions `needle`, no panic, and the folder is as it was.
fn refused(d: &Path, args: &[&str], needle: &str) {
    let before = listing(d);
    let r = wgconv(d, args);
    assert_eq!(r.code, 2, "{args:?} should fail:\n{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(needle),
        "{args:?}: stderr should mention {needle:?}:\n{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(listing(d), before, "{args:?} wrote or changed files");
}

#[test]
fn bad_layer_options_are_refused() {
    let dir = step_inputs();
    let d = dir.path();
    write_npy(&d.join("x6.npy"), &[1, 4, 6, 6], &[0.5; 144]);
    let forward = |flags: &[&'static str]| -> Vec<&'static str> {
        let mut a = vec!["forward", "--input", "x6.npy", "--filters", "random:4"];
        a.extend(["--kernel-size", "3", "--output", "y.npy"]);
        a.extend(flags);
        a
    };
    let cases: [(&[&str], &str); 10] = [
        (&["--groups", "0"], "`groups` must be at least 1"),
        (&["--groups", "3"], "groups 3 does not divide C = 4"),
        (&["--groups", "8"], "groups 8 does not divide C = 4"),
        (&["--dilation", "0"], "`dilation_h` must be at least 1"),
        (&["--dilation", "3"], "dilated kernel height"),
        (
            &["--padding", "same", "--stride", "2"],
            "'same' is not supported",
        ),
        (&["--padding", "1,2,3"], "has 3 values"),
        (&["--padding", "1,x"], "expected P, PH,PW"),
        (&["--padding-mode", "foo"], "not a padding mode"),
        (
            &["--padding", "6", "--padding-mode", "reflect"],
            "reflect needs",
        ),
    ];
    for (flags, needle) in cases {
        refused(d, &forward(flags), needle);
    }
    let step = |flags: &[&'static str]| -> Vec<&'static str> {
        let mut a = STEP.to_vec();
        a.extend(["--out-weight", "w2.npy"]);
        a.extend(flags);
        a
    };
    refused(
        d,
        &step(&["--groups", "4", "--out-bias", "b2.npy"]),
        "--out-bias needs --bias",
    );
    refused(
        d,
        &step(&["--groups", "4", "--grad-bias", "db.npy"]),
        "--grad-bias needs --bias",
    );
    refused(d, &step(&["--groups", "2"]), "input channels per group");
    refused(
        d,
        &step(&[
            "--groups",
            "4",
            "--padding-mode",
            "circular",
            "--padding",
            "7",
        ]),
        "circular needs",
    );
    let bench = ["bench", "--pass", "fwd", "--json", "b.json"];
    refused(d, &[&bench[..], &["--groups", "2"]].concat(), "--shape");
    let shape = ["--shape", "1,4,8,8,4,3,3,1,1"];
    refused(
        d,
        &[&bench[..], &shape, &["--groups", "3"]].concat(),
        "groups 3 does not divide C = 4",
    );
    refused(
        d,
        &[&bench[..], &shape, &["--dilation", "5"]].concat(),
        "dilated kernel",
    );
    refused(
        d,
        &[&bench[..], &shape, &["--padding-mode", "mirror"]].concat(),
        "not a padding mode",
    );
}

#[test]
fn bench_times_a_grouped_dilated_reflect_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = [
        "bench",
        "--shape",
        "1,4,12,12,4,3,3,1,2",
        "--groups",
        "4",
        "--dilation",
        "2",
        "--padding-mode",
        "reflect",
        "--pass",
        "fwd",
        "--kernel",
        "simple",
        "--repeats",
        "20",
        "--warmup",
        "1",
    ];
    let r = wgconv(dir.path(), &args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("pad 2,2 reflect dilation 2,2 groups 4 -> y(1,4,12,12)"),
        "{}",
        r.stdout
    );
}
