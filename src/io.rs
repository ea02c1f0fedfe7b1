//! The CLI's inputs, read from images or `.npy` (its outputs: [`crate::outputs`]).

use std::path::Path;

use crate::error::{Error, Result};
use crate::npy::{self, NpyError};
use crate::tensor::Tensor4;
use crate::weights::{npy_error, read_bytes};

/// How to read an image as an input tensor.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageOptions {
    /// Three channels (R, G, B) instead of one (luma).
    pub rgb: bool,
    /// Resize to (H, W) first (triangle filter).
    pub resize: Option<(u32, u32)>,
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
