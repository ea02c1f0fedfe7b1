//! What `wgconv bench` reports: the table it prints and the JSON (`--json`) that
//! `bench/compare.py` reads.

use serde::Serialize;

use wgconv::bench::{self, Timer, Timing, Validation};
use wgconv::gpu::{Pass, TrainVersions};
use wgconv::ConvShape;

/// One kernel version on one shape.
pub struct Subject<'a> {
    pub name: &'a str,
    pub shape: &'a ConvShape,
    pub kernel: &'static str,
    pub versions: TrainVersions,
}

/// The file `--json` writes; `bench/compare.py` reads it.
#[derive(Serialize)]
pub struct Report {
    adapter: String,
    /// How passes were timed, in words.
    timer: &'static str,
    results: Vec<Measurement>,
}

impl Report {
    /// The report of the timed rows (those that failed validation have no times).
    pub fn new(adapter: String, timer: &'static str, rows: Vec<Row>) -> Self {
        let results = rows
            .into_iter()
            .filter_map(|r| match r {
                Row::Timed(m) => Some(m),
                Row::Failed { .. } => None,
            })
            .collect();
        Report {
            adapter,
            timer,
            results,
        }
    }
}

/// One timed pass of one kernel version on one shape.
#[derive(Serialize)]
pub struct Measurement {
    /// The shape's name, or its nine numbers as given.
    shape: String,
    dims: Dims,
    /// fwd, bwd or step.
    pass: &'static str,
    /// simple, tiled, window or fused.
    kernel: &'static str,
    /// False for the fused loop's step, which computes no dX.
    includes_dx: bool,
    median_ms: f64,
    min_ms: f64,
    repeats: u32,
    inner: u32,
    /// gpu_timestamps or wall_clock.
    timer: &'static str,
    gflops: f64,
    percent_of_peak: Option<f64>,
    buffer_bytes: u64,
    /// The reduced shape the CPU validated, and its worst error as a fraction of its bound.
    validated_on: String,
    validation_worst_ratio: f64,
}

#[derive(Serialize)]
pub struct Dims {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    k: u32,
    r: u32,
    s: u32,
    stride: u32,
    pad: u32,
}

/// A table row: a timed pass, or a version that failed validation and was not timed.
pub enum Row {
    Timed(Measurement),
    Failed {
        shape: String,
        kernel: &'static str,
        validation: Validation,
    },
}

impl Measurement {
    /// The measurement of `pass` of `subject`, with its FLOP rate.
    pub fn new(
        subject: &Subject,
        pass: Pass,
        timing: &Timing,
        buffer_bytes: u64,
        validation: &Validation,
        peak_tflops: Option<f64>,
    ) -> Self {
        let shape = subject.shape;
        let flops = bench::pass_flops(shape, pass) as f64;
        let gflops = flops / (timing.median_ms * 1e-3) / 1e9;
        Measurement {
            shape: subject.name.to_string(),
            dims: Dims {
                n: shape.n,
                c: shape.c,
                h: shape.h,
                w: shape.w,
                k: shape.k,
                r: shape.r,
                s: shape.s,
                stride: shape.stride.0,
                pad: shape.padding.top,
            },
            pass: bench::pass_name(pass),
            kernel: subject.kernel,
            includes_dx: !subject.versions.fused_loop,
            median_ms: timing.median_ms,
            min_ms: timing.min_ms,
            repeats: timing.repeats,
            inner: timing.inner,
            timer: match timing.timer {
                Timer::GpuTimestamps => "gpu_timestamps",
                Timer::WallClock => "wall_clock",
            },
            gflops,
            percent_of_peak: peak_tflops.map(|p| 100.0 * gflops / (p * 1e3)),
            buffer_bytes,
            validated_on: validation.shape.to_string(),
            validation_worst_ratio: validation.worst_ratio,
        }
    }
}

/// The table: one row per timed pass or failed validation, and what a fused step is.
pub fn print_table(rows: &[Row], any_fused: bool) {
    println!(
        "{:<10} {:<6} {:<7} {:>10} {:>10} {:>10} {:>7} {:>9}  validation (worst error/bound on the reduced shape)",
        "shape", "pass", "kernel", "median ms", "min ms", "GFLOP/s", "% peak", "MiB"
    );
    for row in rows {
        match row {
            Row::Timed(r) => println!(
                "{:<10} {:<6} {:<7} {:>10.4} {:>10.4} {:>10.1} {:>7} {:>9.2}  {:.2e} on {}",
                r.shape,
                r.pass,
                r.kernel,
                r.median_ms,
                r.min_ms,
                r.gflops,
                r.percent_of_peak
                    .map_or("-".to_string(), |p| format!("{p:.1}")),
                r.buffer_bytes as f64 / (1 << 20) as f64,
                r.validation_worst_ratio,
                r.validated_on
            ),
            Row::Failed {
                shape,
                kernel,
                validation: v,
            } => println!(
                "{shape:<10} {:<6} {kernel:<7} FAILED validation on {} (worst {:.3e} of its bound): not timed",
                "-", v.shape, v.worst_ratio
            ),
        }
    }
    if any_fused {
        println!("fused: the fused loop's step is forward, loss, dW, db and SGD without dX (training needs none)");
    }
}
