//! The library's one error type: every failure a user can cause, named; and `Bytes`, how its
//! messages print a byte count.

use std::fmt;
use std::path::PathBuf;

use crate::npy::NpyError;
use crate::shape::ShapeError;
use crate::tensor::TensorError;

/// Hint printed with every "no adapter" error.
pub const SOFTWARE_ADAPTER_HINT: &str =
    "on Linux a software Vulkan adapter (lavapipe) needs no GPU: \
     `sudo apt-get install mesa-vulkan-drivers libvulkan1`; or try the OpenGL backend \
     (llvmpipe) with `--backend gl` / WGPU_BACKEND=gl";

// No variant has a `source`: each message already includes its cause, which error-chain printers
// (anyhow's `{:#}`) would print a second time. The From impls below stand in for `#[from]`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bad shape: {0}")]
    Shape(ShapeError),
    #[error("bad tensor: {0}")]
    Tensor(TensorError),
    #[error("{path}: {error}")]
    Npy { path: PathBuf, error: NpyError },
    #[cfg(feature = "cli")]
    #[error("{path}: cannot read the image: {error}")]
    Image {
        path: PathBuf,
        error: image::ImageError,
    },
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("no GPU adapter found for backends {backends}; {hint}")]
    NoAdapter {
        backends: String,
        hint: &'static str,
    },
    #[error("no adapter's name contains {wanted:?}; the adapters are: {available}")]
    AdapterNotFound { wanted: String, available: String },
    #[error(
        "the adapter {name:?} ({backend}) is a CPU/software adapter, and a real GPU was required \
         (--require-gpu); `wgconv info` lists the adapters"
    )]
    CpuAdapterRefused { name: String, backend: String },
    #[error("unknown backend {0:?}: use vulkan, metal, dx12, gl or a comma-separated list")]
    UnknownBackend(String),
    #[error("could not open a device on {adapter:?}: {message}")]
    RequestDevice { adapter: String, message: String },
    #[error("GPU validation error during {stage}: {message}")]
    Validation {
        stage: &'static str,
        message: String,
    },
    #[error("GPU out of memory during {stage}")]
    OutOfMemory { stage: &'static str },
    #[error("GPU internal error during {stage}: {message}")]
    Internal {
        stage: &'static str,
        message: String,
    },
    #[error(
        "the GPU did not finish {stage} within {seconds} s: the device hung or the job is too big \
         for it (raise the timeout with --timeout)"
    )]
    Timeout { stage: &'static str, seconds: f64 },
    #[error("reading results back from the GPU failed during {stage}: {message}")]
    Readback {
        stage: &'static str,
        message: String,
    },
    #[error(
        "{what} needs {}, over the device's {limit} of {}",
        Bytes(*.needed),
        Bytes(*.max)
    )]
    LimitExceeded {
        what: String,
        limit: &'static str,
        needed: u64,
        max: u64,
    },
    #[error(
        "{what} needs {} of host memory, over the {} available ({origin})",
        Bytes(*.needed),
        Bytes(*.available)
    )]
    HostMemory {
        what: String,
        needed: u64,
        available: u64,
        origin: &'static str,
    },
    #[error("training diverged: the loss of step {step} (0-based) is {loss}; nothing was written")]
    Diverged { step: u64, loss: f32 },
    #[error(
        "{what} was made on another GpuContext: a tensor is used only with the context (or a \
         clone of it) that made it"
    )]
    WrongContext { what: String },
    #[error("{0}")]
    Invalid(String),
}

impl From<ShapeError> for Error {
    fn from(e: ShapeError) -> Self {
        Error::Shape(e)
    }
}

impl From<TensorError> for Error {
    fn from(e: TensorError) -> Self {
        Error::Tensor(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error: source,
        }
    }
}

/// A byte count as people read it: "4000000000000 bytes (3.6 TiB)"; u64::MAX stands for a size
/// past 64 bits.
#[derive(Debug, Clone, Copy)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == u64::MAX {
            return write!(f, "more than 2⁶⁴ bytes");
        }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut value = self.0 as f64;
        let mut unit = None;
        for u in units {
            if value < 1024.0 {
                break;
            }
            value /= 1024.0;
            unit = Some(u);
        }
        match unit {
            Some(u) => write!(f, "{} bytes ({value:.1} {u})", self.0),
            None => write!(f, "{} bytes", self.0),
        }
    }
}
