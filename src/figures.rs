//! The plotted figures: the loss curve, the ReLU figure (every output of a layer as a point
//! (z, c) under f(z) = max(0, z)) and the notebook's figure 3.11, "prediction vs learning" (the
//! student's outputs against the teacher's before and after training, beside the loss curve).

use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plots::{font, render, Drawn, PlotError};

/// The loss curve's size in pixels.
pub const LOSS_SIZE: (u32, u32) = (800, 500);

/// The loss's plotted range: whole decades around the positive losses.
fn decades(points: &[(u64, f32)]) -> (f64, f64) {
    let positive = points
        .iter()
        .map(|&(_, l)| f64::from(l))
        .filter(|&l| l > 0.0);
    let (lo, hi) = positive.fold((f64::INFINITY, 0.0f64), |(a, b), l| (a.min(l), b.max(l)));
    if hi <= 0.0 || !hi.is_finite() {
        return (0.1, 1.0);
    }
    let (a, b) = (lo.log10().floor(), hi.log10().ceil());
    (10f64.powf(a), 10f64.powf(b.max(a + 1.0)))
}

/// The loss against the step, the loss axis in log scale. Non-positive losses (an exact fit) are
/// drawn at the bottom of the axis.
pub fn loss_curve(points: &[(u64, f32)], title: &str) -> Result<RgbImage, PlotError> {
    let (w, h) = LOSS_SIZE;
    Ok(render(w, h, |root| draw_loss(root, points, title))?.0)
}

fn draw_loss<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(u64, f32)],
    title: &str,
) -> Drawn<()>
where
    DB::ErrorType: 'static,
{
    let (lo, hi) = decades(points);
    let steps = points.iter().map(|&(s, _)| s + 1).max().unwrap_or(1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(18))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(0u64..steps, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("loss (mean squared error, log scale)")
        .y_labels(24)
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(font(13))
        .axis_desc_style(font(14))
        .draw()?;
    let at = |&(s, l): &(u64, f32)| (s, f64::from(l).clamp(lo, hi));
    let blue = RGBColor(30, 90, 200);
    chart
        .draw_series(LineSeries::new(points.iter().map(at), blue.stroke_width(2)))?
        .label("loss before each step's update")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    if let [only] = points {
        chart.draw_series(std::iter::once(Circle::new(at(only), 4, blue.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(font(13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// A tick label with one decimal, zero without a sign.
fn tick(v: &f64) -> String {
    let v = if v.abs() < 1e-9 { 0.0 } else { *v };
    format!("{v:.1}")
}

/// Both ends of a set of values, widened a little (and made non-empty).
fn padded(values: impl Iterator<Item = f32>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(f64::from(v)), b.max(f64::from(v)))
    });
    if lo > hi {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    (lo - pad, hi + pad)
}

/// The ReLU figure: every output of the layer as a point (z, c), z its pre-activation and c its
/// output, with the notebook's f(z) = max(0, z) drawn over them.
pub fn relu_figure(z: &[f32], c: &[f32]) -> Result<RgbImage, PlotError> {
    let (z0, z1) = padded(z.iter().cloned());
    let (c0, c1) = padded(c.iter().cloned().chain([0.0]));
    let title = format!("ReLU: the layer's {} outputs c against their z", z.len());
    let draw = |root: &DrawingArea<BitMapBackend<'_>, Shift>| -> Drawn<()> {
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(18))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(z0..z1, c0..c1)?;
        chart
            .configure_mesh()
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .x_desc("z = Σ w·x + b (pre-activation, from the GPU)")
            .y_desc("c (output, from the GPU)")
            .label_style(font(13))
            .axis_desc_style(font(14))
            .draw()?;
        let red = RGBColor(220, 30, 30);
        // The hinge, ending where it leaves the plot (a line past the range would be bent).
        let end = z1.min(c1).max(0.0);
        let f = [(z0, 0.0), (0.0, 0.0), (end, end)];
        chart
            .draw_series(LineSeries::new(f, red.stroke_width(2)))?
            .label("f(z) = max(0, z)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], red.stroke_width(2)));
        let blue = RGBColor(30, 90, 200);
        let dots = z
            .iter()
            .zip(c)
            .map(|(&z, &c)| Circle::new((f64::from(z), f64::from(c)), 3, blue.mix(0.5).filled()));
        chart
            .draw_series(dots)?
            .label("one output (z, c)")
            .legend(move |(x, y)| Circle::new((x + 10, y), 3, blue.filled()));
        legend(&mut chart)
    };
    Ok(render(720, 560, draw)?.0)
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Drawn<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(font(13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// The outputs of figure 3.11: the teacher's (the targets) and the student's before and after
/// training, element for element.
pub struct Predictions<'a> {
    pub teacher: &'a [f32],
    pub before: &'a [f32],
    pub after: &'a [f32],
}

/// The notebook's figure 3.11, "prediction vs learning": left, each of the student's outputs
/// against the teacher's for the same input, before training (scattered) and after (on the
/// diagonal); right, the loss curve that took it there.
pub fn prediction_vs_learning(
    p: &Predictions<'_>,
    losses: &[(u64, f32)],
) -> Result<RgbImage, PlotError> {
    let all = p.teacher.iter().chain(p.before).chain(p.after).cloned();
    let (lo, hi) = padded(all);
    let draw = |root: &DrawingArea<BitMapBackend<'_>, Shift>| -> Drawn<()> {
        let title = "figure 3.11: prediction (a forward pass) vs learning (steps that fit it)";
        root.draw(&Text::new(title, (14, 10), font(18)))?;
        let body = root.clone().shrink((0, 36), (1400, 564));
        let (left, right) = body.split_horizontally(620);
        let mut chart = ChartBuilder::on(&left)
            .caption("each output: student against teacher", font(16))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, lo..hi)?;
        chart
            .configure_mesh()
            .x_desc("teacher's output c (the target)")
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .y_desc("student's output c (the prediction)")
            .label_style(font(13))
            .axis_desc_style(font(14))
            .draw()?;
        let dots = |values: &[f32], colour: RGBColor| -> Vec<Circle<(f64, f64), i32>> {
            let style = colour.mix(0.45).filled();
            let at = |(&t, &s): (&f32, &f32)| (f64::from(t), f64::from(s));
            let pairs = p.teacher.iter().zip(values);
            pairs.map(|ts| Circle::new(at(ts), 3, style)).collect()
        };
        let (orange, blue) = (RGBColor(240, 140, 20), RGBColor(30, 90, 200));
        chart
            .draw_series(dots(p.before, orange))?
            .label("before training (step 0)")
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, orange.filled()));
        chart
            .draw_series(dots(p.after, blue))?
            .label("after training")
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, blue.filled()));
        let diagonal = LineSeries::new([(lo, lo), (hi, hi)], BLACK.stroke_width(1));
        chart
            .draw_series(diagonal)?
            .label("student = teacher")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        legend(&mut chart)?;
        draw_loss(&right, losses, "the loss while learning")
    };
    Ok(render(1400, 600, draw)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_axis_covers_whole_decades() {
        assert_eq!(decades(&[(0, 0.5), (1, 0.002)]), (1e-3, 1.0));
        assert_eq!(decades(&[(0, 0.0)]), (0.1, 1.0));
        let (lo, hi) = decades(&[(0, 1.0)]);
        assert!(lo == 1.0 && hi == 10.0);
    }

    #[test]
    fn figures_have_their_sizes() {
        let points: Vec<(u64, f32)> = (0..50).map(|s| (s, 0.9f32.powi(s as i32))).collect();
        let curve = loss_curve(&points, "loss").expect("curve");
        assert_eq!(curve.dimensions(), LOSS_SIZE);
        assert_eq!(
            loss_curve(&[(0, 0.0)], "one").expect("one").dimensions(),
            LOSS_SIZE
        );
        let z = [-1.0f32, -0.5, 0.0, 0.5, 1.0];
        let c = z.map(|v| v.max(0.0));
        assert_eq!(relu_figure(&z, &c).expect("relu").dimensions(), (720, 560));
        let p = Predictions {
            teacher: &c,
            before: &z,
            after: &c,
        };
        let fig = prediction_vs_learning(&p, &points).expect("3.11");
        assert_eq!(fig.dimensions(), (1400, 600));
    }
}
