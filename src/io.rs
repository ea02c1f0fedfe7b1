//! The CLI's inputs, read from images or `.npy` (its outputs: [`crate::outputs`]).

use std::path::Path;

use crate::error::{Error, Result};
use crate::npy::{self, NpyError};
use crate::tensor::Tensor4;
use crate::weights::{npy_error, read_bytes};

mod image_end;

/// How to read an image as an input tensor.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageOptions {
    /// Three channels (R, G, B) instead of one (luma).
    pub rgb: bool,
    /// Resize to (H, W) first (triangle filter).
    pub resize: Option<(u32, u32)>,
}

/// What an input file holds.
pub enum Input {
    /// A `.npy` array, as (N, C, H, W).
    Array(Tensor4),
    /// A decoded image, whole.
    Image(image::DynamicImage),
}

/// An input tensor (N, C, H, W) from an image (any format the image crate reads, scaled to
/// [0, 1]) or a `.npy` array of rank 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W). `options` apply
/// to images: asked of a `.npy` array they are an error naming the flags (`--rgb`, `--resize`).
pub fn read_input(path: &Path, options: ImageOptions) -> Result<Tensor4> {
    match read_any(path)? {
        Input::Image(img) => Ok(image_to_tensor(&img, options)),
        Input::Array(t) => {
            let flags: Vec<&str> = [
                options.rgb.then_some("--rgb"),
                options.resize.map(|_| "--resize"),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !flags.is_empty() {
                let verb = if flags.len() == 1 { "applies" } else { "apply" };
                return Err(Error::Invalid(format!(
                    "{} {verb} to an image input only, and {} is a .npy array (used as it is)",
                    flags.join(" and "),
                    path.display()
                )));
            }
            Ok(t)
        }
    }
}

/// Reads an input file: a `.npy` array (also one cut inside its magic, which is reported as
/// such) or an image, refused when truncated.
pub fn read_any(path: &Path) -> Result<Input> {
    let bytes = read_bytes(path)?;
    if bytes.is_empty() {
        return Err(npy_error(path, NpyError::Empty));
    }
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
        let t = Tensor4::new(&path.display().to_string(), dims, a.data)?;
        return Ok(Input::Array(t));
    }
    let image_error = |error| Error::Image {
        path: path.to_path_buf(),
        error,
    };
    let format = image::guess_format(&bytes).map_err(image_error)?;
    if let Some(why) = image_end::truncated(format, &bytes) {
        return Err(Error::Invalid(format!("{}: {why}", path.display())));
    }
    let img = image::load_from_memory_with_format(&bytes, format).map_err(image_error)?;
    Ok(Input::Image(img))
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
