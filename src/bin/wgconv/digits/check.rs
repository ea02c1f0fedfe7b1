//! `--check`: the first training steps of a fresh network (same seed, same batches as the run
//! starts with) with every kernel's output against its f64 twin.

use wgconv::digits::check::checked_steps;
use wgconv::digits::{self, Digits, Split};
use wgconv::GpuContext;

use super::Settings;
use crate::shared::print_check;

/// Steps checked.
pub const STEPS: usize = 3;

/// Runs the checked steps and prints each output's worst element; true when all are within
/// their bounds.
pub fn run(ctx: &GpuContext, data: &Digits, split: &Split, s: &Settings) -> anyhow::Result<bool> {
    let mut net = digits::network(ctx, s.filters, s.seed)?;
    let order = digits::shuffled(split.train.len(), s.seed, 0);
    let batches = order
        .chunks(s.batch)
        .take(STEPS)
        .map(|chunk| {
            let picks: Vec<usize> = chunk.iter().map(|&j| split.train[j]).collect();
            data.batch(&picks)
        })
        .collect::<Result<Vec<_>, _>>()?;
    println!(
        "checking {} steps of batch {} against the f64 twin (each kernel fed the GPU's inputs):",
        batches.len(),
        s.batch
    );
    let checks = checked_steps(&mut net, s.sgd, &batches)?;
    for (name, c) in &checks.outputs {
        print_check(name, c);
    }
    Ok(checks.passed())
}
