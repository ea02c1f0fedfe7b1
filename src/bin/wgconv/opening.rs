//! Opening the device within its timeout (`--timeout`, or 900 s without it). Finding the
//! adapter, opening the device, compiling every kernel and running those the command uses once
//! (drivers that compile at first dispatch do it then) run on a worker thread: wgpu gives them no timeout, the
//! driver compiles synchronously. The main thread waits at most the timeout, says which stage is
//! slow, and on a timeout the process exits with an error, the worker thread with it.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use wgconv::gpu::WarmUp;
use wgconv::{AdapterRequest, GpuContext};

/// The stage that runs the command's kernels once: drivers that compile at first dispatch (OpenGL on
/// llvmpipe) compile here, under the timeout, not in the middle of the command's work.
const WARMING_UP: &str = "running the kernels once";

/// A stage still running after this long gets a note on stderr.
const NOTE_AFTER: Duration = Duration::from_secs(2);

enum Progress {
    Stage(&'static str),
    Done(Box<wgconv::Result<GpuContext>>),
}

/// [`GpuContext::new`] and [`GpuContext::warm_up`], given up on after
/// `request.compile_timeout`.
pub fn open_within_timeout(
    request: &AdapterRequest,
    warm: &[WarmUp],
) -> anyhow::Result<GpuContext> {
    let (tx, rx) = mpsc::channel();
    let worker_request = request.clone();
    let warm = warm.to_vec();
    std::thread::Builder::new()
        .name("open-device".into())
        .spawn(move || {
            crate::signals::test_pause("opening");
            let stages = tx.clone();
            let ctx = GpuContext::new_reporting(&worker_request, |s| {
                let _ = stages.send(Progress::Stage(s));
            })
            .and_then(|ctx| {
                let _ = stages.send(Progress::Stage(WARMING_UP));
                ctx.warm_up(&warm).map(|()| ctx)
            });
            let _ = tx.send(Progress::Done(Box::new(ctx)));
        })
        .context("cannot start a thread to open the device")?;
    let timeout = request.compile_timeout;
    let started = Instant::now();
    let (mut stage, mut stage_started, mut noted) = ("starting", started, false);
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            eprintln!(
                "error: {stage} did not finish within {} s, the limit on opening the device \
                 (compiling every kernel, which on a driver's first run, e.g. OpenGL with a cold \
                 shader cache, can take minutes); raise it with --timeout (without it the limit is 900 s)",
                timeout.as_secs_f64()
            );
            leave_now(2);
        }
        let until_note = NOTE_AFTER.saturating_sub(stage_started.elapsed());
        let wait = if noted { left } else { left.min(until_note) };
        match rx.recv_timeout(wait) {
            Ok(Progress::Stage(s)) => (stage, stage_started, noted) = (s, Instant::now(), false),
            Ok(Progress::Done(ctx)) => return Ok((*ctx)?),
            Err(RecvTimeoutError::Timeout) => {
                if !noted && stage_started.elapsed() >= NOTE_AFTER {
                    note(stage, timeout);
                    noted = true;
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                bail!("opening the device stopped during {stage} without an answer")
            }
        }
    }
}

/// Exits at once with `code`, skipping the process's exit handlers: the worker thread may be
/// inside the driver (loading its LLVM, compiling), and running exit handlers under it can
/// crash the process (seen on lavapipe: "LLVM ERROR: inconsistency in registered CommandLine
/// options", a signal instead of exit 2). On a timeout nothing is on disk yet: outputs are
/// staged only at the end of a run; the signal thread removes what it finds staged first.
pub fn leave_now(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stderr().flush();
    let _ = std::io::stdout().flush();
    #[cfg(unix)]
    // SAFETY: _exit only ends the process; it touches no Rust state.
    unsafe {
        libc::_exit(code)
    }
    #[cfg(not(unix))]
    std::process::exit(code)
}

fn note(stage: &str, timeout: Duration) {
    let why = match stage {
        "compiling the kernels" | WARMING_UP => {
            " (first run on this driver: its shader cache is filling)"
        }
        _ => "",
    };
    eprintln!(
        "note: {stage}…{why}; --timeout {} s covers it",
        timeout.as_secs_f64()
    );
}
