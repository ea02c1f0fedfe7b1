//! A layer's weight and bias on disk: `.npy` or `.safetensors` (PyTorch's Conv2d names).

use std::path::Path;

use crate::error::{Error, Result};
use crate::npy::{self, NpyError};
use crate::tensor::Tensor4;

pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

pub(crate) fn npy_error(path: &Path, source: NpyError) -> Error {
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

/// True when `path` names a `.safetensors` file.
pub fn is_safetensors(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
}

/// The tensor `name` of a `.safetensors` file (F32 or F64, converted to f32).
pub fn read_safetensors(path: &Path, name: &str) -> Result<npy::NpyArray> {
    parse_safetensors(&read_bytes(path)?, name, &path.display().to_string())
}

/// Whether `.safetensors` bytes hold a tensor `name` (false for bytes that do not parse).
pub fn has_tensor(bytes: &[u8], name: &str) -> bool {
    safetensors::SafeTensors::deserialize(bytes).is_ok_and(|f| f.names().contains(&name))
}

/// The tensor `name` of `.safetensors` bytes (F32 or F64, converted to f32); `origin` names
/// where the bytes came from in errors.
pub fn parse_safetensors(bytes: &[u8], name: &str, origin: &str) -> Result<npy::NpyArray> {
    let invalid = |msg: String| Error::Invalid(format!("{origin}: {msg}"));
    let file = safetensors::SafeTensors::deserialize(bytes)
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
/// so that `torch.nn.Conv2d.load_state_dict(safetensors.torch.load_file(path))` takes them;
/// without a bias only `weight`, as the state dict of `Conv2d(..., bias=False)`.
pub fn safetensors_bytes(w: &Tensor4, b: Option<&[f32]>) -> Result<Vec<u8>> {
    fn view(shape: Vec<usize>, data: &[f32]) -> Result<safetensors::tensor::TensorView<'_>> {
        safetensors::tensor::TensorView::new(
            safetensors::Dtype::F32,
            shape,
            bytemuck::cast_slice(data),
        )
        .map_err(|e| Error::Invalid(format!("cannot build a safetensors view: {e}")))
    }
    let mut tensors = vec![("weight", view(w.dims.to_vec(), &w.data)?)];
    if let Some(b) = b {
        tensors.push(("bias", view(vec![b.len()], b)?));
    }
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
