//! Pictures of feature maps, filters and inputs (PNG via the image crate).
//!
//! - post-ReLU maps: grayscale, 0 black and the scale's maximum white;
//! - pre-activations and filters: a diverging map, negative blue, zero white, positive red, so
//!   the ReLU cut (everything blue becomes black) is visible;
//! - small maps are upscaled with nearest neighbour so each value stays a crisp square.

use image::{Rgb, RgbImage};

use crate::drawing::{draw_rect, grid, upscale};
use crate::tensor::Tensor4;

/// How map values are scaled to colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Each map by its own maximum (|max| for diverging maps).
    PerMap,
    /// One maximum shared by all maps in the picture, so they are comparable.
    Shared,
    /// A fixed maximum.
    Fixed(f32),
}

/// The nearest-neighbour factor that makes a map of this size about 160 px on its longer side.
pub fn upscale_factor(h: usize, w: usize) -> u32 {
    let longest = h.max(w).max(1) as u32;
    160u32.div_ceil(longest).clamp(1, 16)
}

/// Grayscale: 0 (and below) black, `max` (and above) white.
pub fn gray_map(values: &[f32], h: usize, w: usize, max: f32) -> RgbImage {
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let v = values[y as usize * w + x as usize];
        let t = if max > 0.0 {
            (v / max).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let g = (t * 255.0).round() as u8;
        Rgb([g, g, g])
    })
}

/// Diverging: −max blue, 0 white, +max red, linear in between.
pub fn diverging_map(values: &[f32], h: usize, w: usize, max_abs: f32) -> RgbImage {
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        diverging(values[y as usize * w + x as usize], max_abs)
    })
}

fn diverging(v: f32, max_abs: f32) -> Rgb<u8> {
    let t = if max_abs > 0.0 {
        (v / max_abs).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let fade = |t: f32| (255.0 * (1.0 - t.abs())).round() as u8;
    if t >= 0.0 {
        Rgb([255, fade(t), fade(t)])
    } else {
        Rgb([fade(t), fade(t), 255])
    }
}

/// Whether a map is post-ReLU (grayscale) or a signed pre-activation (diverging).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    PostRelu,
    PreActivation,
}

fn plane(t: &Tensor4, a: usize, b: usize) -> &[f32] {
    let len = t.dims[2] * t.dims[3];
    let start = t.offset(a, b, 0, 0);
    &t.data[start..start + len]
}

fn plane_max(values: &[f32], kind: MapKind) -> f32 {
    values.iter().fold(0.0f32, |m, &v| match kind {
        MapKind::PostRelu => m.max(v),
        MapKind::PreActivation => m.max(v.abs()),
    })
}

/// One picture per (n, k) map of an (N, K, P, Q) tensor, upscaled, with its label
/// ("n0 k1": batch 0, filter 1, both 0-based).
pub fn map_pictures(t: &Tensor4, kind: MapKind, scale: Scale) -> Vec<(String, RgbImage)> {
    let [n_, k_, h, w] = t.dims;
    let shared = plane_max(&t.data, kind);
    let factor = upscale_factor(h, w);
    let mut out = Vec::with_capacity(n_ * k_);
    for n in 0..n_ {
        for k in 0..k_ {
            let values = plane(t, n, k);
            let max = match scale {
                Scale::PerMap => plane_max(values, kind),
                Scale::Shared => shared,
                Scale::Fixed(v) => v,
            };
            let img = match kind {
                MapKind::PostRelu => gray_map(values, h, w, max),
                MapKind::PreActivation => diverging_map(values, h, w, max),
            };
            out.push((format!("n{n} k{k}"), upscale(&img, factor)));
        }
    }
    out
}

/// A grid of every map of an (N, K, P, Q) tensor: one row per batch item, one column per filter.
pub fn map_grid(t: &Tensor4, kind: MapKind, scale: Scale) -> RgbImage {
    grid(&map_pictures(t, kind, scale), t.dims[1])
}

/// A grid of the filters of a (K, C, R, S) weight tensor, diverging colours with one scale
/// shared by all (so their strengths compare): one row per filter k, one column per channel c.
pub fn filter_grid(w: &Tensor4) -> RgbImage {
    let [k_, c_, r, s] = w.dims;
    let max = plane_max(&w.data, MapKind::PreActivation);
    let factor = upscale_factor(r, s).min(24);
    let mut cells = Vec::with_capacity(k_ * c_);
    for k in 0..k_ {
        for c in 0..c_ {
            let img = diverging_map(plane(w, k, c), r, s, max);
            cells.push((format!("k{k} c{c}"), upscale(&img, factor.max(16))));
        }
    }
    grid(&cells, c_)
}

/// Image n of an (N, C, H, W) input in [0, 1]: grayscale for C = 1, RGB for C = 3, else channel 0.
pub fn input_picture(x: &Tensor4, n: usize) -> RgbImage {
    let [_, c, h, w] = x.dims;
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    RgbImage::from_fn(w as u32, h as u32, |px, py| {
        let at = |ch| x.at(n, ch, py as usize, px as usize);
        if c == 3 {
            Rgb([byte(at(0)), byte(at(1)), byte(at(2))])
        } else {
            let g = byte(at(0));
            Rgb([g, g, g])
        }
    })
}

/// Image n of an (N, C, H, W) tensor of any range, stretched so its minimum is black and its
/// maximum white (grayscale, channel 0).
pub fn stretched_picture(x: &Tensor4, n: usize) -> RgbImage {
    let [_, _, h, w] = x.dims;
    let start = x.offset(n, 0, 0, 0);
    let plane = &x.data[start..start + h * w];
    let lo = plane.iter().cloned().fold(f32::INFINITY, f32::min);
    let hi = plane.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let shifted: Vec<f32> = plane.iter().map(|v| v - lo).collect();
    gray_map(&shifted, h, w, hi - lo)
}

/// The notebook's figure 3.9: the input once per window position, the R×S window outlined in
/// red at (row, col).
pub fn input_with_windows(
    x: &Tensor4,
    r: usize,
    s: usize,
    positions: &[(usize, usize)],
) -> RgbImage {
    let base = input_picture(x, 0);
    let factor = upscale_factor(x.dims[2], x.dims[3]);
    let cells: Vec<(String, RgbImage)> = positions
        .iter()
        .map(|&(row, col)| {
            let mut img = upscale(&base, factor);
            draw_rect(
                &mut img,
                col as u32 * factor,
                row as u32 * factor,
                s as u32 * factor,
                r as u32 * factor,
                2,
                Rgb([230, 20, 20]),
            );
            (format!("({row},{col})"), img)
        })
        .collect();
    grid(&cells, positions.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drawing::{GAP, LABEL_H};

    #[test]
    fn colour_maps_put_zero_and_extremes_where_they_belong() {
        assert_eq!(diverging(0.0, 1.0), Rgb([255, 255, 255]));
        assert_eq!(diverging(1.0, 1.0), Rgb([255, 0, 0]));
        assert_eq!(diverging(-2.0, 1.0), Rgb([0, 0, 255]));
        let g = gray_map(&[0.0, 0.5, 1.0, -1.0], 1, 4, 1.0);
        assert_eq!(g.get_pixel(0, 0), &Rgb([0, 0, 0]));
        assert_eq!(g.get_pixel(1, 0), &Rgb([128, 128, 128]));
        assert_eq!(g.get_pixel(2, 0), &Rgb([255, 255, 255]));
        assert_eq!(g.get_pixel(3, 0), &Rgb([0, 0, 0]));
    }

    #[test]
    fn grid_has_room_for_every_cell() {
        let t = Tensor4::zeros([2, 3, 20, 20]);
        let g = map_grid(&t, MapKind::PostRelu, Scale::PerMap);
        let f = upscale_factor(20, 20);
        assert_eq!(f, 8);
        assert_eq!(g.width(), GAP + 3 * (20 * f + 2 + GAP));
        assert_eq!(g.height(), GAP + 2 * (LABEL_H + 20 * f + 2 + GAP));
    }
}
