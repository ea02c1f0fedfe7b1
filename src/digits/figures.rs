//! The pictures of `wgconv digits --out DIR`: learned filters beside the notebook's, the loss
//! and accuracy curves, the confusion matrix and the misclassified test digits. (The feature
//! maps use [`crate::pictures::map_figure`].)

use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::pictures::{bar_of, sup, MapKind, Scale};
use crate::plots::PlotError;
use crate::plots::{self, font, render, Bars, ColourBar, Colours, Drawn, Indices, Panel};
use crate::tensor::Tensor4;

/// The K learned 5×5 filters (K, 1, 5, 5) in a row, the notebook's two edge filters in the row
/// under them, one diverging colour scale and bar for all.
pub fn filters(learned: &Tensor4) -> Result<RgbImage, PlotError> {
    let notebook = crate::notebook::filters();
    let k = learned.dims[0];
    let mut panels = Vec::new();
    for (w, whose) in [(learned, "learned"), (&notebook, "notebook")] {
        for f in 0..w.dims[0] {
            panels.push(Panel {
                label: format!("w{}, {whose}", sup(f + 1)),
                values: &w.data[f * 25..(f + 1) * 25],
                h: 5,
                w: 5,
            });
        }
    }
    let all: Vec<f32> = learned.data.iter().chain(&notebook.data).copied().collect();
    let bar = bar_of(&all, &all, MapKind::PreActivation, Scale::Shared);
    let title = format!(
        "the {k} learned filters (top) and the notebook's edge filters (bottom), one scale \
         (blue < 0 < red)"
    );
    // Four to a row at most, so that K = 8 stays readable; the notebook's two come after.
    let cols = k.clamp(2, 4);
    let fig = plots::map_figure(
        &title,
        Indices::Weights,
        &panels,
        cols,
        Bars::Shared(bar),
        |_| bar,
    )?;
    Ok(fig.img)
}

/// What the curves show: every step's loss, the steps per epoch, and per epoch its mean
/// training loss (over its digits, as printed) and the test accuracy (%) after it.
pub struct Curves<'a> {
    pub step_losses: &'a [f32],
    pub steps_per_epoch: usize,
    pub epoch_losses: &'a [f64],
    pub accuracy: &'a [f64],
}

/// Left: the loss of every step (thin) and each epoch's mean (dots, at the epoch's end);
/// right: the test accuracy after each epoch.
pub fn curves(c: &Curves<'_>) -> Result<RgbImage, PlotError> {
    let draw = |root: &DrawingArea<BitMapBackend<'_>, Shift>| -> Drawn<()> {
        root.draw(&Text::new("learning to read digits", (14, 10), font(18)))?;
        let body = root.clone().shrink((0, 36), (1200, 464));
        let (left, right) = body.split_horizontally(600);
        draw_losses(&left, c)?;
        draw_accuracy(&right, c.accuracy)
    };
    Ok(render(1200, 500, draw)?.0)
}

fn draw_losses<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Curves<'_>) -> Drawn<()>
where
    DB::ErrorType: 'static,
{
    let (losses, per_epoch) = (c.step_losses, c.steps_per_epoch);
    let epochs = losses.len() as f64 / per_epoch.max(1) as f64;
    let hi = losses
        .iter()
        .fold(0.0f64, |m, &l| m.max(f64::from(l)))
        .max(1e-3)
        * 1.05;
    let mut chart = ChartBuilder::on(area)
        .caption("training loss (cross-entropy)", font(16))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..epochs.max(1.0), 0.0..hi)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        .label_style(font(13))
        .axis_desc_style(font(14))
        .draw()?;
    let at = |i: usize| (i as f64 + 1.0) / per_epoch.max(1) as f64;
    let grey = RGBColor(150, 170, 210);
    let steps = losses
        .iter()
        .enumerate()
        .map(|(i, &l)| (at(i), f64::from(l)));
    chart
        .draw_series(LineSeries::new(steps, grey.stroke_width(1)))?
        .label("each step's batch")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(2)));
    let blue = RGBColor(30, 90, 200);
    let means: Vec<(f64, f64)> = c
        .epoch_losses
        .iter()
        .enumerate()
        .map(|(e, &m)| (e as f64 + 1.0, m))
        .collect();
    chart
        .draw_series(LineSeries::new(means.iter().copied(), blue.stroke_width(2)))?
        .label("each epoch's mean (over its digits)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart.draw_series(means.iter().map(|&p| Circle::new(p, 4, blue.filled())))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(font(13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn draw_accuracy<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, accuracy: &[f64]) -> Drawn<()>
where
    DB::ErrorType: 'static,
{
    let lo = accuracy.iter().fold(100.0f64, |m, &a| m.min(a));
    let lo = ((lo - 2.0) / 5.0).floor() * 5.0;
    let mut chart = ChartBuilder::on(area)
        .caption("test accuracy (2,004 digits) after each epoch", font(16))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0.5..accuracy.len() as f64 + 0.5, lo.max(0.0)..100.0)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("accuracy (%)")
        .x_labels(accuracy.len().min(10) + 1)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font(13))
        .axis_desc_style(font(14))
        .draw()?;
    let red = RGBColor(200, 50, 40);
    let points: Vec<(f64, f64)> = accuracy
        .iter()
        .enumerate()
        .map(|(e, &a)| (e as f64 + 1.0, a))
        .collect();
    chart.draw_series(LineSeries::new(points.iter().copied(), red.stroke_width(2)))?;
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, red.filled())))?;
    if let Some(&(e, a)) = points.last() {
        let style = font(14).pos(Pos::new(HPos::Right, VPos::Bottom));
        chart.draw_series(std::iter::once(Text::new(
            format!("{a:.2} %"),
            (e, a),
            style,
        )))?;
    }
    Ok(())
}

/// The 10×10 confusion matrix of the test set: rows the true digit, columns the predicted one,
/// each cell its count, coloured by count (a colour bar at the right).
pub fn confusion(matrix: &[[u32; 10]; 10]) -> Result<RgbImage, PlotError> {
    let max = matrix.iter().flatten().copied().max().unwrap_or(0) as f32;
    let bar = ColourBar {
        lo: 0.0,
        hi: max,
        colours: Colours::Gray { max },
    };
    let (cell, x0, y0) = (46i32, 90i32, 80i32);
    let draw = |root: &DrawingArea<BitMapBackend<'_>, Shift>| -> Drawn<()> {
        let correct: u32 = (0..10).map(|d| matrix[d][d]).sum();
        let total: u32 = matrix.iter().flatten().sum();
        let title = format!("confusion matrix of the {total} test digits ({correct} right)");
        root.draw(&Text::new(title, (14, 10), font(18)))?;
        let centre = |size| font(size).pos(Pos::new(HPos::Center, VPos::Center));
        for (t, row) in matrix.iter().enumerate() {
            for (p, &n) in row.iter().enumerate() {
                let (x, y) = (x0 + p as i32 * cell, y0 + t as i32 * cell);
                let image::Rgb([r, g, b]) = bar.colours.colour(n as f32);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    RGBColor(r, g, b).filled(),
                ))?;
                let ink = if (n as f32) > 0.5 * max { BLACK } else { WHITE };
                if n > 0 {
                    let style = centre(14).color(&ink);
                    root.draw(&Text::new(
                        n.to_string(),
                        (x + cell / 2, y + cell / 2),
                        style,
                    ))?;
                }
            }
            let y = y0 + t as i32 * cell + cell / 2;
            root.draw(&Text::new(t.to_string(), (x0 - 14, y), centre(14)))?;
            let x = x0 + t as i32 * cell + cell / 2;
            root.draw(&Text::new(t.to_string(), (x, y0 - 14), centre(14)))?;
        }
        let side = 10 * cell;
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + side, y0 + side)],
            RGBColor(120, 120, 120),
        ))?;
        root.draw(&Text::new(
            "predicted digit",
            (x0 + side / 2, y0 - 36),
            centre(15),
        ))?;
        let up = font(15)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new("true digit", (x0 - 46, y0 + side / 2), up))?;
        let note = "rows: the true digit; columns: the network's; the diagonal is right";
        root.draw(&Text::new(note, (x0, y0 + side + 14), font(13)))?;
        bar.draw(root, x0 + side + 24, y0, side)
    };
    Ok(render(
        x0 as u32 + 10 * cell as u32 + 24 + ColourBar::WIDTH,
        y0 as u32 + 10 * cell as u32 + 44,
        draw,
    )?
    .0)
}

/// A misclassified test digit: its 28×28 bytes, true and predicted labels.
pub struct Mistake<'a> {
    pub pixels: &'a [u8],
    pub truth: u8,
    pub predicted: u32,
}

/// Up to `mistakes.len()` misclassified test digits (28×28 as stored, 3× each), each captioned
/// "true → predicted", ten to a row.
pub fn mistakes(mistakes: &[Mistake<'_>], of: usize) -> Result<RgbImage, PlotError> {
    let (cols, scale, cell_w, cell_h) = (10usize, 3u32, 100i32, 118i32);
    let rows = mistakes.len().div_ceil(cols).max(1);
    let (w, h) = (
        cols as u32 * cell_w as u32 + 20,
        rows as u32 * cell_h as u32 + 60,
    );
    let draw = |root: &DrawingArea<BitMapBackend<'_>, Shift>| -> Drawn<()> {
        let title = format!(
            "{} misclassified test digits of {of} shown (the 28×28 digit; true → predicted)",
            mistakes.len()
        );
        root.draw(&Text::new(title, (14, 10), font(18)))?;
        let centre = font(14).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, m) in mistakes.iter().enumerate() {
            let (x, y) = (
                10 + (i % cols) as i32 * cell_w,
                44 + (i / cols) as i32 * cell_h,
            );
            let side = 28 * scale as i32;
            let left = x + (cell_w - side) / 2;
            for (j, &k) in m.pixels.iter().enumerate() {
                let (r, c) = ((j / 28) as i32, (j % 28) as i32);
                let at = (left + c * scale as i32, y + r * scale as i32);
                let end = (at.0 + scale as i32, at.1 + scale as i32);
                root.draw(&Rectangle::new([at, end], RGBColor(k, k, k).filled()))?;
            }
            let text = format!("{} → {}", m.truth, m.predicted);
            root.draw(&Text::new(
                text,
                (x + cell_w / 2, y + side + 4),
                centre.clone(),
            ))?;
        }
        Ok(())
    };
    Ok(render(w, h, draw)?.0)
}
