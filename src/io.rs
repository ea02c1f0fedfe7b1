//! Reading inputs (images, `.npy`) as tensors, and writing outputs atomically.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::npy::{self, NpyError};
use crate::tensor::Tensor4;

/// How to read an image as an input tensor.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageOptions {
    /// Three channels (R, G, B) instead of one (luma).
    pub rgb: bool,
    /// Resize to (H, W) first (triangle filter).
    pub resize: Option<(u32, u32)>,
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

fn npy_error(path: &Path, source: NpyError) -> Error {
    Error::Npy {
        path: path.to_path_buf(),
        error: source,
    }
}

/// Reads a `.npy` file.
pub fn read_npy(path: &Path) -> Result<npy::NpyArray> {
    let bytes = read_bytes(path)?;
    npy::parse(&bytes).map_err(|e| npy_error(path, e))
}

/// An input tensor (N, C, H, W) from an image (any format the image crate reads, scaled to
/// [0, 1]) or a `.npy` array of rank 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W).
pub fn read_input(path: &Path, options: ImageOptions) -> Result<Tensor4> {
    let bytes = read_bytes(path)?;
    if npy::is_npy(&bytes) {
        let a = npy::parse(&bytes).map_err(|e| npy_error(path, e))?;
        let dims = match a.shape[..] {
            [h, w] => [1, 1, h, w],
            [c, h, w] => [1, c, h, w],
            [n, c, h, w] => [n, c, h, w],
            _ => {
                return Err(npy_error(
                    path,
                    NpyError::Rank {
                        expected: "2 (H, W), 3 (C, H, W) or 4 (N, C, H, W)".into(),
                        got: a.shape.len(),
                    },
                ))
            }
        };
        return Ok(Tensor4::new(&path.display().to_string(), dims, a.data)?);
    }
    let img = image::load_from_memory(&bytes).map_err(|error| Error::Image {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(image_to_tensor(&img, options))
}

/// An image as a (1, C, H, W) tensor in [0, 1].
pub fn image_to_tensor(img: &image::DynamicImage, options: ImageOptions) -> Tensor4 {
    let img = match options.resize {
        Some((h, w)) => img.resize_exact(w, h, image::imageops::FilterType::Triangle),
        None => img.clone(),
    };
    let (w, h) = (img.width() as usize, img.height() as usize);
    if options.rgb {
        let rgb = img.to_rgb32f();
        let mut data = vec![0.0f32; 3 * h * w];
        for (x, y, p) in rgb.enumerate_pixels() {
            for c in 0..3 {
                data[(c * h + y as usize) * w + x as usize] = p.0[c].clamp(0.0, 1.0);
            }
        }
        Tensor4 {
            dims: [1, 3, h, w],
            data,
        }
    } else {
        let luma = img.to_luma32f();
        Tensor4 {
            dims: [1, 1, h, w],
            data: luma.as_raw().iter().map(|v| v.clamp(0.0, 1.0)).collect(),
        }
    }
}

/// True when `path` names a `.safetensors` file.
pub fn is_safetensors(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
}

/// The tensor `name` of a `.safetensors` file (F32 or F64, converted to f32).
pub fn read_safetensors(path: &Path, name: &str) -> Result<npy::NpyArray> {
    let bytes = read_bytes(path)?;
    let invalid = |msg: String| Error::Invalid(format!("{}: {msg}", path.display()));
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| invalid(format!("not a valid .safetensors file: {e}")))?;
    let view = file.tensor(name).map_err(|_| {
        invalid(format!(
            "no tensor named {name:?} (it holds {:?}; PyTorch's Conv2d names are \"weight\" and \"bias\")",
            file.names()
        ))
    })?;
    let data: Vec<f32> = match view.dtype() {
        safetensors::Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        safetensors::Dtype::F64 => view
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect(),
        other => {
            return Err(invalid(format!(
                "tensor {name:?} is {other:?}; F32 or F64 is needed"
            )))
        }
    };
    Ok(npy::NpyArray {
        shape: view.shape().to_vec(),
        data,
    })
}

/// `weight` (K, C, R, S) and `bias` (K) as a `.safetensors` file, under PyTorch's Conv2d names,
/// so that `torch.nn.Conv2d.load_state_dict(safetensors.torch.load_file(path))` takes them.
pub fn safetensors_bytes(w: &Tensor4, b: &[f32]) -> Result<Vec<u8>> {
    fn view(shape: Vec<usize>, data: &[f32]) -> Result<safetensors::tensor::TensorView<'_>> {
        safetensors::tensor::TensorView::new(
            safetensors::Dtype::F32,
            shape,
            bytemuck::cast_slice(data),
        )
        .map_err(|e| Error::Invalid(format!("cannot build a safetensors view: {e}")))
    }
    let tensors = vec![
        ("weight", view(w.dims.to_vec(), &w.data)?),
        ("bias", view(vec![b.len()], b)?),
    ];
    safetensors::serialize(tensors, None)
        .map_err(|e| Error::Invalid(format!("cannot write safetensors: {e}")))
}

/// Weights (K, C, R, S) from a `.npy` of rank 4, or rank 2 (R, S) for a single filter, or from
/// the tensor `weight` of a `.safetensors` file.
pub fn read_weight(path: &Path) -> Result<Tensor4> {
    let a = if is_safetensors(path) {
        read_safetensors(path, "weight")?
    } else {
        read_npy(path)?
    };
    let dims = match a.shape[..] {
        [r, s] => [1, 1, r, s],
        [k, c, r, s] => [k, c, r, s],
        _ => {
            return Err(npy_error(
                path,
                NpyError::Rank {
                    expected: "4 (K, C, R, S) or 2 (R, S)".into(),
                    got: a.shape.len(),
                },
            ))
        }
    };
    Ok(Tensor4::new(&path.display().to_string(), dims, a.data)?)
}

/// A bias vector (K) from a `.npy` of rank 1, or the tensor `bias` of a `.safetensors` file.
pub fn read_bias(path: &Path) -> Result<Vec<f32>> {
    let a = if is_safetensors(path) {
        read_safetensors(path, "bias")?
    } else {
        read_npy(path)?
    };
    if a.shape.len() != 1 {
        return Err(npy_error(
            path,
            NpyError::Rank {
                expected: "1 (K)".into(),
                got: a.shape.len(),
            },
        ));
    }
    Ok(a.data)
}

/// Output files staged in temporary files beside their destinations. Nothing appears at a
/// destination until [`Outputs::commit`]; dropping the set (on any error) deletes the
/// temporaries, so a failed run leaves no half-written file and clobbers nothing.
#[derive(Default)]
pub struct Outputs {
    staged: Vec<(tempfile::NamedTempFile, PathBuf)>,
}

impl Outputs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stages `bytes` for `path` (the parent directory is created if missing).
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".wgconv-")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&dir, e))?;
        tmp.write_all(bytes)
            .and_then(|_| tmp.flush())
            .map_err(|e| Error::io(path, e))?;
        self.staged.push((tmp, path.to_path_buf()));
        Ok(())
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

    /// Moves every staged file to its destination (each by an atomic rename).
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let mut done = Vec::with_capacity(self.staged.len());
        for (tmp, path) in self.staged {
            tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
            done.push(path);
        }
        Ok(done)
    }
}
