//! Every staged file and made directory of this process's [`Outputs`](super::Outputs), so that
//! a process stopped by a signal can remove them before it exits: see [`abandon`]. Staging,
//! making a directory and the whole of a commit's renames each hold the registry's lock, so
//! [`abandon`] sees either none of a commit's renames or all of them.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub(super) struct Registry {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    moved: usize,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    files: Vec::new(),
    dirs: Vec::new(),
    moved: 0,
});

/// The registry, locked (a panic elsewhere while it was held leaves it usable).
pub(super) fn lock() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

impl Registry {
    pub fn add_file(&mut self, path: &Path) {
        self.files.push(path.to_path_buf());
    }

    pub fn add_dir(&mut self, path: &Path) {
        self.dirs.push(path.to_path_buf());
    }

    /// A staged file renamed into place (`moved`) or deleted.
    pub fn forget_file(&mut self, path: &Path, moved: bool) {
        self.files.retain(|f| f != path);
        self.moved += usize::from(moved);
    }

    /// A made directory that now holds outputs, or was removed.
    pub fn forget_dir(&mut self, path: &Path) {
        self.dirs.retain(|d| d != path);
    }
}

/// What [`abandon`] found.
#[derive(Debug, Clone, Copy)]
pub struct Abandoned {
    /// Staged files removed.
    pub files: usize,
    /// Directories made for outputs, removed (each only if empty).
    pub dirs: usize,
    /// Outputs already renamed into place before it.
    pub moved: usize,
}

/// Removes every staged file, then every directory made for one (innermost first, each only
/// if empty), and keeps the registry locked for good: nothing is staged, made or renamed into
/// place after it. For a process about to exit on a signal; waits for a commit in progress.
pub fn abandon() -> Abandoned {
    let r = lock();
    for f in &r.files {
        let _ = std::fs::remove_file(f);
    }
    for d in r.dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
    let found = Abandoned {
        files: r.files.len(),
        dirs: r.dirs.len(),
        moved: r.moved,
    };
    // Held until the process exits.
    std::mem::forget(r);
    found
}
