//! What an output path leads to: its destination, its identity, the directories to make.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::Metadata;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Where a path leads: its absolute, normalised spelling and, if it exists, the file's identity
/// (device and inode on Unix), which catches hard links and other spellings.
pub(super) struct Identity {
    pub key: PathBuf,
    pub file: Option<(u64, u64)>,
}

impl Identity {
    pub fn same(&self, other: &Identity) -> bool {
        self.key == other.key || (self.file.is_some() && self.file == other.file)
    }
}

pub(super) fn refuse(flag: &str, path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{flag} {}: {why}", path.display()))
}

/// What a non-regular, non-directory file is, in words.
pub(super) fn kind_of(m: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        } else if t.is_char_device() {
            return "a character device";
        } else if t.is_block_device() {
            return "a block device";
        } else if t.is_socket() {
            return "a socket";
        }
    }
    if m.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

pub(super) fn file_id(m: &Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        None
    }
}

/// `path` made absolute from its deepest existing ancestor (canonicalized), the rest appended
/// with `.` dropped and `..` applied.
fn normalised(existing: &Path, rest: &[OsString]) -> std::io::Result<PathBuf> {
    let mut key = existing.canonicalize()?;
    for part in rest {
        match part.to_str() {
            Some(".") => {}
            Some("..") => {
                key.pop();
            }
            _ => key.push(part),
        }
    }
    Ok(key)
}

pub(super) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Where an output goes (a symlink's target, or the path itself) and the metadata of what is
/// there now; refuses what cannot be an output file.
pub(super) fn destination(flag: &str, path: &Path) -> Result<(PathBuf, Option<Metadata>)> {
    let text = path.as_os_str();
    if text.is_empty() {
        return Err(Error::Invalid(format!("{flag}: the path is empty")));
    }
    // The last name as written ("y.npy/", "a/." and ".." end in "", "." and "..").
    let text = text.to_string_lossy();
    let last = text.rsplit(std::path::is_separator).next().unwrap_or("");
    if matches!(last, "" | "." | "..") {
        return Err(refuse(flag, path, "names a directory, not a file"));
    }
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(_) => return Ok((path.to_path_buf(), None)),
    };
    let (dest, m) = if link.file_type().is_symlink() {
        std::fs::metadata(path)
            .and_then(|m| Ok((path.canonicalize()?, m)))
            .map_err(|e| refuse(flag, path, dangling(e)))?
    } else {
        (path.to_path_buf(), link)
    };
    if m.is_dir() {
        return Err(refuse(flag, path, "is a directory; give a file path"));
    }
    if !m.is_file() {
        let why = format!(
            "is {}, not a regular file; outputs are written to regular files only",
            kind_of(&m)
        );
        return Err(refuse(flag, path, why));
    }
    Ok((dest, Some(m)))
}

/// A file to be created: its identity and the directories to make, after checking that its
/// deepest existing ancestor is a directory we may write in.
pub(super) fn new_file(
    flag: &str,
    path: &Path,
    dest: &Path,
    writable: &mut HashSet<PathBuf>,
) -> Result<(Identity, Vec<PathBuf>)> {
    let name = dest
        .file_name()
        .ok_or_else(|| refuse(flag, path, "names a directory, not a file"))?;
    let mut rest = vec![name.to_os_string()];
    let mut missing = Vec::new();
    let mut dir = parent_of(dest);
    let existing = loop {
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => break dir,
            Ok(m) => {
                let why = format!("{} is {}, not a directory", dir.display(), kind_of_file(&m));
                return Err(refuse(flag, path, why));
            }
            Err(e) if std::fs::symlink_metadata(&dir).is_ok() => {
                let why = format!("{}: {}", dir.display(), dangling(e));
                return Err(refuse(flag, path, why));
            }
            Err(e) if is_missing(&e) => {
                match dir.components().next_back() {
                    Some(Component::Normal(name)) => rest.push(name.to_os_string()),
                    Some(Component::ParentDir) => rest.push("..".into()),
                    _ => return Err(refuse(flag, path, format_args!("{}: {e}", dir.display()))),
                }
                let up = parent_of(&dir);
                missing.push(dir);
                dir = up;
            }
            Err(e) => return Err(refuse(flag, path, format_args!("{}: {e}", dir.display()))),
        }
    };
    rest.reverse();
    missing.reverse();
    let key = normalised(&existing, &rest).map_err(|e| refuse(flag, path, e))?;
    ensure_writable(flag, path, existing, writable)?;
    Ok((Identity { key, file: None }, missing))
}

/// Refuses a directory we may not create files in; an unnamed temporary file, gone when
/// dropped, is the test.
pub(super) fn ensure_writable(
    flag: &str,
    path: &Path,
    dir: PathBuf,
    writable: &mut HashSet<PathBuf>,
) -> Result<()> {
    if !writable.contains(&dir) {
        tempfile::tempfile_in(&dir).map_err(|e| {
            let why = format!("cannot write in {}: {e}", dir.display());
            refuse(flag, path, why)
        })?;
        writable.insert(dir);
    }
    Ok(())
}

fn kind_of_file(m: &Metadata) -> &'static str {
    if m.is_file() {
        "a regular file"
    } else {
        kind_of(m)
    }
}

fn dangling(e: std::io::Error) -> String {
    format!("a symlink whose target cannot be reached ({e})")
}

/// Not there, or under a path component that is not a directory (reported when reached).
fn is_missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}
