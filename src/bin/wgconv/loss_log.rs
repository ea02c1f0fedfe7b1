//! The loss log (`step,loss`, one row per step) written to its staged file as the losses come
//! back, so that a run of any length holds no memory per step.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use wgconv::outputs::Outputs;

/// Where the losses go, and the first and last of them.
pub struct LossLog<'a> {
    file: Option<(PathBuf, BufWriter<&'a mut File>)>,
    error: Option<std::io::Error>,
    first: Option<f32>,
    last: Option<f32>,
    steps: u64,
}

/// The losses of a run, in brief.
pub struct LossSummary {
    pub first: f32,
    pub last: f32,
    pub steps: u64,
}

impl<'a> LossLog<'a> {
    /// A log staged at `path` in `outputs` (none when None), its header written.
    pub fn new(outputs: &'a mut Outputs, path: Option<&Path>) -> anyhow::Result<Self> {
        let file = match path {
            Some(p) => {
                let mut w = BufWriter::new(outputs.file(p)?);
                w.write_all(b"step,loss\n")
                    .with_context(|| format!("{}: cannot write", p.display()))?;
                Some((p.to_path_buf(), w))
            }
            None => None,
        };
        Ok(LossLog {
            file,
            error: None,
            first: None,
            last: None,
            steps: 0,
        })
    }

    /// The losses of steps `first_step`, `first_step + 1`, …; printed with enough digits to
    /// round-trip an f32. A write error is kept for [`LossLog::finish`].
    pub fn record(&mut self, first_step: u64, losses: &[f32]) {
        self.first = self.first.or(losses.first().copied());
        self.last = losses.last().copied().or(self.last);
        self.steps += losses.len() as u64;
        let Some((_, w)) = &mut self.file else { return };
        if self.error.is_some() {
            return;
        }
        for (i, loss) in losses.iter().enumerate() {
            if let Err(e) = writeln!(w, "{},{loss:e}", first_step + i as u64) {
                self.error = Some(e);
                return;
            }
        }
    }

    /// Flushes the file; the first and last loss.
    pub fn finish(self) -> anyhow::Result<LossSummary> {
        if let Some((path, mut w)) = self.file {
            let flushed = match self.error {
                Some(e) => Err(e),
                None => w.flush(),
            };
            flushed.with_context(|| format!("{}: cannot write the loss log", path.display()))?;
        }
        Ok(LossSummary {
            first: self.first.unwrap_or(f32::NAN),
            last: self.last.unwrap_or(f32::NAN),
            steps: self.steps,
        })
    }
}
