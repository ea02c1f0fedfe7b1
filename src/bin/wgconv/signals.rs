//! SIGINT, SIGTERM and SIGHUP, handled on a thread of their own (the handler itself only wakes
//! it), so that nothing waits on the main thread, which may be inside the driver.
//!
//! A signal aborts: the staged outputs and the directories made for them are removed
//! ([`wgconv::outputs::abandon`], which waits for a commit's renames in progress) and the
//! process exits at once with 128 + the signal's number (130, 143, 129), as shells report it.
//! Exception: while a command's steps run ([`stop_gracefully`]: `train`, `step`), a first
//! SIGINT or SIGTERM only asks it to stop after the GPU submission in flight and write its
//! outputs for the steps done ([`stop_requested`]); a second one aborts. SIGHUP always aborts.
//! A signal ignored when the process started (`nohup`, `&` in a script) stays ignored.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

/// Signals seen so far.
static COUNT: AtomicU32 = AtomicU32::new(0);
/// The first signal's number (0: none).
static FIRST: AtomicI32 = AtomicI32::new(0);
/// A first SIGINT or SIGTERM stops the steps instead of aborting.
static GRACEFUL: AtomicBool = AtomicBool::new(false);
/// The signal thread is aborting: it will end the process.
static ABORTING: AtomicBool = AtomicBool::new(false);
/// The command has said where it stopped.
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Starts the signal thread. Call first, before any output is staged.
pub fn install() -> anyhow::Result<()> {
    #[cfg(unix)]
    imp::install()?;
    Ok(())
}

/// From now on a first SIGINT or SIGTERM asks the command to stop (see the module's
/// description); a signal already seen has aborted.
pub fn stop_gracefully() {
    GRACEFUL.store(true, Ordering::SeqCst);
}

/// Whether a signal asked the command to stop.
pub fn stop_requested() -> bool {
    COUNT.load(Ordering::SeqCst) > 0
}

/// Says, once, that a signal stopped the command after `n` steps.
pub fn report_stop(n: u64) {
    if stop_requested() && !REPORTED.swap(true, Ordering::SeqCst) {
        eprintln!("interrupted at step {n}: outputs are for {n} steps");
    }
}

/// The command's exit status, or 128 + the signal's number if one came. Where the signal
/// thread is aborting it ends the process, and this waits for it.
pub fn finish(code: ExitCode) -> ExitCode {
    if ABORTING.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    let sig = FIRST.load(Ordering::SeqCst);
    if sig == 0 {
        return code;
    }
    if !REPORTED.load(Ordering::SeqCst) {
        eprintln!(
            "wgconv: {} came after the last step: the outputs are complete",
            name(sig)
        );
    }
    ExitCode::from(exit_status(sig) as u8)
}

/// Test hook: with `WGCONV_TEST_PAUSE` naming `point` (in a comma-separated list), says so on
/// stderr and waits there for the next signal. For the signal tests only.
pub fn test_pause(point: &str) {
    let Ok(points) = std::env::var("WGCONV_TEST_PAUSE") else {
        return;
    };
    if !points.split(',').any(|p| p == point) {
        return;
    }
    let seen = COUNT.load(Ordering::SeqCst);
    eprintln!("wgconv test hook: paused at {point}");
    while COUNT.load(Ordering::SeqCst) == seen {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn exit_status(sig: i32) -> i32 {
    128 + sig
}

fn name(sig: i32) -> &'static str {
    match sig {
        2 => "SIGINT",
        15 => "SIGTERM",
        1 => "SIGHUP",
        _ => "a signal",
    }
}

/// What the signal thread does with each signal. ABORTING is set before COUNT moves, so that
/// whoever sees the count move (a test pause, [`finish`]) also sees an abort under way.
fn on_signal(sig: i32, graceful_kind: bool) {
    let first = COUNT.load(Ordering::SeqCst) == 0;
    let stop_only = first && graceful_kind && GRACEFUL.load(Ordering::SeqCst);
    if !stop_only {
        ABORTING.store(true, Ordering::SeqCst);
    }
    let _ = FIRST.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
    COUNT.fetch_add(1, Ordering::SeqCst);
    if stop_only {
        eprintln!(
            "\nwgconv: {}: stopping after the GPU work in flight, then writing the outputs for \
             the steps done; press Ctrl-C again to abort, writing nothing",
            name(sig)
        );
        return;
    }
    ABORTING.store(true, Ordering::SeqCst);
    let found = wgconv::outputs::abandon();
    let what = if found.files > 0 || found.dirs > 0 {
        "removed its staged outputs, nothing written"
    } else if found.moved > 0 {
        "its outputs were already in place"
    } else {
        "nothing written"
    };
    eprintln!("\nwgconv: interrupted by {}: {what}", name(sig));
    crate::opening::leave_now(exit_status(sig));
}

#[cfg(unix)]
mod imp {
    use anyhow::Context;
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    pub fn install() -> anyhow::Result<()> {
        let wanted: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
            .into_iter()
            .filter(|&s| !ignored(s))
            .collect();
        let mut signals = Signals::new(&wanted).context("cannot handle SIGINT and SIGTERM")?;
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    super::on_signal(sig, sig != SIGHUP);
                }
            })
            .context("cannot start the thread that handles signals")?;
        Ok(())
    }

    /// Whether `sig` is ignored now (as `nohup` and a script's `&` leave SIGHUP and SIGINT).
    fn ignored(sig: i32) -> bool {
        // SAFETY: a null new action only reads the current one into `old`.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        }
    }
}
