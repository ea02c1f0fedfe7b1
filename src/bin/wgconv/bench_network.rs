//! `wgconv bench --network`: each op of the digits network, validated against its f64 twin,
//! then timed, as a table.

use std::process::ExitCode;

use anyhow::bail;

use wgconv::bench;
use wgconv::AdapterRequest;

use crate::bench::{BenchArgs, MAX_REPEATS};
use crate::shared::open;

/// The most filters and batch `--network` takes: the linear layer's 100·K inputs and the batch's
/// tensors stay far inside every adapter's binding limit.
const MAX_NETWORK_FILTERS: u32 = 256;
const MAX_NETWORK_BATCH: u32 = 4096;

/// `bench --network`: the network's ops, validated then timed, as a table.
pub(crate) fn run_network(request: &AdapterRequest, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let batch = args.batch.unwrap_or(64);
    if !(1..=MAX_NETWORK_BATCH).contains(&batch) {
        bail!("--batch {batch}: with --network use 1 ..= {MAX_NETWORK_BATCH}");
    }
    if !(1..=MAX_NETWORK_FILTERS).contains(&args.filters) {
        bail!(
            "--filters {}: use 1 ..= {MAX_NETWORK_FILTERS}",
            args.filters
        );
    }
    if !(1..=MAX_REPEATS).contains(&args.repeats) || args.warmup > MAX_REPEATS {
        bail!("--repeats and --warmup: at most {MAX_REPEATS} (repeats at least 1)");
    }
    let ctx = open(request, &[])?;
    let rows = bench::network_rows_with(
        &ctx,
        args.filters,
        batch as usize,
        args.warmup,
        args.repeats,
        args.timer,
    )?;
    println!(
        "network: conv 1→{k} 5×5 + ReLU, max-pool 2, linear {} → 10, cross-entropy, SGD; batch {batch}; \
         median of {} repeats after {} warm-up",
        100 * args.filters,
        args.repeats,
        args.warmup,
        k = args.filters,
    );
    println!(
        "{:<38} {:>12} {:>10} {:>10}  timer",
        "op", "worst/bound", "median ms", "min ms"
    );
    for r in &rows {
        let ratio = r
            .worst_ratio
            .map_or("tests".to_string(), |v| format!("{v:.3}"));
        let timer = match r.timing.timer {
            bench::Timer::GpuTimestamps => "GPU timestamps",
            bench::Timer::WallClock => "wall clock",
        };
        println!(
            "{:<38} {ratio:>12} {:>10.3} {:>10.3}  {timer}",
            r.op, r.timing.median_ms, r.timing.min_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}
