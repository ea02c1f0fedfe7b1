//! Pictures of feature maps, filters and inputs (PNG via the image crate).
//!
//! - post-ReLU maps: grayscale, 0 black and the scale's maximum white;
//! - pre-activations and filters: a diverging map, negative blue, zero white, positive red, so
//!   the ReLU cut (everything blue becomes black) is visible;
//! - small maps are upscaled with nearest neighbour so each value stays a crisp square.

use font8x8::UnicodeFonts;
use image::{Rgb, RgbImage};

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

const BACKGROUND: Rgb<u8> = Rgb([236, 236, 236]);
const INK: Rgb<u8> = Rgb([20, 20, 20]);
const FRAME: Rgb<u8> = Rgb([150, 150, 150]);
const LABEL_H: u32 = 12;
const GAP: u32 = 6;

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

/// Nearest-neighbour upscaling by an integer factor.
pub fn upscale(img: &RgbImage, factor: u32) -> RgbImage {
    image::imageops::resize(
        img,
        img.width() * factor,
        img.height() * factor,
        image::imageops::FilterType::Nearest,
    )
}

/// Draws `text` with the 8×8 font, top-left at (x, y); clipped to the image.
pub fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, color: Rgb<u8>) {
    for (i, ch) in text.chars().enumerate() {
        let Some(glyph) = font8x8::BASIC_FONTS.get(ch) else {
            continue;
        };
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) != 0 {
                    let (px, py) = (x + i as u32 * 8 + col, y + row as u32);
                    if px < img.width() && py < img.height() {
                        img.put_pixel(px, py, color);
                    }
                }
            }
        }
    }
}

/// Draws a rectangle outline `thickness` px wide.
pub fn draw_rect(
    img: &mut RgbImage,
    x0: u32,
    y0: u32,
    w: u32,
    h: u32,
    thickness: u32,
    color: Rgb<u8>,
) {
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            let edge = x < x0 + thickness
                || x + thickness >= x0 + w
                || y < y0 + thickness
                || y + thickness >= y0 + h;
            if edge && x < img.width() && y < img.height() {
                img.put_pixel(x, y, color);
            }
        }
    }
}

/// Lays out labelled cells in rows of `cols`, each cell framed, its label above it.
pub fn grid(cells: &[(String, RgbImage)], cols: usize) -> RgbImage {
    let cols = cols.clamp(1, cells.len().max(1));
    let rows = cells.len().div_ceil(cols).max(1);
    let label_w = cells
        .iter()
        .map(|(l, _)| l.chars().count() as u32 * 8)
        .max()
        .unwrap_or(0);
    let cell_w = cells
        .iter()
        .map(|(_, i)| i.width() + 2)
        .max()
        .unwrap_or(1)
        .max(label_w);
    let cell_h = cells.iter().map(|(_, i)| i.height() + 2).max().unwrap_or(1);
    let width = GAP + cols as u32 * (cell_w + GAP);
    let height = GAP + rows as u32 * (LABEL_H + cell_h + GAP);
    let mut out = RgbImage::from_pixel(width, height, BACKGROUND);
    for (i, (label, img)) in cells.iter().enumerate() {
        let x = GAP + (i % cols) as u32 * (cell_w + GAP);
        let y = GAP + (i / cols) as u32 * (LABEL_H + cell_h + GAP);
        draw_text(&mut out, x, y, label, INK);
        draw_rect(
            &mut out,
            x,
            y + LABEL_H,
            img.width() + 2,
            img.height() + 2,
            1,
            FRAME,
        );
        image::imageops::replace(&mut out, img, i64::from(x + 1), i64::from(y + LABEL_H + 1));
    }
    out
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

/// A line from (x0, y0) to (x1, y1), `thickness` px square pen, clipped to the image.
pub fn draw_line(
    img: &mut RgbImage,
    from: (f64, f64),
    to: (f64, f64),
    thickness: u32,
    color: Rgb<u8>,
) {
    let steps = (to.0 - from.0)
        .abs()
        .max((to.1 - from.1).abs())
        .ceil()
        .max(1.0) as usize;
    for i in 0..=steps {
        let t = i as f64 / steps as f64;
        let (x, y) = (from.0 + t * (to.0 - from.0), from.1 + t * (to.1 - from.1));
        for dy in 0..thickness {
            for dx in 0..thickness {
                let (px, py) = (
                    x.round() as i64 + i64::from(dx),
                    y.round() as i64 + i64::from(dy),
                );
                if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                    img.put_pixel(px as u32, py as u32, color);
                }
            }
        }
    }
}

/// The loss curve: loss against step, the loss axis in log scale with a line per decade.
/// Non-positive losses (an exact fit) are drawn at the bottom of the axis.
pub fn loss_curve(points: &[(u64, f32)], title: &str) -> RgbImage {
    const W: u32 = 640;
    const H: u32 = 400;
    const LEFT: u32 = 64;
    const RIGHT: u32 = 24;
    const TOP: u32 = 28;
    const BOTTOM: u32 = 36;
    let mut img = RgbImage::from_pixel(W, H, Rgb([255, 255, 255]));
    draw_text(&mut img, LEFT, 8, title, INK);
    let positive: Vec<f64> = points
        .iter()
        .map(|&(_, l)| f64::from(l))
        .filter(|&l| l > 0.0)
        .collect();
    let lo = positive.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = positive.iter().cloned().fold(0.0, f64::max);
    let (d0, d1) = if positive.is_empty() {
        (-1, 0)
    } else {
        let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (a, b.max(a + 1))
    };
    // The x axis runs from step 0 to the number of steps (one past the last step's index).
    let last_step = points.iter().map(|&(s, _)| s + 1).max().unwrap_or(1);
    let (pw, ph) = (f64::from(W - LEFT - RIGHT), f64::from(H - TOP - BOTTOM));
    let px = |step: u64| f64::from(LEFT) + pw * step as f64 / last_step as f64;
    let py = |loss: f64| {
        let l = if loss > 0.0 {
            loss.log10()
        } else {
            f64::from(d0)
        };
        let t = ((l - f64::from(d0)) / f64::from(d1 - d0)).clamp(0.0, 1.0);
        f64::from(TOP) + ph * (1.0 - t)
    };
    let grid = Rgb([225, 225, 225]);
    for d in d0..=d1 {
        let y = py(10f64.powi(d));
        draw_line(
            &mut img,
            (f64::from(LEFT), y),
            (f64::from(W - RIGHT), y),
            1,
            grid,
        );
        draw_text(
            &mut img,
            4,
            (y as u32).saturating_sub(4),
            &format!("1e{d}"),
            INK,
        );
    }
    for i in 0..=4u64 {
        let step = last_step * i / 4;
        let x = px(step);
        draw_line(
            &mut img,
            (x, f64::from(TOP)),
            (x, f64::from(H - BOTTOM)),
            1,
            grid,
        );
        let label = step.to_string();
        let lx = (x as u32).saturating_sub(label.len() as u32 * 4);
        draw_text(&mut img, lx, H - BOTTOM + 6, &label, INK);
    }
    draw_text(&mut img, W / 2 - 16, H - 14, "step", INK);
    draw_rect(
        &mut img,
        LEFT,
        TOP,
        W - LEFT - RIGHT + 1,
        H - TOP - BOTTOM + 1,
        1,
        FRAME,
    );
    let curve = Rgb([30, 90, 200]);
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        draw_line(
            &mut img,
            (px(a.0), py(f64::from(a.1))),
            (px(b.0), py(f64::from(b.1))),
            2,
            curve,
        );
    }
    if let [only] = points {
        draw_line(
            &mut img,
            (px(only.0), py(f64::from(only.1))),
            (px(only.0), py(f64::from(only.1))),
            3,
            curve,
        );
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

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
