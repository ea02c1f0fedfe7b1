//! A run's output files. Every output path is declared, with the inputs, before any work and
//! checked then: its directory exists or can be made, it is not a directory nor any other
//! non-regular file, no two outputs are the same file and no output is an input. The bytes are
//! staged in temporary files beside their destinations and renamed into place by
//! [`Outputs::commit`]; a run that ends without committing (an error, a failed check) removes
//! its staged files and the directories it created. A symlink output is written through: its
//! target is replaced, the link is kept. Every staged file and made directory is also listed in
//! a process-wide registry, so that a process stopped by a signal can remove them: [`abandon`].

mod paths;
mod registry;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::npy;
use crate::tensor::Tensor4;
use paths::{
    destination, ensure_writable, file_id, kind_of, new_file, parent_of, refuse, Identity,
};
pub use registry::{abandon, Abandoned};

struct Input {
    flag: String,
    path: PathBuf,
    id: Identity,
}

struct Output {
    flag: String,
    /// As given: what messages and the "wrote" list show.
    path: PathBuf,
    /// Where the rename goes: `path`, or a symlink's final target.
    dest: PathBuf,
    id: Identity,
    /// Directories missing now, outermost first; made when the file is staged.
    missing_dirs: Vec<PathBuf>,
    staged: Option<tempfile::NamedTempFile>,
}

/// Declared inputs and outputs, and the outputs' staged files.
#[derive(Default)]
pub struct Outputs {
    inputs: Vec<Input>,
    outputs: Vec<Output>,
    /// The outputs by path as given, by key and by file identity (there may be many map files).
    paths: HashMap<PathBuf, usize>,
    keys: HashMap<PathBuf, usize>,
    files: HashMap<(u64, u64), usize>,
    /// Directories already found writable.
    writable: HashSet<PathBuf>,
    made_dirs: Vec<PathBuf>,
    committed: bool,
}

impl Outputs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares an input, so that no output may be it. A path that cannot be resolved is let
    /// through: reading it reports the problem.
    pub fn input(&mut self, flag: &str, path: &Path) -> Result<()> {
        let Ok(key) = path.canonicalize() else {
            return Ok(());
        };
        let file = std::fs::metadata(&key).ok().and_then(|m| file_id(&m));
        let input = Input {
            flag: flag.to_string(),
            path: path.to_path_buf(),
            id: Identity { key, file },
        };
        for o in &self.outputs {
            if o.id.same(&input.id) {
                return Err(same_as_input(o, &input));
            }
        }
        self.inputs.push(input);
        Ok(())
    }

    /// Declares an output file and checks it (see the module's description). Nothing is
    /// created yet.
    pub fn declare(&mut self, flag: &str, path: &Path) -> Result<()> {
        let (dest, existing) = destination(flag, path)?;
        let (id, missing_dirs) = match existing {
            Some(m) => {
                ensure_writable(flag, path, parent_of(&dest), &mut self.writable)?;
                let key = dest.canonicalize().map_err(|e| refuse(flag, path, e))?;
                let file = file_id(&m);
                (Identity { key, file }, Vec::new())
            }
            None => new_file(flag, path, &dest, &mut self.writable)?,
        };
        let out = Output {
            flag: flag.to_string(),
            path: path.to_path_buf(),
            dest,
            id,
            missing_dirs,
            staged: None,
        };
        if let Some(input) = self.inputs.iter().find(|i| i.id.same(&out.id)) {
            return Err(same_as_input(&out, input));
        }
        let by_file = out.id.file.and_then(|f| self.files.get(&f));
        if let Some(&i) = self.keys.get(&out.id.key).or(by_file) {
            let other = &self.outputs[i];
            return Err(refuse(
                flag,
                path,
                format_args!(
                    "the same file as {} {}; give each output its own path",
                    other.flag,
                    other.path.display()
                ),
            ));
        }
        self.paths.insert(out.path.clone(), self.outputs.len());
        self.keys.insert(out.id.key.clone(), self.outputs.len());
        if let Some(f) = out.id.file {
            self.files.insert(f, self.outputs.len());
        }
        self.outputs.push(out);
        Ok(())
    }

    /// The staged file of a declared output, created (with any missing directory) on first use:
    /// for writing in parts.
    pub fn file(&mut self, path: &Path) -> Result<&mut File> {
        let &i = self.paths.get(path).ok_or_else(|| {
            Error::Invalid(format!(
                "internal error: {} was not declared as an output",
                path.display()
            ))
        })?;
        let staged = match self.outputs[i].staged.take() {
            Some(tmp) => tmp,
            None => self.stage(i)?,
        };
        Ok(self.outputs[i].staged.insert(staged).as_file_mut())
    }

    /// Makes the missing directories and the staged file, each listed in the registry as it is
    /// made (the registry locked throughout: see [`abandon`]).
    fn stage(&mut self, i: usize) -> Result<tempfile::NamedTempFile> {
        let mut listed = registry::lock();
        let o = &self.outputs[i];
        for dir in &o.missing_dirs {
            if dir.is_dir() {
                continue;
            }
            std::fs::create_dir(dir).map_err(|e| {
                let why = format!("cannot create the directory {}: {e}", dir.display());
                refuse(&o.flag, &o.path, why)
            })?;
            listed.add_dir(dir);
            self.made_dirs.push(dir.clone());
        }
        let dir = parent_of(&o.dest);
        let mut builder = tempfile::Builder::new();
        builder.prefix(".wgconv-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The mode any new file gets: 0666 less the umask (tempfile's default is 0600).
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder
            .tempfile_in(&dir)
            .map_err(|e| refuse(&o.flag, &o.path, format_args!("cannot write here: {e}")))?;
        listed.add_file(tmp.path());
        Ok(tmp)
    }

    /// Stages `bytes` as the whole of a declared output.
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let file = self.file(path)?;
        file.write_all(bytes)
            .and_then(|_| file.flush())
            .map_err(|e| Error::io(path, e))
    }

    /// Stages an f32 `.npy` file.
    pub fn add_npy(&mut self, path: &Path, t: &Tensor4) -> Result<()> {
        self.add(path, &npy::encode_f32(&t.dims, &t.data))
    }

    /// Stages a rank-1 f32 `.npy` file.
    pub fn add_npy_vec(&mut self, path: &Path, v: &[f32]) -> Result<()> {
        self.add(path, &npy::encode_f32(&[v.len()], v))
    }

    /// Stages a PNG.
    pub fn add_png(&mut self, path: &Path, img: &image::RgbImage) -> Result<()> {
        let mut bytes = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|error| Error::Image {
            path: path.to_path_buf(),
            error,
        })?;
        self.add(path, &bytes)
    }

    /// Moves every staged file to its destination, each by an atomic rename, after checking
    /// that every declared output was staged and no destination turned into a directory or
    /// other non-regular file meanwhile. Returns the paths as declared.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        self.commit_with(|_| {})
    }

    /// [`Outputs::commit`], calling `after_each(path)` after each rename. The renames hold the
    /// registry's lock from the first to the last: a signal's [`abandon`] waits for them all.
    pub fn commit_with(mut self, mut after_each: impl FnMut(&Path)) -> Result<Vec<PathBuf>> {
        for o in &self.outputs {
            if o.staged.is_none() {
                return Err(refuse(
                    &o.flag,
                    &o.path,
                    "internal error: nothing was staged",
                ));
            }
            if let Ok(m) = std::fs::metadata(&o.dest) {
                if !m.is_file() {
                    let why = format!("is now {}, not a regular file", kind_of(&m));
                    return Err(refuse(&o.flag, &o.path, why));
                }
            }
        }
        let mut done = Vec::with_capacity(self.outputs.len());
        let mut listed = registry::lock();
        for o in &mut self.outputs {
            if let Some(tmp) = o.staged.take() {
                let staged = tmp.path().to_path_buf();
                let moved = tmp.persist(&o.dest);
                listed.forget_file(&staged, moved.is_ok());
                if let Err(e) = moved {
                    drop(listed);
                    return Err(Error::io(&o.path, e.error));
                }
            }
            done.push(o.path.clone());
            after_each(&o.path);
        }
        for dir in &self.made_dirs {
            listed.forget_dir(dir);
        }
        self.committed = true;
        Ok(done)
    }
}

impl Drop for Outputs {
    /// Not committed: the staged files go (dropping a `NamedTempFile` deletes it), then the
    /// directories made for them, innermost first, each only if empty.
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let mut listed = registry::lock();
        for o in &mut self.outputs {
            if let Some(tmp) = o.staged.take() {
                listed.forget_file(tmp.path(), false);
            }
        }
        for dir in self.made_dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
            listed.forget_dir(dir);
        }
    }
}

fn same_as_input(o: &Output, input: &Input) -> Error {
    let why = format!(
        "this is the input {} {}; outputs never replace inputs: write to another path",
        input.flag,
        input.path.display()
    );
    refuse(&o.flag, &o.path, why)
}
