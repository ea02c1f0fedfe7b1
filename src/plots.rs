//! Figures drawn with `plotters` on an RGB bitmap: axes with ticks, titles, legends and colour
//! bars. Text uses the DejaVu Sans font bundled in `assets/fonts` (no system font is needed); the
//! map pixels themselves are blitted from `image` pictures into the plot areas plotters lays out.

use std::ops::Range;

use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::drawing::upscale;

mod axis;
mod bar;
mod style;

pub use axis::pixel_ticks;
pub(crate) use axis::{draw_pixel_mesh, PixelAxis};
pub(crate) use bar::{diverging, gray};
pub use bar::{ColourBar, Colours};
use style::register_font;
pub(crate) use style::Drawn;
pub use style::{font, value_label};

/// A figure could not be drawn (a plotters error, as text).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the figure: {0}")]
pub struct PlotError(pub String);

/// Draws on a white `w`×`h` bitmap with `draw`, then returns the picture and what `draw` returned.
pub(crate) fn render<T>(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Drawn<T>,
) -> Result<(RgbImage, T), PlotError> {
    register_font();
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    let out = {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let out = draw(&root).map_err(|e| PlotError(e.to_string()))?;
        root.present().map_err(|e| PlotError(e.to_string()))?;
        out
    };
    let img = RgbImage::from_raw(w, h, buf).ok_or_else(|| PlotError("buffer size".into()))?;
    Ok((img, out))
}

/// One map in a figure: its label and its h×w values, row-major.
pub struct Panel<'a> {
    pub label: String,
    pub values: &'a [f32],
    pub h: usize,
    pub w: usize,
}

/// Where a figure's colour bars go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bars {
    /// One bar beside each map, the map's own range and colours.
    PerPanel,
    /// One bar for the whole figure, at its right.
    Shared(ColourBar),
}

/// A figure of maps and where each map's pixels lie in it.
pub struct MapFigure {
    pub img: RgbImage,
    /// Each panel's plot area: x, y, width, height in pixels; one map pixel is `factor` px.
    pub areas: Vec<(u32, u32, u32, u32)>,
    pub factor: u32,
    /// The bars drawn, in order (one per panel, or one shared).
    pub bars: Vec<ColourBar>,
}

/// The nearest-neighbour factor that makes a map about 240 px on its longer side.
pub fn map_factor(h: usize, w: usize) -> u32 {
    let longest = h.max(w).max(1) as u32;
    240u32.div_ceil(longest).clamp(1, 48)
}

const TITLE_H: u32 = 34;
const CAPTION_H: u32 = 26;
const LEFT_H: u32 = 52;
/// Room left of a panel's row label, so that no glyph touches the panel's edge.
const LEFT_PAD: u32 = 8;
const BOTTOM_H: u32 = 46;
const RIGHT_GAP: u32 = 18;

/// Which of the notebook's index names a figure's axes carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indices {
    /// An input x: xᵢ,ⱼ, i down and j across.
    Input,
    /// Weights w: wᵏᵢ,ⱼ.
    Weights,
    /// Outputs c (and z): cᵏₚ,q, p down and q across.
    Output,
}

impl Indices {
    /// The (row, column) axis names.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Indices::Input | Indices::Weights => ("i", "j"),
            Indices::Output => ("p", "q"),
        }
    }

    /// The line under the figure that says how it counts.
    pub fn note(self) -> String {
        let (row, col) = self.names();
        let first = match self {
            Indices::Input => "x₁,₁ is the top-left pixel",
            Indices::Weights => "w¹₁,₁ is the top-left weight",
            Indices::Output => "c¹₁,₁ is the top-left pixel",
        };
        format!("{row} (row) and {col} (column) count from 1, as in the notebook: {first}")
    }
}

/// Maps in a grid of `cols` columns, each with pixel axes p (down) and q (across) counted from 1,
/// with colour bars, under `title`; `colours` gives each panel's colour scale and bar range.
pub fn map_figure(
    title: &str,
    indices: Indices,
    panels: &[Panel<'_>],
    cols: usize,
    bars: Bars,
    colours: impl Fn(&Panel<'_>) -> ColourBar,
) -> Result<MapFigure, PlotError> {
    let cols = cols.clamp(1, panels.len().max(1));
    let rows = panels.len().div_ceil(cols).max(1);
    let (h, w) = panels
        .iter()
        .fold((1, 1), |(h, w), p| (h.max(p.h), w.max(p.w)));
    let factor = map_factor(h, w);
    let (mw, mh) = (w as u32 * factor, h as u32 * factor);
    let per_bar = if bars == Bars::PerPanel {
        ColourBar::WIDTH
    } else {
        0
    };
    let cell_w = LEFT_PAD + LEFT_H + mw + RIGHT_GAP + per_bar;
    let cell_h = CAPTION_H + mh + BOTTOM_H;
    let shared_w = if per_bar == 0 {
        ColourBar::WIDTH + 10
    } else {
        0
    };
    let width = (cols as u32 * cell_w + shared_w).max(560);
    let height = TITLE_H + rows as u32 * cell_h + 30;
    let cell_bars: Vec<ColourBar> = panels.iter().map(&colours).collect();
    let (mut img, areas) = render(width, height, |root| {
        root.draw(&Text::new(title, (10, 8), font(18)))?;
        let note = indices.note();
        root.draw(&Text::new(
            note.as_str(),
            (10, height as i32 - 20),
            font(13),
        ))?;
        let mut areas = Vec::with_capacity(panels.len());
        for (i, panel) in panels.iter().enumerate() {
            let (x0, y0) = (
                (i % cols) as u32 * cell_w,
                TITLE_H + (i / cols) as u32 * cell_h,
            );
            let caption = ((x0 + LEFT_PAD + LEFT_H) as i32, y0 as i32 + 4);
            root.draw(&Text::new(panel.label.as_str(), caption, font(15)))?;
            let cell = root
                .clone()
                .shrink((x0, y0 + CAPTION_H), (cell_w - per_bar, cell_h - CAPTION_H));
            let area = axes(&cell, panel, indices.names())?;
            if per_bar > 0 {
                let (xs, ys) = (&area.0, &area.1);
                cell_bars[i].draw(root, xs.end + 10, ys.start, ys.end - ys.start)?;
            }
            areas.push(area);
        }
        if let Bars::Shared(bar) = bars {
            let x = (cols as u32 * cell_w) as i32 + 4;
            let top = (TITLE_H + CAPTION_H) as i32;
            bar.draw(root, x, top, mh as i32)?;
        }
        Ok(areas)
    })?;
    let mut out_areas = Vec::with_capacity(panels.len());
    for ((panel, (xs, ys)), bar) in panels.iter().zip(areas).zip(&cell_bars) {
        let map = RgbImage::from_fn(panel.w as u32, panel.h as u32, |x, y| {
            bar.colours
                .colour(panel.values[y as usize * panel.w + x as usize])
        });
        let big = upscale(&map, factor);
        image::imageops::replace(&mut img, &big, i64::from(xs.start), i64::from(ys.start));
        out_areas.push((xs.start as u32, ys.start as u32, big.width(), big.height()));
    }
    let bars = match bars {
        Bars::PerPanel => cell_bars,
        Bars::Shared(bar) => vec![bar],
    };
    Ok(MapFigure {
        img,
        areas: out_areas,
        factor,
        bars,
    })
}

/// A panel's pixel axes; returns the plot area's pixel ranges (x, y): the cell less its label
/// areas and right gap, which `map_figure` sizes to the upscaled map.
fn axes<DB: DrawingBackend>(
    cell: &DrawingArea<DB, Shift>,
    panel: &Panel<'_>,
    (row, col): (&str, &str),
) -> Drawn<(Range<i32>, Range<i32>)>
where
    DB::ErrorType: 'static,
{
    let (x_range, y_range) = PixelAxis::of_map(panel.w, panel.h);
    let mut chart = ChartBuilder::on(cell)
        .margin_right(RIGHT_GAP)
        .x_label_area_size(BOTTOM_H)
        .margin_left(LEFT_PAD)
        .y_label_area_size(LEFT_H)
        .build_cartesian_2d(x_range, y_range)?;
    draw_pixel_mesh(&mut chart, (row, col))?;
    Ok(chart.plotting_area().get_pixel_range())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_labels_keep_four_significant_digits() {
        assert_eq!(value_label(0.0), "0");
        assert_eq!(value_label(0.9), "0.9");
        assert_eq!(value_label(-0.25), "-0.25");
        assert_eq!(value_label(0.041666668), "0.04167");
        assert_eq!(value_label(123.456), "123.5");
        assert_eq!(value_label(1.5e-7), "1.500e-7");
    }

    #[test]
    fn pixel_ticks_start_at_one() {
        assert_eq!(pixel_ticks(5), [1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(pixel_ticks(20), [1.0, 5.0, 10.0, 15.0, 20.0]);
        assert_eq!(pixel_ticks(24), [1.0, 5.0, 10.0, 15.0, 20.0]);
        assert_eq!(pixel_ticks(1), [1.0]);
    }

    #[test]
    fn a_bar_labels_its_ends_and_zero() {
        let colours = Colours::Diverging { max_abs: 2.0 };
        let bar = ColourBar {
            lo: -1.5,
            hi: 2.0,
            colours,
        };
        assert_eq!(bar.labels(), ["-1.5", "0", "2"]);
        let flat = ColourBar {
            lo: 0.0,
            hi: 0.0,
            colours,
        };
        assert_eq!(flat.labels(), ["0", "0"]);
        let gray = ColourBar {
            lo: 0.0,
            hi: 0.8,
            colours: Colours::Gray { max: 0.8 },
        };
        assert_eq!(gray.labels(), ["0", "0.4", "0.8"]);
    }

    #[test]
    fn per_panel_bars_widen_each_cell() {
        let values = vec![0.5f32; 400];
        let panels = |n| -> Vec<Panel<'_>> {
            (0..n)
                .map(|i| Panel {
                    label: format!("{i}"),
                    values: &values,
                    h: 20,
                    w: 20,
                })
                .collect()
        };
        let bar = |_: &Panel<'_>| ColourBar {
            lo: 0.5,
            hi: 0.5,
            colours: Colours::Gray { max: 1.0 },
        };
        let shared = map_figure(
            "t",
            Indices::Output,
            &panels(2),
            2,
            Bars::Shared(bar(&panels(1)[0])),
            bar,
        );
        let each = map_figure("t", Indices::Output, &panels(2), 2, Bars::PerPanel, bar);
        let (shared, each) = (shared.expect("shared"), each.expect("each"));
        assert!(each.img.width() > shared.img.width());
        assert_eq!(each.bars.len(), 2);
        assert_eq!(shared.bars.len(), 1);
    }
}
