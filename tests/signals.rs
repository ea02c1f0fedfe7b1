//! SIGINT, SIGTERM and SIGHUP at set moments (while the device opens, after the first
//! submission of steps, before the final renames, after the first of them), reached through
//! the binary's test hook `WGCONV_TEST_PAUSE`: the run waits there for a signal. The tree is
//! compared before and after, path by path (kinds, modes, bytes), as the bad-input tests do.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::tree::{assert_no_panic, snapshot, Entry};
use common::{write_npy, Run};

use std::collections::BTreeMap;

const INT: i32 = libc::SIGINT;
const TERM: i32 = libc::SIGTERM;
const HUP: i32 = libc::SIGHUP;

/// Not a measure of speed: only how long a marker may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(300);

/// A `wgconv` run in progress, its stderr read line by line.
struct Running {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    stderr: String,
}

/// Starts `wgconv` with the three signals at their defaults (whatever this test inherited)
/// but those in `ignored`, which it starts with ignored.
fn spawn(dir: &Path, pause: &str, args: &[&str], ignored: &[i32]) -> Running {
    let ignored = ignored.to_vec();
    let mut command = Command::new(env!("CARGO_BIN_EXE_wgconv"));
    command
        .args(args)
        .current_dir(dir)
        .env("WGCONV_TEST_PAUSE", pause)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: signal() is async-signal-safe, as the child before exec requires.
    unsafe {
        command.pre_exec(move || {
            for sig in [INT, TERM, HUP] {
                let how = match ignored.contains(&sig) {
                    true => libc::SIG_IGN,
                    false => libc::SIG_DFL,
                };
                libc::signal(sig, how);
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("run wgconv");
    let err = child.stderr.take().expect("stderr");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Running {
        child,
        lines,
        stderr: String::new(),
    }
}

impl Running {
    /// Reads stderr up to a line that holds `needle`.
    fn wait_for(&mut self, needle: &str) {
        loop {
            match self.lines.recv_timeout(HANG) {
                Ok(line) => {
                    self.stderr.push_str(&line);
                    self.stderr.push('\n');
                    if line.contains(needle) {
                        return;
                    }
                }
                Err(e) => {
                    let _ = self.child.kill();
                    panic!("no {needle:?} on stderr ({e}):\n{}", self.stderr);
                }
            }
        }
    }

    fn paused_at(&mut self, point: &str) {
        self.wait_for(&format!("paused at {point}"));
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill only sends a signal to our child.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill");
    }

    fn finish(mut self) -> Run {
        let out = self.child.wait_with_output().expect("wait");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.stderr.push_str(&line);
            self.stderr.push('\n');
        }
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: self.stderr,
        }
    }
}

fn fixtures(d: &Path) {
    write_npy(&d.join("x.npy"), &[1, 1, 6, 6], &[0.5; 36]);
    write_npy(&d.join("w.npy"), &[1, 1, 3, 3], &[0.1; 9]);
    write_npy(&d.join("b.npy"), &[1], &[0.0]);
    write_npy(&d.join("t.npy"), &[1, 1, 4, 4], &[0.2; 16]);
    std::fs::write(d.join("y.npy"), b"old y").expect("write");
    std::fs::write(d.join("w2.npy"), b"old w2").expect("write");
}

/// `forward` with two outputs, one in directories it must make.
const FORWARD: &str = "forward --input x.npy --weight w.npy --bias b.npy --output y.npy \
                       --maps new/maps";

/// `step` with every output; STEPS is replaced by the step count. `step` and `train` run the
/// simple kernels: the fused loop takes minutes to compile on OpenGL (llvmpipe), and what a
/// signal does is the same with every kernel.
const STEP: &str = "step --input x.npy --weight w.npy --bias b.npy --target t.npy --lr 0.1 \
    --momentum 0.9 --steps STEPS --out-weight w2.npy --out-bias new/b2.npy --grad-weight dw.npy \
    --grad-input dx.npy --loss-log loss.csv --kernel simple";

const TRAIN: &str = "train --steps STEPS --out tr --save tr/student.safetensors --kernel simple";

fn words(command: &str, steps: u64) -> Vec<String> {
    let command = command.replace("STEPS", &steps.to_string());
    command.split_whitespace().map(str::to_string).collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn staged(tree: &BTreeMap<String, Entry>) -> Vec<&String> {
    tree.keys().filter(|p| p.contains(".wgconv-")).collect()
}

/// Runs `command` pausing at `points` in a fresh directory of fixtures, sends `signals[i]`
/// when it reaches `points[i]` (a later point is reached only once the signal before it was
/// handled), and returns the run with the tree before it. `staged_at`: a
/// point at which staged files must be on disk (checked before its signal).
fn interrupted(
    command: &[String],
    points: &[&str],
    signals: &[i32],
    staged_at: Option<&str>,
) -> (tempfile::TempDir, BTreeMap<String, Entry>, Run) {
    let dir = tempfile::tempdir().expect("tempdir");
    fixtures(dir.path());
    let before = snapshot(dir.path());
    let mut run = spawn(dir.path(), &points.join(","), &args(command), &[]);
    for (&point, &sig) in points.iter().zip(signals) {
        run.paused_at(point);
        if staged_at == Some(point) {
            let now = snapshot(dir.path());
            assert!(!staged(&now).is_empty(), "nothing staged at {point}");
        }
        run.signal(sig);
    }
    let r = run.finish();
    assert_no_panic(&r, &command.join(" "));
    (dir, before, r)
}

/// An uninterrupted run of `command` in a fresh directory of fixtures: its tree after.
fn completed(command: &[String]) -> BTreeMap<String, Entry> {
    let dir = tempfile::tempdir().expect("tempdir");
    fixtures(dir.path());
    let r = common::wgconv(dir.path(), &args(command));
    assert_eq!(r.code, 0, "{command:?}:\n{}{}", r.stdout, r.stderr);
    snapshot(dir.path())
}

fn assert_code(r: &Run, code: i32, needle: &str) {
    assert_eq!(r.code, code, "exit status:\n{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(needle),
        "stderr lacks {needle:?}:\n{}",
        r.stderr
    );
}

/// Aborted runs: the tree exactly as it was.
fn assert_untouched(d: &tempfile::TempDir, before: &BTreeMap<String, Entry>) {
    assert_eq!(&snapshot(d.path()), before, "the tree changed");
}

#[test]
fn a_signal_while_the_device_opens_leaves_the_disk_as_it_was() {
    let cases = [
        (words(FORWARD, 1), INT, 130, "interrupted by SIGINT"),
        (
            words(STEP, 1_000_000_000),
            TERM,
            143,
            "interrupted by SIGTERM",
        ),
        (
            words(TRAIN, 1_000_000_000),
            INT,
            130,
            "interrupted by SIGINT",
        ),
        (
            words(TRAIN, 1_000_000_000),
            HUP,
            129,
            "interrupted by SIGHUP",
        ),
    ];
    for (command, sig, code, needle) in cases {
        let (d, before, r) = interrupted(&command, &["opening"], &[sig], None);
        assert_code(&r, code, needle);
        assert_untouched(&d, &before);
    }
}

#[test]
fn forward_interrupted_before_its_renames_writes_nothing() {
    for (sig, code) in [(INT, 130), (TERM, 143)] {
        let command = words(FORWARD, 1);
        let (d, before, r) = interrupted(&command, &["commit"], &[sig], Some("commit"));
        assert_code(&r, code, "removed its staged outputs, nothing written");
        assert_untouched(&d, &before);
    }
}

#[test]
fn forward_interrupted_during_its_renames_finishes_them() {
    let command = words(FORWARD, 1);
    let done = completed(&command);
    let (d, _, r) = interrupted(&command, &["renaming"], &[TERM], None);
    assert_code(&r, 143, "its outputs were already in place");
    assert_eq!(snapshot(d.path()), done, "not the outputs of a whole run");
}

#[test]
fn step_stopped_by_one_sigint_writes_the_outputs_of_the_steps_done() {
    // One submission is 1024 steps: the run stops after the first.
    let (d, _, r) = interrupted(&words(STEP, 1_000_000_000), &["steps"], &[INT], None);
    assert_code(
        &r,
        130,
        "interrupted at step 1024: outputs are for 1024 steps",
    );
    let log = std::fs::read_to_string(d.path().join("loss.csv")).expect("loss log");
    assert_eq!(log.lines().count(), 1 + 1024, "{log}");
    assert!(
        log.lines().last().unwrap_or("").starts_with("1023,"),
        "{log}"
    );
    // Every output (weights, bias, gradients, dX, loss log) is a 1024-step run's.
    assert_eq!(snapshot(d.path()), completed(&words(STEP, 1024)));
}

#[test]
fn step_stopped_then_aborted_writes_nothing() {
    let command = words(STEP, 1_000_000_000);
    let points = ["steps", "commit"];
    let (d, before, r) = interrupted(&command, &points, &[INT, INT], Some("commit"));
    assert_code(&r, 130, "removed its staged outputs, nothing written");
    assert_untouched(&d, &before);
}

#[test]
fn train_stopped_by_one_sigint_writes_the_outputs_of_the_steps_done() {
    // One submission is --log-every (50) steps: the run stops after the first.
    let (d, _, r) = interrupted(&words(TRAIN, 1_000_000_000), &["steps"], &[INT], None);
    assert_code(&r, 130, "interrupted at step 50: outputs are for 50 steps");
    let after = snapshot(d.path());
    let log = String::from_utf8_lossy(&after["tr/loss.csv"].bytes).into_owned();
    assert_eq!(log.lines().count(), 1 + 50, "{log}");
    // The loss log, the saved student and every picture are a 50-step run's; filters.png
    // differs only in its snapshots (steps 0 and 50 here; 0, 5, 15, 50 there).
    let done = completed(&words(TRAIN, 50));
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        done.keys().collect::<Vec<_>>()
    );
    for (path, entry) in &done {
        if path != "tr/filters.png" {
            assert!(after[path] == *entry, "{path} differs from a 50-step run's");
        }
    }
    image::load_from_memory(&after["tr/filters.png"].bytes).expect("filters.png");
}

#[test]
fn train_stopped_then_aborted_writes_nothing() {
    let command = words(TRAIN, 1_000_000_000);
    let points = ["steps", "commit"];
    let (d, before, r) = interrupted(&command, &points, &[TERM, TERM], Some("commit"));
    assert_code(&r, 143, "removed its staged outputs, nothing written");
    assert_untouched(&d, &before);
}

#[test]
fn train_aborts_at_once_on_sighup() {
    let command = words(TRAIN, 1_000_000_000);
    let (d, before, r) = interrupted(&command, &["steps"], &[HUP], Some("steps"));
    assert_code(&r, 129, "interrupted by SIGHUP");
    assert_untouched(&d, &before);
}

#[test]
fn a_sigint_ignored_at_start_stays_ignored() {
    // As a script's `cmd &` starts it: SIGINT does nothing, SIGTERM still stops the steps.
    let dir = tempfile::tempdir().expect("tempdir");
    fixtures(dir.path());
    let command = words(STEP, 1_000_000_000);
    let mut run = spawn(dir.path(), "steps", &args(&command), &[INT]);
    run.paused_at("steps");
    run.signal(INT);
    run.signal(TERM);
    let r = run.finish();
    assert_no_panic(&r, "step");
    assert_code(
        &r,
        143,
        "interrupted at step 1024: outputs are for 1024 steps",
    );
    assert!(!r.stderr.contains("SIGINT"), "{}", r.stderr);
    assert!(
        dir.path().join("dx.npy").is_file(),
        "no outputs:\n{}",
        r.stderr
    );
}

const DIGITS: &str = "digits --steps STEPS --out dg --save dg/model.safetensors";

#[test]
fn digits_stopped_by_one_sigint_writes_the_outputs_of_the_steps_done() {
    // The pause comes after the first step: the run stops there.
    let (d, _, r) = interrupted(&words(DIGITS, 1000), &["steps"], &[INT], None);
    assert_code(&r, 130, "interrupted at step 1: outputs are for 1 steps");
    let after = snapshot(d.path());
    // Every file, the saved model and the pictures, is a 1-step run's, byte for byte.
    let done = completed(&words(DIGITS, 1));
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        done.keys().collect::<Vec<_>>()
    );
    for (path, entry) in &done {
        assert!(after[path] == *entry, "{path} differs from a 1-step run's");
    }
}

#[test]
fn digits_stopped_then_aborted_writes_nothing() {
    let command = words(DIGITS, 1000);
    let points = ["steps", "commit"];
    let (d, before, r) = interrupted(&command, &points, &[INT, INT], Some("commit"));
    assert_code(&r, 130, "removed its staged outputs, nothing written");
    assert_untouched(&d, &before);
}
