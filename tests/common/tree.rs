//! Unix-only helpers for runs that must change nothing on disk: a directory tree, path by path,
//! to compare before and after; a refused run; a run under a umask; FIFOs and symlinks.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use super::{wgconv, Run};

/// One path: what it is, its mode and (for files) its bytes; symlinks are not followed and
/// FIFOs not opened.
#[derive(Debug, PartialEq)]
pub struct Entry {
    pub kind: String,
    pub mode: u32,
    pub bytes: Vec<u8>,
}

/// Every path under `dir`, relative to it.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        let m = std::fs::symlink_metadata(&p).expect("lstat");
        let t = m.file_type();
        let (kind, bytes) = if t.is_symlink() {
            let target = std::fs::read_link(&p).expect("readlink");
            (format!("symlink to {}", target.display()), Vec::new())
        } else if t.is_dir() {
            walk(root, &p, out);
            ("dir".to_string(), Vec::new())
        } else if t.is_file() {
            ("file".to_string(), std::fs::read(&p).expect("read"))
        } else if t.is_fifo() {
            ("fifo".to_string(), Vec::new())
        } else {
            ("other".to_string(), Vec::new())
        };
        let name = p.strip_prefix(root).expect("prefix").display().to_string();
        let mode = m.permissions().mode();
        out.insert(name, Entry { kind, mode, bytes });
    }
}

/// No panic, no abort, no backtrace hint.
pub fn assert_no_panic(r: &Run, what: &str) {
    for bad in ["panicked", "RUST_BACKTRACE", "memory allocation of"] {
        assert!(!r.stderr.contains(bad), "{what}: {bad}:\n{}", r.stderr);
    }
}

pub fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(ok.success(), "mkfifo {}", path.display());
}

pub fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

/// A refused run: exit 2, stderr names each needle, no panic, and the tree byte for byte as
/// it was (modes and kinds included).
pub fn refused(d: &Path, args: &[&str], needles: &[&str]) {
    let before = snapshot(d);
    let r = wgconv(d, args);
    assert_eq!(r.code, 2, "{args:?} should fail:\n{}{}", r.stdout, r.stderr);
    for needle in needles {
        assert!(
            r.stderr.contains(needle),
            "{args:?}: stderr should name {needle:?}:\n{}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("os error 17"), "{args:?}: {}", r.stderr);
    assert_no_panic(&r, &format!("{args:?}"));
    assert_eq!(snapshot(d), before, "{args:?} changed the tree");
}

pub fn mkdir(path: &Path) {
    std::fs::create_dir_all(path).expect("mkdir");
}

/// Runs `wgconv` under a umask.
pub fn wgconv_umask(dir: &Path, umask: &str, args: &[&str]) -> Run {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_wgconv"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run sh");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}
