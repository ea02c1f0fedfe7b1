//! Huge, zero, negative and non-finite counts and floats on every command: each is exit 2 with a
//! message naming the flag (and the bytes and the limit where it is about memory), with no panic
//! or abort, nothing written, and most before a device is opened. Huge `--steps` runs in flat
//! memory instead. The library's own new refusals are at the end.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{wgconv, write_npy};

const PANIC_TEXT: [&str; 4] = [
    "panicked",
    "memory allocation",
    "RUST_BACKTRACE",
    "capacity overflow",
];

/// Every file under `dir`, with its bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path.clone());
                out.push((path, Vec::new()));
            } else {
                let bytes = std::fs::read(&path).expect("read");
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Inputs of the notebook's layer: x (24×24), w (2, 1, 5, 5), b (2), t (1, 2, 20, 20) and a
/// 24×24 PNG.
fn inputs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let x: Vec<f32> = (0..576).map(|i| (i % 7) as f32 / 7.0).collect();
    write_npy(&d.join("x.npy"), &[24, 24], &x);
    write_npy(&d.join("w.npy"), &[2, 1, 5, 5], &[0.04; 50]);
    write_npy(&d.join("b.npy"), &[2], &[0.0, -0.1]);
    write_npy(&d.join("b3.npy"), &[3], &[0.0; 3]);
    write_npy(&d.join("t.npy"), &[1, 2, 20, 20], &[0.5; 800]);
    let mut nan_t = vec![0.5; 800];
    nan_t[17] = f32::NAN;
    write_npy(&d.join("t_nan.npy"), &[1, 2, 20, 20], &nan_t);
    let mut inf_x = x.clone();
    inf_x[3] = f32::INFINITY;
    write_npy(&d.join("x_inf.npy"), &[24, 24], &inf_x);
    image::GrayImage::from_fn(24, 24, |i, j| image::Luma([(i * 10 + j) as u8]))
        .save(d.join("img.png"))
        .expect("png");
    dir
}

/// Runs `args` in a fresh copy of the inputs and checks the refusal: exit 2, every needle in
/// stderr, `once` (if any) exactly once, no panic text, nothing written, fast; `before_device`:
/// no adapter was opened.
fn refused(args: &[&str], needles: &[&str], once: Option<&str>, before_device: bool) {
    let dir = inputs();
    let before = tree(dir.path());
    let started = Instant::now();
    let r = wgconv(dir.path(), args);
    let all = format!("{args:?}\nstdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(r.code, 2, "{all}");
    for n in needles {
        assert!(r.stderr.contains(n), "{n:?} missing: {all}");
    }
    if let Some(clause) = once {
        assert_eq!(
            r.stderr.matches(clause).count(),
            1,
            "{clause:?} not once: {all}"
        );
    }
    for bad in PANIC_TEXT {
        assert!(!r.stderr.contains(bad) && !r.stdout.contains(bad), "{all}");
    }
    assert_eq!(tree(dir.path()), before, "files changed: {all}");
    if before_device {
        assert!(!r.stdout.contains("adapter:"), "opened a device: {all}");
        assert!(started.elapsed() < Duration::from_secs(20), "slow: {all}");
    }
}

/// Refused before a device is opened, naming every needle.
fn early(args: &[&str], needles: &[&str]) {
    refused(args, needles, None, true);
}

const STEP: [&str; 11] = [
    "step", "--input", "x.npy", "--weight", "w.npy", "--bias", "b.npy", "--target", "t.npy",
    "--lr", "0.1",
];
const STEP_OUT: [&str; 4] = ["--out-weight", "w2.npy", "--out-bias", "b2.npy"];
const FORWARD: [&str; 5] = ["forward", "--input", "x.npy", "--output", "y.npy"];

fn step(extra: &[&str]) -> Vec<&'static str> {
    let mut v: Vec<&str> = STEP.iter().chain(&STEP_OUT).copied().collect();
    v.extend(extra.iter().map(|s| leak(s)));
    v
}

fn forward(extra: &[&str]) -> Vec<&'static str> {
    let mut v: Vec<&str> = FORWARD.to_vec();
    v.extend(extra.iter().map(|s| leak(s)));
    v
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

#[test]
fn timeouts_parse_into_checked_durations() {
    // 1e300 and 1e20 panicked in Duration::from_secs_f64.
    for bad in [
        "1e300", "1e20", "0", "-1", "NaN", "inf", "-inf", "abc", "86400.5",
    ] {
        let mut args = vec!["--timeout", bad];
        args.extend(forward(&[]));
        early(&args, &["--timeout"]);
    }
    // The largest is taken: the error is then about --steps, not the timeout.
    let mut args = vec!["--timeout", "86400"];
    args.extend(step(&["--steps", "0"]));
    early(&args, &["--steps must be at least 1"]);
}

#[test]
fn a_tiny_timeout_covers_opening_the_device() {
    // Finding an adapter and compiling every kernel takes far longer than a microsecond.
    for cmd in [forward(&[]), step(&["--steps", "1000000000000"])] {
        let mut args = vec!["--timeout", "0.000001"];
        args.extend(cmd);
        refused(&args, &["--timeout", "did not finish within"], None, true);
    }
    let mut args = vec!["--timeout", "0.000001", "train", "--out", "o"];
    args.extend(["--steps", "18446744073709551615"]);
    refused(&args, &["--timeout", "within 0.000001 s"], None, true);
}

#[test]
fn huge_and_zero_steps_and_batches() {
    early(&step(&["--steps", "0"]), &["--steps"]);
    early(&step(&["--steps", "-1"]), &["--steps"]);
    early(&step(&["--steps", "18446744073709551616"]), &["--steps"]);
    let train = |extra: &[&str]| -> Vec<&'static str> {
        let mut v = vec!["train", "--out", "o"];
        v.extend(extra.iter().map(|s| leak(s)));
        v
    };
    // Aborted allocating 4294967295 images.
    early(
        &train(&["--batch", "4294967295"]),
        &["--batch 4294967295", "bytes", "u32 index range"],
    );
    early(
        &train(&["--batch", "2000000"]),
        &["--batch 2000000", "4294967292 bytes"],
    );
    early(&train(&["--batch", "0"]), &["--batch must be at least 1"]);
    early(&train(&["--steps", "0"]), &["--steps"]);
    early(&train(&["--log-every", "0"]), &["--log-every"]);
    early(
        &train(&["--log-every", "4294967295"]),
        &["--log-every 4294967295", "bytes"],
    );
}

#[test]
fn huge_filters_and_resizes() {
    // Aborted allocating the filters and the resized image.
    early(
        &forward(&["--filters", "random:99999999999"]),
        &["--filters random:99999999999", "bytes"],
    );
    early(
        &forward(&["--filters", "random:18446744073709551615"]),
        &["--filters", "more than 2⁶⁴ bytes"],
    );
    early(
        &forward(&["--filters", "random:1000", "--kernel-size", "4294967295"]),
        &["--kernel-size 4294967295,4294967295"],
    );
    early(&forward(&["--filters", "random:0"]), &["--filters"]);
    let img = |extra: &[&str]| -> Vec<&'static str> {
        let mut v = vec!["forward", "--input", "img.png", "--output", "y.npy"];
        v.extend(extra.iter().map(|s| leak(s)));
        v
    };
    early(
        &img(&["--resize", "100000x100000"]),
        &["--resize 100000x100000", "bytes"],
    );
    early(
        &img(&["--resize", "4294967295x4294967295"]),
        &["--resize 4294967295x4294967295"],
    );
    early(
        &img(&["--resize", "40000x40000", "--rgb"]),
        &["--resize 40000x40000", "19200000000 bytes"],
    );
    early(&img(&["--resize", "0x24"]), &["--resize"]);
}

#[test]
fn huge_bench_counts_and_shapes() {
    let bench = |extra: &[&str]| -> Vec<&'static str> {
        let mut v = vec!["bench", "--json", "r.json"];
        v.extend(extra.iter().map(|s| leak(s)));
        v
    };
    // Aborted allocating the repeats' times and a 40000×40000 problem.
    early(
        &bench(&["--repeats", "4294967295"]),
        &["--repeats 4294967295: at most 1000000"],
    );
    early(
        &bench(&["--warmup", "4294967295"]),
        &["--warmup 4294967295"],
    );
    early(&bench(&["--inner", "4294967295"]), &["--inner 4294967295"]);
    early(&bench(&["--inner", "0"]), &["--inner"]);
    early(&bench(&["--repeats", "19"]), &["--repeats"]);
    early(
        &bench(&["--shape", "1,1,40000,40000,1,1,1,1,0"]),
        &["--shape 1,1,40000,40000,1,1,1,1,0", "6400000000 bytes"],
    );
    let huge = "4294967295,4294967295,4294967295,1,1,1,1,1,0";
    refused(
        &bench(&["--shape", huge]),
        &["--shape", "too large"],
        Some("too large"),
        true,
    );
    early(
        &bench(&["--shapes", "mnist", "--batch", "4294967295"]),
        &["--shapes mnist --batch 4294967295"],
    );
    let stride0 = "1,1,24,24,2,5,5,0,0";
    refused(
        &bench(&["--shape", stride0]),
        &["--shape", "stride_h"],
        Some("must be at least 1"),
        true,
    );
    early(
        &bench(&["--shape", "1,1,24,24,2,5,5,1,0", "--batch", "0"]),
        &["--batch 0"],
    );
    early(&bench(&["--peak-tflops", "inf"]), &["--peak-tflops"]);
    early(&bench(&["--peak-tflops", "NaN"]), &["--peak-tflops"]);
    early(&bench(&["--peak-tflops", "0"]), &["--peak-tflops"]);
}

#[test]
fn bad_floats_and_cases_name_their_flag() {
    for (flag, value) in [
        ("--lr", "0"),
        ("--lr", "NaN"),
        ("--lr", "inf"),
        ("--lr", "-1"),
    ] {
        let mut args: Vec<&str> = STEP[..9].to_vec();
        args.extend([flag, value]);
        args.extend(STEP_OUT);
        early(&args, &["--lr"]);
    }
    early(&step(&["--momentum", "1"]), &["--momentum"]);
    early(&step(&["--weight-decay", "-1"]), &["--weight-decay"]);
    early(&["train", "--lr", "inf", "--out", "o"], &["--lr inf"]);
    early(
        &forward(&["--maps", "m", "--fixed-scale", "NaN"]),
        &["--fixed-scale"],
    );
    early(
        &forward(&["--maps", "m", "--fixed-scale", "0"]),
        &["--fixed-scale"],
    );
    early(&["check", "--cases", "0"], &["--cases"]);
    early(&["check", "--cases", "18446744073709551616"], &["--cases"]);
}

#[test]
fn messages_say_each_clause_once() {
    // These printed the tensor error twice: once in the message, once as its source.
    let mut args = STEP.to_vec();
    args[8] = "t_nan.npy";
    args.extend(STEP_OUT);
    refused(&args, &["target t"], Some("is NaN"), true);
    let inf_x: Vec<&str> = forward(&[])
        .iter()
        .map(|a| if *a == "x.npy" { "x_inf.npy" } else { *a })
        .collect();
    refused(&inf_x, &["input x"], Some("not a finite number"), true);
    let bias = forward(&["--weight", "w.npy", "--bias", "b3.npy"]);
    refused(&bias, &["bias length"], Some("bias length"), true);
}

/// Starts `args`, waits for `marker` on stdout (the run has begun), lets it run 3 s, and checks
/// that it is still running in bounded memory; then stops it. Nothing reaches `dest`.
fn runs_in_flat_memory(args: &[&str], marker: &str, dest: &str) {
    let dir = inputs();
    let err_path = dir.path().join("stderr.txt");
    let err = std::fs::File::create(&err_path).expect("stderr file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wgconv"))
        .args(args)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(err)
        .spawn()
        .expect("spawn wgconv");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // The marker follows the kernels' first compile, which on a cold OpenGL shader cache took over
    // 300 s here (llvmpipe, a loaded machine); the CLI's own --timeout for it is 900 s.
    let deadline = Instant::now() + Duration::from_secs(900);
    let seen = loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.starts_with(marker) => break true,
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
            Err(_) => break false,
        }
    };
    std::thread::sleep(Duration::from_secs(3));
    let status = child.try_wait().expect("try_wait");
    let rss = rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(seen, "{marker:?} never printed: {stderr}");
    assert!(status.is_none(), "{args:?} stopped ({status:?}): {stderr}");
    if let Some(kib) = rss {
        assert!(kib < 1 << 20, "{args:?}: resident {kib} KiB after 3 s");
    }
    assert!(
        !dir.path().join(dest).exists(),
        "{dest} written by a killed run"
    );
}

/// Resident memory of a process, where /proc has it.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}

#[test]
fn huge_steps_run_in_flat_memory() {
    // Both aborted (or panicked) reserving a loss per step before the first step.
    let args = step(&["--steps", "1000000000000", "--loss-log", "loss.csv"]);
    runs_in_flat_memory(&args, "shape:", "loss.csv");
    let args = ["train", "--steps", "18446744073709551615", "--out", "o"];
    runs_in_flat_memory(&args, "adapter:", "o/loss.csv");
}

#[test]
fn the_library_refuses_before_allocating() {
    use wgconv::gpu::{Conv2d, Conv2dConfig};
    use wgconv::{ConvShape, ConvShapeSpec, Error, Sgd, Tensor4};
    let ctx = common::gpu();
    let before = ctx.memory_use();
    // A loss log of 2³² − 1 steps per submission: over any device's binding limit.
    let x = wgconv::notebook::image();
    let t = Tensor4::zeros([1, 2, 20, 20]);
    let w = wgconv::notebook::filters();
    let sgd = Sgd::new(0.1);
    let trainer = common::trainer(
        ctx,
        &ConvShape::SEED,
        &x,
        &t,
        &w,
        &[0.0; 2],
        sgd,
        u32::MAX,
        None,
    );
    let Err(e) = trainer else {
        panic!("a log of u32::MAX steps was accepted")
    };
    assert!(
        matches!(e, Error::LimitExceeded { .. }) && e.to_string().contains("loss log"),
        "{e}"
    );
    // 2²⁰ filters of 1024×64×64: 16 TiB of weights, which used to be drawn on the host first.
    let config = Conv2dConfig::new(1024, 1 << 20, (64, 64));
    let e = Conv2d::new(ctx, config, 0).expect_err("16 TiB of weights");
    assert!(matches!(e, Error::LimitExceeded { .. }), "{e}");
    assert_eq!(ctx.memory_use(), before, "something was allocated");
    // Host memory: a random benchmark problem and the teacher/student images.
    let huge = ConvShape::new(ConvShapeSpec {
        n: 1 << 20,
        c: 1 << 20,
        h: 64,
        w: 64,
        k: 1,
        r: 1,
        s: 1,
        stride: (1, 1),
        padding: wgconv::Padding::symmetric(0, 0),
        ..Default::default()
    })
    .expect("a valid shape");
    let e = wgconv::bench::random_problem(&huge, 0).expect_err("64 TiB");
    assert!(matches!(e, Error::HostMemory { .. }), "{e}");
    use wgconv::teacher_student::{make_inputs, Data};
    let e = make_inputs(&Data::Random, u32::MAX, 0).expect_err("2³² images");
    assert!(e.to_string().contains("of host memory"), "{e}");
}
