//! `wgconv check`: GPU vs CPU on random shapes, every forward kernel version.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;

use wgconv::check::{run_case, Case, CaseGenerator};
use wgconv::gpu::KernelVersion;
use wgconv::gpu::WarmUp;
use wgconv::{AdapterRequest, GpuContext};

use crate::shared::{open, parse_forward_kernel};

#[derive(Args)]
pub struct CheckArgs {
    /// Number of random cases.
    #[arg(long, allow_negative_numbers = true, default_value_t = 200)]
    cases: usize,
    /// Seed of the shape generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Check one forward version only (simple, tiled, window); default: all.
    #[arg(long, value_name = "NAME")]
    kernel: Option<String>,
}

/// One case's row: the worst of every version's results.
struct Row {
    passed: bool,
    y_worst: f64,
    z_worst: f64,
}

pub fn run(request: &AdapterRequest, args: CheckArgs) -> anyhow::Result<ExitCode> {
    if args.cases == 0 {
        bail!("--cases must be at least 1");
    }
    let versions: Vec<KernelVersion> = match &args.kernel {
        None => KernelVersion::WINDOWED.to_vec(),
        Some(name) => vec![parse_forward_kernel(name)?],
    };
    let warm: Vec<WarmUp> = versions.iter().map(|&v| WarmUp::Forward(v)).collect();
    let ctx = open(request, &warm)?;
    let names: Vec<&str> = versions.iter().map(|v| v.name()).collect();
    println!("forward versions checked: {}", names.join(", "));
    let mut gen = CaseGenerator::new(args.seed);
    println!(
        "{:>5}  {:<24} {:<58} {:>8} {:>10} {:>10}  status",
        "case", "family", "shape", "outputs", "y err/bnd", "z err/bnd"
    );
    let (mut failed, mut worst, mut outputs) = (0usize, 0.0f64, 0u64);
    let started = Instant::now();
    for i in 0..args.cases {
        let case = gen.next_case();
        let row = run_versions(&ctx, &case, &versions, i)?;
        outputs += case.shape.output_len();
        worst = worst.max(row.y_worst).max(row.z_worst);
        if !row.passed {
            failed += 1;
        }
        println!(
            "{i:>5}  {:<24} {:<58} {:>8} {:>10.3e} {:>10.3e}  {}",
            case.family,
            case.shape.to_string(),
            case.shape.output_len(),
            row.y_worst,
            row.z_worst,
            if row.passed { "ok" } else { "FAIL" }
        );
    }
    println!(
        "{} cases ({outputs} outputs, y and z each) in {:.2} s: {} passed, {failed} failed; \
         worst error {worst:.3e} of its bound",
        args.cases,
        started.elapsed().as_secs_f64(),
        args.cases - failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Every kernel version on the same case.
fn run_versions(
    ctx: &GpuContext,
    case: &Case,
    versions: &[KernelVersion],
    i: usize,
) -> anyhow::Result<Row> {
    let mut row = Row {
        passed: true,
        y_worst: 0.0,
        z_worst: 0.0,
    };
    for &version in versions {
        let r = run_case(ctx, case, version)
            .with_context(|| format!("case {i} ({}): {}", version.name(), case.shape))?;
        row.passed &= r.passed();
        row.y_worst = row.y_worst.max(r.y.worst_ratio());
        row.z_worst = row.z_worst.max(r.z.worst_ratio());
    }
    Ok(row)
}
