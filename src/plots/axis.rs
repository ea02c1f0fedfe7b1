//! A map's pixel axes: pixel i (counted from 1) spans i − ½..i + ½, labelled at 1 and round
//! steps, as the notebook counts.

use std::ops::Range;

use plotters::prelude::*;

use super::style::{font, Drawn};

/// A map's axis: pixel i (from 1) spans i − ½..i + ½; the range runs backwards for p (down).
pub(crate) struct PixelAxis {
    pub(crate) range: Range<f64>,
    pub(crate) ticks: Vec<f64>,
}

impl PixelAxis {
    /// The (column, row) axes of a map of `w` × `h` pixels, rows counted downwards.
    pub(crate) fn of_map(w: usize, h: usize) -> (PixelAxis, PixelAxis) {
        let (wf, hf) = (w as f64, h as f64);
        let x = PixelAxis {
            range: 0.5..wf + 0.5,
            ticks: pixel_ticks(w),
        };
        let y = PixelAxis {
            range: hf + 0.5..0.5,
            ticks: pixel_ticks(h),
        };
        (x, y)
    }
}

impl Ranged for PixelAxis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.range.start) / (self.range.end - self.range.start);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, _: H) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// The pixel numbers an axis of `n` pixels labels: 1, then every multiple of a round step.
pub fn pixel_ticks(n: usize) -> Vec<f64> {
    let step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
        .into_iter()
        .find(|s| n / s <= 6)
        .unwrap_or(n.max(1));
    let mut ticks = vec![1.0];
    ticks.extend(
        (step..=n)
            .step_by(step)
            .filter(|&t| t > 1)
            .map(|t| t as f64),
    );
    ticks
}

/// The axes of a map chart: whole pixel numbers, no grid, named `row` and `col`.
pub(crate) fn draw_pixel_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<PixelAxis, PixelAxis>>,
    (row, col): (&str, &str),
) -> Drawn<()>
where
    DB::ErrorType: 'static,
{
    let whole = |v: &f64| format!("{}", v.round() as i64);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&whole)
        .y_label_formatter(&whole)
        .x_desc(format!("{col} (column)"))
        .y_desc(format!("{row} (row)"))
        .label_style(font(12))
        .axis_desc_style(font(13))
        .draw()?;
    Ok(())
}
