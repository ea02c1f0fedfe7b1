//! Choosing a pass's kernel version by measuring it, as Burn's autotune and cuDNN's benchmark
//! mode do: the first time a layer's forward, dW or dX meets a shape on this context, every
//! version runs on the real tensors (once to warm up, then [`RUNS`] times, timed by GPU
//! timestamps where the adapter has them, else by the wall clock around a device wait) and the
//! fastest is kept for that shape. Off by default, and in a browser always: the rules of
//! `gpu::versions` choose then.
//!
//! Versions sum in different orders, so the choice can change the last bits of a result; for
//! a fixed choice (a warm cache, or `--kernel`) runs repeat bit for bit. The choices can be kept
//! on disk ([`GpuContext::set_tuning_file`]), one file per adapter, driver and crate version
//! ([`default_tuning_file`]), so a later run starts warm.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::gpu::kernel::KernelVersion;
use crate::gpu::GpuContext;
use crate::shape::ConvShape;

/// Timed runs per version (the minimum counts).
pub const RUNS: usize = 3;

/// The passes that are tuned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunedPass {
    Forward,
    WeightGrad,
    InputGrad,
}

/// A context's tuning: whether it measures, what it chose, where it keeps the choices.
#[derive(Default)]
pub(crate) struct Tuning {
    on: AtomicBool,
    state: Mutex<TuningState>,
}

#[derive(Default)]
struct TuningState {
    /// Shape key → version name.
    chosen: BTreeMap<String, String>,
    file: Option<PathBuf>,
    /// Choices measured by this context (not loaded).
    measured: usize,
}

/// The key of a pass on a shape: every field of the shape, and the pass.
fn key(pass: TunedPass, shape: &ConvShape, extra: &str) -> String {
    format!("{pass:?} {shape:?} {extra}")
}

/// `$XDG_CACHE_HOME/wgconv/` (else `$HOME/.cache/wgconv/`), a file named after the adapter, its
/// driver and this crate's version; None without either variable.
pub fn default_tuning_file(ctx: &GpuContext) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let a = ctx.adapter();
    let name: String = format!("{}-{}-{}", a.name, a.backend, a.driver)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    Some(
        base.join("wgconv")
            .join(format!("tune-{name}-{version}.txt")),
    )
}

impl GpuContext {
    /// Measure versions (true) or follow the rules (false, the default).
    pub fn set_tuning(&self, on: bool) {
        self.tuning.on.store(on, Ordering::Relaxed);
    }

    pub fn tunes(&self) -> bool {
        self.tuning.on.load(Ordering::Relaxed)
    }

    /// Keeps the choices in `path` (text, a line per choice: the version, a tab, the shape
    /// key): loads what it holds now, and rewrites it after each new choice. A file with a line
    /// of another form is an error.
    pub fn set_tuning_file(&self, path: &Path) -> Result<()> {
        let loaded = match std::fs::read_to_string(path) {
            Ok(text) => parse_choices(&text).map_err(|line| {
                Error::Invalid(format!(
                    "tuning file {}: line {line} is not \"VERSION<tab>KEY\" with a known version",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                return Err(Error::Invalid(format!(
                    "tuning file {}: {e}",
                    path.display()
                )))
            }
        };
        let mut state = self.tuning_state()?;
        state.chosen.extend(loaded);
        state.file = Some(path.to_path_buf());
        Ok(())
    }

    /// (the choices held: key and version name, the number this context measured).
    pub fn tuned_choices(&self) -> Result<(Vec<(String, String)>, usize)> {
        let state = self.tuning_state()?;
        let chosen = state.chosen.iter().map(|(k, v)| (k.clone(), v.clone()));
        Ok((chosen.collect(), state.measured))
    }

    fn tuning_state(&self) -> Result<std::sync::MutexGuard<'_, TuningState>> {
        self.tuning.state.lock().map_err(|_| Error::Internal {
            stage: "tuning",
            message: "tuning lock poisoned".into(),
        })
    }

    /// The version for `pass` on `shape`: `rule` when tuning is off; else the one held for the
    /// key, or the fastest of `run(version)` over every version that runs (a version that errs is
    /// left out; a tie keeps `rule`).
    pub(crate) fn tuned(
        &self,
        (pass, shape, extra): (TunedPass, &ConvShape, &str),
        rule: KernelVersion,
        mut run: impl FnMut(KernelVersion) -> Result<()>,
    ) -> Result<KernelVersion> {
        // A browser has no clock to time by here (and no blocking wait): the rules choose.
        if !self.tunes() || cfg!(target_arch = "wasm32") {
            return Ok(rule);
        }
        let key = key(pass, shape, extra);
        let held = self.tuning_state()?.chosen.get(&key).cloned();
        if let Some(v) = held.and_then(|name| KernelVersion::parse(&name)) {
            return Ok(v);
        }
        let mut best = (rule, f64::INFINITY);
        for v in KernelVersion::WINDOWED {
            let Ok(ms) = self.time_version(&mut run, v) else {
                continue;
            };
            if ms < best.1 || (ms == best.1 && v == rule) {
                best = (v, ms);
            }
        }
        let mut state = self.tuning_state()?;
        state.chosen.insert(key, best.0.name().to_string());
        state.measured += 1;
        if let Some(path) = &state.file {
            write_choices(path, &state.chosen)?;
        }
        Ok(best.0)
    }

    /// The least time of [`RUNS`] runs of `run(v)` after one warm-up, in ms.
    fn time_version(
        &self,
        run: &mut impl FnMut(KernelVersion) -> Result<()>,
        v: KernelVersion,
    ) -> Result<f64> {
        run(v)?;
        self.wait_for(None, "tuning")?;
        let mut least = f64::INFINITY;
        for _ in 0..RUNS {
            let start = Instant::now();
            let ((), gpu_ms) = self.time_ops(|| run(v))?;
            let ms = match gpu_ms {
                Some(ms) => ms,
                None => {
                    self.wait_for(None, "tuning")?;
                    start.elapsed().as_secs_f64() * 1e3
                }
            };
            least = least.min(ms);
        }
        Ok(least)
    }
}

/// The choices of a tuning file's text, or the number (from 1) of its first bad line.
fn parse_choices(text: &str) -> std::result::Result<BTreeMap<String, String>, usize> {
    let mut chosen = BTreeMap::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        match line.split_once('\t') {
            Some((v, key)) if KernelVersion::parse(v).is_some() && !key.is_empty() => {
                chosen.insert(key.to_string(), v.to_string());
            }
            _ => return Err(i + 1),
        }
    }
    Ok(chosen)
}

/// Writes the choices to `path` through a temporary file in its folder (made if missing).
fn write_choices(path: &Path, chosen: &BTreeMap<String, String>) -> Result<()> {
    let fail =
        |e: &dyn std::fmt::Display| Error::Invalid(format!("tuning file {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    }
    let text: String = chosen.iter().map(|(k, v)| format!("{v}\t{k}\n")).collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| fail(&e))?;
    std::fs::rename(&tmp, path).map_err(|e| fail(&e))
}
