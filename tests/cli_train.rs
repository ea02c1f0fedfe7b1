//! `wgconv step` and `wgconv train` end to end, and the safetensors round trip.

mod common;

use common::{wgconv, write_npy, Run};

use std::path::Path;

use wgconv::check::CaseGenerator;
use wgconv::sgd::Sgd;
use wgconv::{npy, weights, ConvShape, ConvShapeSpec, Tensor4};

fn read(path: &Path) -> npy::NpyArray {
    npy::parse(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .expect("parse")
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

struct StepFiles {
    shape: ConvShape,
    x: Tensor4,
    t: Tensor4,
    w: Tensor4,
    b: Vec<f32>,
}

fn step_files(d: &Path) -> StepFiles {
    let shape = ConvShape::new(ConvShapeSpec {
        n: 2,
        c: 2,
        h: 10,
        w: 9,
        k: 3,
        r: 3,
        s: 3,
        stride: (2, 1),
        padding: wgconv::Padding::symmetric(1, 1),
        ..Default::default()
    })
    .expect("valid");
    let mut gen = CaseGenerator::new(21);
    let case = gen.inputs(shape, "step");
    let t_case = gen.inputs(shape, "target");
    let dims = [2, 3, shape.p() as usize, shape.q() as usize];
    let t = Tensor4 {
        dims,
        data: t_case
            .x
            .data
            .iter()
            .cycle()
            .take(dims.iter().product())
            .map(|v| v.abs())
            .collect(),
    };
    write_npy(&d.join("x.npy"), &case.x.dims, &case.x.data);
    write_npy(&d.join("w.npy"), &case.w.dims, &case.w.data);
    write_npy(&d.join("b.npy"), &[3], &case.b);
    write_npy(&d.join("t.npy"), &t.dims, &t.data);
    StepFiles {
        shape,
        x: case.x,
        t,
        w: case.w,
        b: case.b,
    }
}

#[test]
fn step_writes_what_its_contract_says_and_matches_the_library() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let f = step_files(d);
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = wgconv(
        d,
        &[
            "step",
            "--input",
            "x.npy",
            "--weight",
            "w.npy",
            "--bias",
            "b.npy",
            "--target",
            "t.npy",
            "--lr",
            "0.05",
            "--momentum",
            "0.9",
            "--weight-decay",
            "0.01",
            "--steps",
            "7",
            "--stride",
            "2,1",
            "--padding",
            "1",
            "--out-weight",
            "w2.npy",
            "--out-bias",
            "b2.npy",
            "--grad-weight",
            "dw.npy",
            "--grad-bias",
            "db.npy",
            "--grad-input",
            "dx.npy",
            "--loss-log",
            "loss.csv",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (w2, b2, dw, db, dx) = (
        read(&d.join("w2.npy")),
        read(&d.join("b2.npy")),
        read(&d.join("dw.npy")),
        read(&d.join("db.npy")),
        read(&d.join("dx.npy")),
    );
    assert_eq!(w2.shape, vec![3, 2, 3, 3]);
    assert_eq!(b2.shape, vec![3]);
    assert_eq!(dw.shape, vec![3, 2, 3, 3]);
    assert_eq!(db.shape, vec![3]);
    assert_eq!(dx.shape, vec![2, 2, 10, 9]);
    let csv = std::fs::read_to_string(d.join("loss.csv")).expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "step,loss");
    assert_eq!(lines.len(), 8, "{csv}");
    let losses: Vec<f32> = lines[1..]
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (step, loss) = l.split_once(',').expect("two columns");
            assert_eq!(step, i.to_string());
            loss.parse().expect("a number")
        })
        .collect();

    // The same run through the library, on this process's adapter: runs are deterministic, so
    // every file must hold exactly the same bits.
    let sgd = Sgd {
        lr: 0.05,
        momentum: 0.9,
        weight_decay: 0.01,
        nesterov: false,
    };
    let mut trainer = common::trainer(
        common::gpu(),
        &f.shape,
        &f.x,
        &f.t,
        &f.w,
        &f.b,
        sgd,
        7,
        None,
    )
    .expect("trainer");
    let mut lib_losses = Vec::new();
    trainer
        .run(7, true, |_, l| lib_losses.extend_from_slice(l))
        .expect("run");
    let state = trainer.read_state().expect("state");
    let (ldw, ldb) = trainer.read_grads().expect("grads");
    let ldx = trainer.read_input_grad().expect("dx");
    assert_eq!(bits(&w2.data), bits(&state.w.data));
    assert_eq!(bits(&b2.data), bits(&state.b));
    assert_eq!(bits(&dw.data), bits(&ldw.data));
    assert_eq!(bits(&db.data), bits(&ldb));
    assert_eq!(bits(&dx.data), bits(&ldx.data));
    assert_eq!(
        bits(&losses),
        bits(&lib_losses),
        "loss.csv must round-trip every f32 loss"
    );

    // --check: every kernel of every step against the reference.
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = wgconv(
        d,
        &[
            "step",
            "--input",
            "x.npy",
            "--weight",
            "w.npy",
            "--bias",
            "b.npy",
            "--target",
            "t.npy",
            "--lr",
            "0.05",
            "--momentum",
            "0.9",
            "--steps",
            "3",
            "--stride",
            "2,1",
            "--padding",
            "1",
            "--out-weight",
            "w3.npy",
            "--out-bias",
            "b3.npy",
            "--grad-input",
            "dx3.npy",
            "--check",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    for name in [
        "check y:",
        "check loss:",
        "check dz:",
        "check dw:",
        "check db:",
        "check dx:",
        "check w:",
        "check b:",
    ] {
        assert!(out.contains(name), "{name} missing:\n{out}");
    }
    assert!(
        !out.contains("over their bound;") || out.matches(" 0 over their bound").count() >= 8,
        "{out}"
    );
}

#[test]
fn step_refuses_bad_settings_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    step_files(d);
    write_npy(&d.join("t_wrong.npy"), &[2, 3, 5, 5], &[0.0; 150]);
    let mut nan_t = read(&d.join("t.npy"));
    nan_t.data[3] = f32::NAN;
    write_npy(&d.join("t_nan.npy"), &nan_t.shape, &nan_t.data);
    let base = [
        "step",
        "--input",
        "x.npy",
        "--weight",
        "w.npy",
        "--bias",
        "b.npy",
        "--stride",
        "2,1",
        "--padding",
        "1",
    ];
    let cases: &[(&[&str], &str)] = &[
        (&["--target", "t.npy", "--lr", "0"], "learning rate"),
        (&["--target", "t.npy", "--lr", "inf"], "learning rate"),
        (&["--target", "t.npy", "--lr", "NaN"], "learning rate"),
        (
            &["--target", "t.npy", "--lr", "0.1", "--momentum", "1"],
            "momentum",
        ),
        (
            &["--target", "t_wrong.npy", "--lr", "0.1"],
            "is not the output's",
        ),
        (&["--target", "t_nan.npy", "--lr", "0.1"], "NaN"),
        (
            &["--target", "t.npy", "--lr", "0.1", "--steps", "0"],
            "--steps",
        ),
    ];
    std::fs::write(d.join("w2.npy"), b"keep").expect("write");
    for (extra, needle) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        args.extend([
            "--out-weight",
            "w2.npy",
            "--out-bias",
            "b2.npy",
            "--loss-log",
            "l.csv",
        ]);
        let Run {
            code,
            stdout: out,
            stderr: err,
        } = wgconv(d, &args);
        assert_eq!(code, 2, "{extra:?}: {out}{err}");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert_eq!(std::fs::read(d.join("w2.npy")).expect("read"), b"keep");
        assert!(
            !d.join("b2.npy").exists() && !d.join("l.csv").exists(),
            "{extra:?} wrote output"
        );
    }
    // A run that diverges mid-way writes nothing either.
    write_npy(
        &d.join("t_huge.npy"),
        &nan_t.shape,
        &vec![1.5e17; nan_t.data.len()],
    );
    let mut args: Vec<&str> = base.to_vec();
    args.extend([
        "--target",
        "t_huge.npy",
        "--lr",
        "100",
        "--steps",
        "50",
        "--out-weight",
        "w2.npy",
        "--out-bias",
        "b2.npy",
    ]);
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = wgconv(d, &args);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("diverged") && err.contains("step"), "{err}");
    assert_eq!(std::fs::read(d.join("w2.npy")).expect("read"), b"keep");
    assert!(!d.join("b2.npy").exists());
}

#[test]
fn train_writes_its_pictures_and_a_loadable_safetensors_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = wgconv(
        d,
        &[
            "train",
            "--steps",
            "120",
            "--log-every",
            "25",
            "--out",
            "run",
            "--save",
            "student.safetensors",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("max |w_student − w_teacher|"), "{out}");
    let csv = std::fs::read_to_string(d.join("run/loss.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 121);
    let size = |name: &str| {
        let img = image::open(d.join("run").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        (img.width(), img.height())
    };
    assert_eq!(size("loss.png"), (800, 500));
    assert_eq!(size("prediction_vs_learning.png"), (1400, 600));
    // Two rows of 5×5 filters upscaled ×48: each at least 240 px.
    assert!(
        size("filters.png").1 >= 2 * 240,
        "{:?}",
        size("filters.png")
    );
    for name in [
        "filters.png",
        "maps_before.png",
        "maps_after.png",
        "maps_teacher.png",
        "input.png",
    ] {
        image::open(d.join("run").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The saved student is accepted wherever a weight .npy is.
    let path = d.join("student.safetensors");
    let w = weights::read_weight(&path).expect("weight");
    let b = weights::read_bias(&path).expect("bias");
    assert_eq!(w.dims, [2, 1, 5, 5]);
    assert_eq!(b.len(), 2);
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = wgconv(
        d,
        &[
            "forward",
            "--input",
            "run/input.png",
            "--weight",
            "student.safetensors",
            "--bias",
            "student.safetensors",
            "--check",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
}

/// `train --no-bias`: teacher and student without biases; the student still converges (the
/// loss below 1e-6 in 300 steps, as with biases) and its file holds `weight` only.
#[test]
fn train_without_bias_learns_the_weights_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let args = [
        "train",
        "--no-bias",
        "--steps",
        "300",
        "--out",
        "run",
        "--save",
        "student.safetensors",
    ];
    let Run {
        code,
        stdout,
        stderr,
    } = wgconv(d, &args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("no bias -> y(4,2,20,20)"), "{stdout}");
    assert!(stdout.contains("(no biases)"), "{stdout}");
    let csv = std::fs::read_to_string(d.join("run/loss.csv")).expect("csv");
    let last: f64 = csv
        .lines()
        .last()
        .and_then(|l| l.split(',').next_back())
        .and_then(|v| v.trim().parse().ok())
        .expect("the last loss");
    assert!(last < 1e-6, "last loss {last}");
    let bytes = std::fs::read(d.join("student.safetensors")).expect("saved");
    assert!(weights::has_tensor(&bytes, "weight"));
    assert!(!weights::has_tensor(&bytes, "bias"));
}

#[test]
fn safetensors_round_trip_uses_pytorch_names() {
    let w = wgconv::init::random_filters(3, 2, 3, 4, 9);
    let b = vec![0.5f32, -1.25, 3.0];
    let bytes = weights::safetensors_bytes(&w, Some(&b)).expect("bytes");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("valid safetensors");
    let mut names = file.names();
    names.sort();
    assert_eq!(names, vec!["bias", "weight"]);
    assert_eq!(
        file.tensor("weight").expect("weight").shape(),
        &[3, 2, 3, 4]
    );
    assert_eq!(
        file.tensor("bias").expect("bias").dtype(),
        safetensors::Dtype::F32
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.safetensors");
    std::fs::write(&path, &bytes).expect("write");
    assert_eq!(weights::read_weight(&path).expect("w"), w);
    assert_eq!(weights::read_bias(&path).expect("b"), b);
    std::fs::write(&path, b"not safetensors").expect("write");
    let e = weights::read_weight(&path).expect_err("garbage");
    assert!(e.to_string().contains("not a valid .safetensors"), "{e}");
}

#[test]
fn step_takes_every_kernel_choice_and_checks_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    step_files(d);
    let base = [
        "step",
        "--input",
        "x.npy",
        "--weight",
        "w.npy",
        "--bias",
        "b.npy",
        "--target",
        "t.npy",
        "--stride",
        "2,1",
        "--padding",
        "1",
        "--lr",
        "0.1",
        "--momentum",
        "0.9",
        "--steps",
        "3",
        "--check",
    ];
    for kernel in ["simple", "tiled", "fused"] {
        let out_w = format!("w_{kernel}.npy");
        let out_b = format!("b_{kernel}.npy");
        let mut args = base.to_vec();
        args.extend([
            "--kernel",
            kernel,
            "--out-weight",
            &out_w,
            "--out-bias",
            &out_b,
        ]);
        let r = wgconv(d, &args);
        // Exit 1 would mean an output over its bound against the f64 reference.
        assert_eq!(r.code, 0, "--kernel {kernel}: {}{}", r.stdout, r.stderr);
        assert!(d.join(&out_w).exists());
    }
    let mut args = base.to_vec();
    args.extend([
        "--kernel",
        "fast",
        "--out-weight",
        "w_x.npy",
        "--out-bias",
        "b_x.npy",
    ]);
    let r = wgconv(d, &args);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("use one of simple, tiled, window, fused"),
        "{}",
        r.stderr
    );
    assert!(!d.join("w_x.npy").exists());
}
