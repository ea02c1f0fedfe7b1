//! Pictures of feature maps, filters and inputs (PNG via the image crate).
//!
//! - post-ReLU maps: grayscale, 0 black and the scale's maximum white;
//! - pre-activations and filters: a diverging map, negative blue, zero white, positive red, so
//!   the ReLU cut (everything blue becomes black) is visible;
//! - small maps are upscaled with nearest neighbour so each value stays a crisp square.

use image::{Rgb, RgbImage};

use crate::drawing::{draw_rect, upscale};
use crate::plots::{
    self, diverging, gray, Bars, ColourBar, Colours, Indices, MapFigure, Panel, PlotError,
};
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
        gray(values[y as usize * w + x as usize], max)
    })
}

/// Diverging: −max blue, 0 white, +max red, linear in between.
pub fn diverging_map(values: &[f32], h: usize, w: usize, max_abs: f32) -> RgbImage {
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        diverging(values[y as usize * w + x as usize], max_abs)
    })
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

/// The colours and colour bar of a map: its values' range (or the fixed scale's) and colours.
pub fn bar_of(values: &[f32], all: &[f32], kind: MapKind, scale: Scale) -> ColourBar {
    let range = |v: &[f32]| {
        let lo = v.iter().cloned().fold(f32::INFINITY, f32::min);
        let hi = v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        if lo <= hi {
            (lo, hi)
        } else {
            (0.0, 0.0)
        }
    };
    let (max, (lo, hi)) = match scale {
        Scale::PerMap => (plane_max(values, kind), range(values)),
        Scale::Shared => (plane_max(all, kind), range(all)),
        Scale::Fixed(v) => match kind {
            MapKind::PostRelu => (v, (0.0, v)),
            MapKind::PreActivation => (v, (-v, v)),
        },
    };
    let colours = match kind {
        MapKind::PostRelu => Colours::Gray { max },
        MapKind::PreActivation => Colours::Diverging { max_abs: max },
    };
    ColourBar { lo, hi, colours }
}

/// The figure of every map of an (N, K, P, Q) tensor: one row per batch item, one column per
/// filter, pixel axes, and colour bars (one per map for `Scale::PerMap`, else one shared).
pub fn map_figure(
    t: &Tensor4,
    kind: MapKind,
    scale: Scale,
    title: &str,
) -> Result<MapFigure, PlotError> {
    let [n_, k_, h, w] = t.dims;
    let name = match kind {
        MapKind::PostRelu => "c",
        MapKind::PreActivation => "z",
    };
    let mut panels = Vec::with_capacity(n_ * k_);
    for n in 0..n_ {
        for k in 0..k_ {
            let label = format!("{name}{} of image {}", sup(k + 1), n + 1);
            let values = plane(t, n, k);
            panels.push(Panel {
                label,
                values,
                h,
                w,
            });
        }
    }
    let bars = match scale {
        Scale::PerMap => Bars::PerPanel,
        _ => Bars::Shared(bar_of(&t.data, &t.data, kind, scale)),
    };
    plots::map_figure(title, Indices::Output, &panels, k_, bars, |p| {
        bar_of(p.values, &t.data, kind, scale)
    })
}

/// `map_figure` with a title that says what the maps are.
pub fn map_grid(t: &Tensor4, kind: MapKind, scale: Scale) -> Result<RgbImage, PlotError> {
    let title = match kind {
        MapKind::PostRelu => "feature maps c = ReLU(z), after the ReLU",
        MapKind::PreActivation => "pre-activations z = Σ w·x + b, before the ReLU (blue < 0 < red)",
    };
    Ok(map_figure(t, kind, scale, title)?.img)
}

/// The filters of a (K, C, R, S) weight tensor, diverging colours with one scale shared by all
/// (so their strengths compare) and one colour bar: a row per filter k, a column per channel c.
pub fn filter_grid(w: &Tensor4) -> Result<RgbImage, PlotError> {
    let title = "filters w (weights; blue < 0 < red)";
    Ok(weights_figure(title, &[(String::new(), w)])?.img)
}

/// Weight tensors side by side, one column per tensor (and channel), one row per filter, one
/// shared diverging scale and colour bar; `named` gives each tensor's label suffix.
pub fn weights_figure(title: &str, named: &[(String, &Tensor4)]) -> Result<MapFigure, PlotError> {
    let all: Vec<f32> = named
        .iter()
        .flat_map(|(_, w)| w.data.iter().cloned())
        .collect();
    let [k_, c_, r, s] = named.first().map_or([0; 4], |(_, w)| w.dims);
    let mut panels = Vec::new();
    for k in 0..k_ {
        for (name, w) in named {
            for c in 0..c_ {
                let channel = if c_ > 1 {
                    format!(" channel {}", c + 1)
                } else {
                    String::new()
                };
                let label = format!("w{}{channel}{name}", sup(k + 1));
                let values = plane(w, k, c);
                panels.push(Panel {
                    label,
                    values,
                    h: r,
                    w: s,
                });
            }
        }
    }
    let bar = bar_of(&all, &all, MapKind::PreActivation, Scale::Shared);
    let cols = named.len() * c_;
    plots::map_figure(
        title,
        Indices::Weights,
        &panels,
        cols,
        Bars::Shared(bar),
        |_| bar,
    )
}

/// Superscript digits: 12 → "¹²".
pub fn sup(n: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
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
/// red at (row, col) (0-based here; the picture's axes count from 1).
pub fn input_with_windows(
    x: &Tensor4,
    r: usize,
    s: usize,
    positions: &[(usize, usize)],
) -> Result<RgbImage, PlotError> {
    let [_, _, h, w] = x.dims;
    let values = &x.data[..h * w];
    let panels: Vec<Panel<'_>> = positions
        .iter()
        .map(|&(row, col)| Panel {
            label: format!("window at i = {}, j = {}", row + 1, col + 1),
            values,
            h,
            w,
        })
        .collect();
    let bar = ColourBar {
        lo: 0.0,
        hi: 1.0,
        colours: Colours::Gray { max: 1.0 },
    };
    let title = format!("figure 3.9: a {r}×{s} filter slides over the {h}×{w} input x");
    let bars = Bars::Shared(bar);
    let mut fig = plots::map_figure(
        &title,
        Indices::Input,
        &panels,
        positions.len(),
        bars,
        |_| bar,
    )?;
    let f = fig.factor;
    for (&(row, col), &(x0, y0, ..)) in positions.iter().zip(&fig.areas) {
        let (x, y) = (x0 + col as u32 * f, y0 + row as u32 * f);
        let red = Rgb([230, 20, 20]);
        draw_rect(&mut fig.img, x, y, s as u32 * f, r as u32 * f, 3, red);
    }
    Ok(fig.img)
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

    /// A (1, 2, 20, 20) tensor whose maps differ in range.
    fn two_maps() -> Tensor4 {
        let data = (0..800).map(|i| (i as f32 * 0.37).sin() * (1 + i / 400) as f32);
        Tensor4::new("y", [1, 2, 20, 20], data.collect()).expect("tensor")
    }

    fn ends(v: &[f32]) -> (String, String) {
        let lo = v.iter().cloned().fold(f32::INFINITY, f32::min);
        let hi = v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        (plots::value_label(lo), plots::value_label(hi))
    }

    #[test]
    fn a_20_by_20_map_is_drawn_at_least_200_px_and_the_figure_holds_it() {
        let t = two_maps();
        let fig = map_figure(&t, MapKind::PreActivation, Scale::Shared, "t").expect("figure");
        assert_eq!(fig.areas.len(), 2);
        for &(x, y, w, h) in &fig.areas {
            assert!(w >= 200 && h >= 200, "{w}×{h}");
            assert_eq!((w, h), (20 * fig.factor, 20 * fig.factor));
            assert!(x + w <= fig.img.width() && y + h <= fig.img.height());
        }
        // The map's pixels are where the figure says: p = 1, q = 1 is the first value's colour.
        let (x, y, ..) = fig.areas[0];
        let want = diverging(t.data[0], plane_max(&t.data, MapKind::PreActivation));
        assert_eq!(fig.img.get_pixel(x + 1, y + 1), &want);
    }

    #[test]
    fn shared_colour_bar_ends_are_the_maps_min_and_max() {
        let t = two_maps();
        for kind in [MapKind::PostRelu, MapKind::PreActivation] {
            let fig = map_figure(&t, kind, Scale::Shared, "t").expect("figure");
            assert_eq!(fig.bars.len(), 1);
            let labels = fig.bars[0].labels();
            let (lo, hi) = ends(&t.data);
            assert_eq!(
                (labels[0].clone(), labels[labels.len() - 1].clone()),
                (lo, hi)
            );
        }
    }

    #[test]
    fn per_map_colour_bars_end_at_each_maps_min_and_max() {
        let t = two_maps();
        let fig = map_figure(&t, MapKind::PreActivation, Scale::PerMap, "t").expect("figure");
        assert_eq!(fig.bars.len(), 2);
        for (k, bar) in fig.bars.iter().enumerate() {
            let labels = bar.labels();
            let (lo, hi) = ends(plane(&t, 0, k));
            assert_eq!(labels.first(), Some(&lo));
            assert_eq!(labels.last(), Some(&hi));
        }
        // The second map's range is twice the first's: the bars differ.
        assert_ne!(fig.bars[0], fig.bars[1]);
    }

    #[test]
    fn filter_figure_has_one_bar_from_the_weights_min_to_max() {
        let w = crate::notebook::filters();
        let fig = weights_figure("w", &[(String::new(), &w)]).expect("figure");
        assert_eq!(fig.areas.len(), 2);
        assert!(fig.areas.iter().all(|a| a.2 >= 200 && a.3 >= 200));
        let labels = fig.bars[0].labels();
        let (lo, hi) = ends(&w.data);
        assert_eq!(labels.first(), Some(&lo));
        assert_eq!(labels.last(), Some(&hi));
        assert!(labels.contains(&"0".to_string()), "{labels:?}");
    }
}
