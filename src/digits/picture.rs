//! A picture of one digit made into the network's input as the data are: 28×28 grayscale
//! bytes (resized when it is another size), light on dark (inverted when it is dark on light),
//! then the 24×24 centre crop, normalised.

use image::{imageops::FilterType, DynamicImage, GrayImage};

use super::{crop, SIDE};

/// What [`prepare_picture`] made of a picture.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The 28×28 bytes, light digit on dark, as the data's samples.
    pub pixels: Vec<u8>,
    /// The normalised 24×24 crop (576 values).
    pub input: Vec<f32>,
    /// The picture was dark on light (its border brighter than mid-gray) and was inverted.
    pub inverted: bool,
    /// Its size when it was not 28×28 (it was resized, triangle filter, aspect not kept).
    pub resized_from: Option<(u32, u32)>,
}

/// Grayscale (luma; a picture with transparency is first laid on white, as a viewer shows it),
/// resized to 28×28 unless it is already, inverted when the mean of its
/// outermost ring of pixels is above 127.5 (MNIST's digits are light on a black border), then
/// cropped and normalised like the data ([`super::crop`]).
pub fn prepare_picture(img: &DynamicImage) -> Prepared {
    let gray = if img.color().has_alpha() {
        on_white(img)
    } else {
        img.to_luma8()
    };
    let side = SIDE as u32;
    let (w, h) = gray.dimensions();
    let (gray, resized_from) = if (w, h) == (side, side) {
        (gray, None)
    } else {
        let small: GrayImage = image::imageops::resize(&gray, side, side, FilterType::Triangle);
        (small, Some((w, h)))
    };
    let mut pixels = gray.into_raw();
    let inverted = border_mean(&pixels) > 127.5;
    if inverted {
        pixels.iter_mut().for_each(|p| *p = 255 - *p);
    }
    let input = crop(&pixels);
    Prepared {
        pixels,
        input,
        inverted,
        resized_from,
    }
}

/// The mean of the 108 pixels on the edge of a 28×28 picture.
fn border_mean(pixels: &[u8]) -> f64 {
    let on_edge = |i: usize| {
        let (r, c) = (i / SIDE, i % SIDE);
        r == 0 || c == 0 || r == SIDE - 1 || c == SIDE - 1
    };
    let (sum, n) = pixels
        .iter()
        .enumerate()
        .filter(|&(i, _)| on_edge(i))
        .fold((0.0, 0.0), |(s, n), (_, &p)| (s + f64::from(p), n + 1.0));
    sum / n
}

/// The luma of a picture with alpha laid on white: l·a + 255·(1 − a), rounded.
fn on_white(img: &DynamicImage) -> GrayImage {
    let la = img.to_luma_alpha8();
    GrayImage::from_fn(la.width(), la.height(), |x, y| {
        let [l, a] = la.get_pixel(x, y).0;
        let (l, a) = (u32::from(l), u32::from(a));
        image::Luma([((l * a + 255 * (255 - a) + 127) / 255) as u8])
    })
}
