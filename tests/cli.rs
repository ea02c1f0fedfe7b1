//! The `wgconv` binary end to end: forward on .npy and on a PNG, demo, check, and every bad
//! input a user can give (clear error, exit 2, no output written, nothing clobbered).

mod common;

use std::path::{Path, PathBuf};

use common::{wgconv, write_npy};
use wgconv::check::CaseGenerator;
use wgconv::compare::{compare, forward_bound};
use wgconv::npy;
use wgconv::{cpu, ConvShape, ConvShapeSpec};

fn png_size(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

#[test]
fn forward_on_npy_matches_the_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let shape = ConvShape::new(ConvShapeSpec {
        n: 2,
        c: 3,
        h: 9,
        w: 10,
        k: 4,
        r: 3,
        s: 2,
        stride: (2, 1),
        padding: wgconv::Padding::symmetric(1, 0),
        ..Default::default()
    })
    .expect("valid");
    let case = CaseGenerator::new(11).inputs(shape, "cli");
    write_npy(&d.join("x.npy"), &case.x.dims, &case.x.data);
    write_npy(&d.join("w.npy"), &case.w.dims, &case.w.data);
    write_npy(&d.join("b.npy"), &[4], &case.b);
    let r = wgconv(
        d,
        &[
            "forward",
            "--input",
            "x.npy",
            "--weight",
            "w.npy",
            "--bias",
            "b.npy",
            "--stride",
            "2,1",
            "--padding",
            "1,0",
            "--check",
            "--output",
            "y.npy",
            "--pre-activation",
            "z.npy",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("check y:") && r.stdout.contains(" 0 over their bound"),
        "{}",
        r.stdout
    );
    let y = npy::parse(&std::fs::read(d.join("y.npy")).expect("y.npy")).expect("parse y");
    let z = npy::parse(&std::fs::read(d.join("z.npy")).expect("z.npy")).expect("parse z");
    let dims = [2, 4, shape.p() as usize, shape.q() as usize];
    assert_eq!(y.shape, dims.to_vec());
    assert_eq!(z.shape, dims.to_vec());
    let reference = cpu::conv2d_bias_relu_fwd(&shape, &case.x.data, &case.w.data, &case.b);
    let bound = |i: usize| forward_bound(&shape, reference.abs_sum[i]);
    assert!(compare(&y.data, &reference.y, bound, dims).passed());
    assert!(compare(&z.data, &reference.z, bound, dims).passed());
}

#[test]
fn forward_on_a_png_writes_maps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // A 30×40 (H×W) RGB gradient.
    let img = image::RgbImage::from_fn(40, 30, |x, y| {
        image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])
    });
    img.save(d.join("in.png")).expect("save png");
    let r = wgconv(
        d,
        &[
            "forward",
            "--input",
            "in.png",
            "--filters",
            "seed",
            "--maps",
            "maps",
            "--per-map",
            "--check",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // Grayscale input (1, 1, 30, 40), 5×5 seed filters: maps are 26×36, upscaled by
    // ⌈160/36⌉ = 5 to 180×130.
    for k in 0..2 {
        assert_eq!(png_size(&d.join(format!("maps/y_n0_k{k}.png"))), (180, 130));
        assert_eq!(png_size(&d.join(format!("maps/z_n0_k{k}.png"))), (180, 130));
    }
    // The figure draws the 26×36 maps ×⌈240/36⌉ = 7: two 252×182 maps with axes and a bar.
    let (w, h) = png_size(&d.join("maps/feature_maps.png"));
    assert!(
        w >= 2 * 252 && h >= 182,
        "figure {w}×{h} holds two 252×182 maps"
    );
    assert_eq!(png_size(&d.join("maps/pre_activation.png")), (w, h));
    assert_eq!(png_size(&d.join("maps/input.png")), (40, 30));
    png_size(&d.join("maps/filters.png"));

    // --rgb reads three channels: the seed filters are spread over them.
    let r = wgconv(
        d,
        &[
            "forward", "--input", "in.png", "--rgb", "--check", "--output", "rgb.npy",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("x(1,3,30,40)"), "{}", r.stdout);
    // --resize and random filters.
    let r = wgconv(
        d,
        &[
            "forward",
            "--input",
            "in.png",
            "--resize",
            "24x24",
            "--filters",
            "random:3",
            "--kernel-size",
            "3,5",
            "--check",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("x(1,1,24,24) w(3,1,3,5)"), "{}", r.stdout);
}

#[test]
fn demo_prints_the_notebooks_numbers_and_writes_pictures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let r = wgconv(d, &["demo", "--out", "demo"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("(24 − 5)/1 + 1 = 20"), "{}", r.stdout);
    assert!(
        r.stdout.contains("5×5×2 = 50 weights + 2 biases = 52"),
        "{}",
        r.stdout
    );
    // c¹₁,₁ on the built-in image: 33/48 − 0.1 = 0.5875 (see tests/notebook.rs).
    assert!(r.stdout.contains("c¹₁,₁ = 0.587500"), "{}", r.stdout);
    // Four 24×24 panels upscaled ×10 (⌈240/24⌉) side by side; 20×20 maps upscaled ×12.
    let (w, h) = png_size(&d.join("demo/input_windows.png"));
    assert!(w >= 4 * 240 && h >= 240, "{w}×{h}");
    for name in ["feature_maps.png", "pre_activation.png"] {
        let (w, h) = png_size(&d.join("demo").join(name));
        assert!(w >= 2 * 240 && h >= 240, "{name}: {w}×{h}");
    }
    // Two 5×5 filters upscaled ×48, one above the other.
    let (w, h) = png_size(&d.join("demo/filters.png"));
    assert!(w >= 240 && h >= 2 * 240, "filters: {w}×{h}");
    assert_eq!(png_size(&d.join("demo/relu.png")), (720, 560));
    assert_eq!(png_size(&d.join("demo/notation.png")), (1640, 430));

    // Another image, resized to 24×24.
    let img = image::GrayImage::from_fn(50, 70, |x, y| image::Luma([((x + y) * 2) as u8]));
    img.save(d.join("mine.png")).expect("save");
    let r = wgconv(d, &["demo", "--out", "demo2", "--input", "mine.png"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(d.join("demo2/feature_maps.png").exists());
}

#[test]
fn check_runs_random_cases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = wgconv(dir.path(), &["check", "--cases", "24", "--seed", "3"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("24 passed, 0 failed"), "{}", r.stdout);
    assert_eq!(r.stdout.lines().filter(|l| l.ends_with(" ok")).count(), 24);
}

#[test]
fn info_lists_adapters_and_limits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = wgconv(dir.path(), &["info"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for needle in [
        "adapters (best first):",
        "chosen:",
        "max_storage_buffer_binding_size",
        "timestamp queries",
    ] {
        assert!(
            r.stdout.contains(needle),
            "{needle} missing from:\n{}",
            r.stdout
        );
    }
}

/// A bad input: exit 2, stderr names the problem, the existing output is untouched and no
/// other file (nor a stray temporary) appears.
fn assert_refused(dir: &Path, args: &[&str], needle: &str) {
    let out = dir.join("out.npy");
    std::fs::write(&out, b"keep").expect("write");
    let before: Vec<PathBuf> = listing(dir);
    let mut full = args.to_vec();
    full.extend(["--output", "out.npy", "--maps", "maps"]);
    let r = wgconv(dir, &full);
    assert_eq!(r.code, 2, "{args:?} should fail:\n{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.to_lowercase().contains(&needle.to_lowercase()),
        "{args:?}: stderr should mention {needle:?}:\n{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read(&out).expect("read"),
        b"keep",
        "{args:?} clobbered the output"
    );
    assert_eq!(listing(dir), before, "{args:?} left files behind");
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walk(dir);
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn bad_inputs_give_clear_errors_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_npy(&d.join("x.npy"), &[1, 1, 6, 6], &[0.5; 36]);
    write_npy(&d.join("w7.npy"), &[1, 1, 7, 7], &[0.1; 49]);
    write_npy(&d.join("w3c2.npy"), &[1, 2, 3, 3], &[0.1; 18]);
    write_npy(&d.join("b2.npy"), &[2], &[0.0; 2]);
    write_npy(&d.join("b_rank2.npy"), &[1, 1], &[0.0]);
    write_npy(&d.join("x5.npy"), &[1, 1, 1, 1, 1], &[0.0]);
    let mut nan = vec![0.5f32; 36];
    nan[7] = f32::NAN;
    write_npy(&d.join("nan.npy"), &[6, 6], &nan);
    let header = |descr: &str, fortran: &str, shape: &str| {
        let h = format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n");
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b
    };
    let mut fortran = header("<f4", "True", "(6, 6)");
    fortran.extend_from_slice(&[0u8; 144]);
    std::fs::write(d.join("fortran.npy"), fortran).expect("write");
    let mut truncated = header("<f4", "False", "(6, 6)");
    truncated.extend_from_slice(&[0u8; 100]);
    std::fs::write(d.join("truncated.npy"), truncated).expect("write");
    let mut big_endian = header(">f4", "False", "(6, 6)");
    big_endian.extend_from_slice(&[0u8; 144]);
    std::fs::write(d.join("big.npy"), big_endian).expect("write");
    let mut ints = header("<i8", "False", "(6, 6)");
    ints.extend_from_slice(&[0u8; 288]);
    std::fs::write(d.join("ints.npy"), ints).expect("write");
    std::fs::write(d.join("garbage.png"), b"this is not a png").expect("write");

    let cases: &[(&[&str], &str)] = &[
        (&["forward", "--input", "missing.npy"], "missing.npy"),
        (&["forward", "--input", "fortran.npy"], "Fortran"),
        (
            &["forward", "--input", "truncated.npy"],
            "the header says shape [6, 6]",
        ),
        (&["forward", "--input", "big.npy"], ">f4"),
        (&["forward", "--input", "ints.npy"], "<i8"),
        (&["forward", "--input", "x5.npy"], "rank 5"),
        (
            &["forward", "--input", "garbage.png"],
            "cannot read the image",
        ),
        (&["forward", "--input", "nan.npy"], "NaN"),
        (
            &["forward", "--input", "x.npy", "--weight", "w7.npy"],
            "kernel height dh·(R − 1) + 1 = 7",
        ),
        (
            &["forward", "--input", "x.npy", "--weight", "w3c2.npy"],
            "input channels",
        ),
        (
            &[
                "forward", "--input", "x.npy", "--weight", "w3c2.npy", "--bias", "b2.npy",
            ],
            "input channels",
        ),
        (
            &[
                "forward",
                "--input",
                "x.npy",
                "--filters",
                "random:1",
                "--kernel-size",
                "3",
                "--bias",
                "b2.npy",
            ],
            "bias length",
        ),
        (
            &["forward", "--input", "x.npy", "--bias", "b_rank2.npy"],
            "rank 2",
        ),
        (
            &["forward", "--input", "x.npy", "--filters", "random:0"],
            "random:K",
        ),
        (
            &["forward", "--input", "x.npy", "--filters", "sobel"],
            "random:K",
        ),
        (
            &["forward", "--input", "x.npy", "--stride", "0"],
            "stride_h",
        ),
        (
            &["forward", "--input", "x.npy", "--stride", "1,x"],
            "not a non-negative integer",
        ),
        (
            &["forward", "--input", "x.npy", "--fixed-scale=-1"],
            "--fixed-scale",
        ),
        (
            &["forward", "--input", "x.npy", "--backend", "vulcan"],
            "unknown backend",
        ),
        (
            &[
                "forward",
                "--input",
                "x.npy",
                "--adapter",
                "no-such-gpu-anywhere",
            ],
            "no adapter's name contains",
        ),
        (
            &["forward", "--input", "x.npy", "--timeout", "0"],
            "--timeout",
        ),
    ];
    for (args, needle) in cases {
        assert_refused(d, args, needle);
    }
}

#[test]
fn require_gpu_refuses_a_software_adapter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let info = wgconv(dir.path(), &["info"]);
    assert_eq!(info.code, 0, "{}", info.stderr);
    let chosen = info
        .stdout
        .lines()
        .find(|l| l.starts_with("chosen:"))
        .expect("chosen line");
    let software = chosen.contains(", Cpu,") || chosen.to_lowercase().contains("llvmpipe");
    let r = wgconv(dir.path(), &["info", "--require-gpu"]);
    if software {
        assert_eq!(r.code, 2, "{}", r.stdout);
        assert!(r.stderr.contains("CPU/software adapter"), "{}", r.stderr);
    } else {
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
}

#[test]
fn forward_runs_either_kernel_version_on_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let case = CaseGenerator::new(12).inputs(
        ConvShape::new(ConvShapeSpec {
            n: 2,
            c: 3,
            h: 13,
            w: 11,
            k: 70,
            r: 3,
            s: 4,
            stride: (1, 2),
            padding: wgconv::Padding::symmetric(2, 1),
            ..Default::default()
        })
        .expect("valid"),
        "cli",
    );
    write_npy(&d.join("x.npy"), &case.x.dims, &case.x.data);
    write_npy(&d.join("w.npy"), &case.w.dims, &case.w.data);
    for kernel in ["simple", "tiled"] {
        let r = wgconv(
            d,
            &[
                "forward",
                "--input",
                "x.npy",
                "--weight",
                "w.npy",
                "--stride",
                "1,2",
                "--padding",
                "2,1",
                "--kernel",
                kernel,
                "--check",
            ],
        );
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(&format!("forward kernel: {kernel}")),
            "{}",
            r.stdout
        );
    }
    assert_refused(
        d,
        &["forward", "--input", "x.npy", "--kernel", "fast"],
        "use one of simple, tiled, window, fused",
    );
    // The same set everywhere; a forward pass says why it has no fused loop.
    assert_refused(
        d,
        &["forward", "--input", "x.npy", "--kernel", "fused"],
        "a forward pass runs simple, tiled or window",
    );
    let r = wgconv(d, &["check", "--kernel", "fused"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("a forward pass runs simple, tiled or window"),
        "{}",
        r.stderr
    );
}

#[test]
fn bench_validates_times_and_writes_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let r = wgconv(
        d,
        &[
            "bench",
            "--shape",
            "2,2,12,10,3,3,3,1,1",
            "--repeats",
            "20",
            "--warmup",
            "1",
            "--inner",
            "4",
            "--peak-tflops",
            "1",
            "--json",
            "b.json",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("b.json")).expect("json"))
            .expect("parse");
    let results = doc["results"].as_array().expect("results");
    // simple, tiled and window: fwd, bwd, step each; fused: its step.
    assert_eq!(results.len(), 10, "{doc:#}");
    for r in results {
        let ms = r["median_ms"].as_f64().expect("median_ms");
        assert!(ms > 0.0 && ms.is_finite(), "{r}");
        assert!(r["validation_worst_ratio"].as_f64().expect("ratio") <= 1.0);
        assert!(r["percent_of_peak"].as_f64().is_some());
        assert_eq!(r["repeats"], 20);
    }
    let r = wgconv(
        d,
        &["bench", "--shape", "1,1,4,4,1,3,3,1,0", "--repeats", "5"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--repeats"), "{}", r.stderr);
    let r = wgconv(d, &["bench", "--shapes", "seed,alexnet"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("alexnet"), "{}", r.stderr);
}

#[test]
fn bench_timer_wall_times_by_the_wall_clock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let r = wgconv(
        d,
        &[
            "bench",
            "--shape",
            "1,1,8,8,2,3,3,1,0",
            "--kernel",
            "simple",
            "--pass",
            "fwd",
            "--repeats",
            "20",
            "--warmup",
            "0",
            "--timer",
            "wall",
            "--json",
            "w.json",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("timing: wall clock"), "{}", r.stdout);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("w.json")).expect("json"))
            .expect("parse");
    assert!(
        doc["timer"]
            .as_str()
            .expect("timer")
            .contains("--timer wall"),
        "{doc:#}"
    );
    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{doc:#}");
    assert_eq!(results[0]["timer"], "wall_clock", "{doc:#}");
    assert!(results[0]["median_ms"].as_f64().expect("median_ms") > 0.0);
    for bad in ["cpu", "", "WALL"] {
        let r = wgconv(d, &["bench", "--timer", bad, "--json", "bad.json"]);
        assert_eq!(r.code, 2, "--timer {bad:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("--timer"), "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(!d.join("bad.json").exists());
    }
}
