//! The notebook's figure 3.10, the layer's notation, from a run's values: the input x with the
//! window of c¹₁,₁, that window's values xᵢ,ⱼ, the weights w¹ᵢ,ⱼ, the sum, b₁ and f, and the
//! feature map c¹ with c¹₁,₁ marked.

use image::{Rgb, RgbImage};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor;

use crate::plots::{
    diverging, draw_pixel_mesh, font, gray, render, value_label, Drawn, PixelAxis, PlotError,
};
use crate::tensor::Tensor4;

/// What figure 3.10 shows: the first image, the filters, the biases and the layer's outputs
/// (y = c after the ReLU, z before it), all from one run.
pub struct Notation<'a> {
    pub x: &'a Tensor4,
    pub w: &'a Tensor4,
    pub b: &'a [f32],
    pub z: &'a Tensor4,
    pub y: &'a Tensor4,
}

/// One grid of values drawn cell by cell, optionally with each value printed and a red box.
struct Cells<'a> {
    caption: String,
    values: &'a [f32],
    h: usize,
    w: usize,
    colour: &'a dyn Fn(f32) -> Rgb<u8>,
    print: bool,
    /// The axes' names: ("i", "j") for the input and weights, ("p", "q") for the output.
    axes: (&'static str, &'static str),
    /// (row, col, rows, cols), 0-based.
    mark: Option<(usize, usize, usize, usize)>,
}

fn draw_cells<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, cells: &Cells<'_>) -> Drawn<()>
where
    DB::ErrorType: 'static,
{
    let (x_axis, y_axis) = PixelAxis::of_map(cells.w, cells.h);
    let mut chart = ChartBuilder::on(area)
        .caption(&cells.caption, font(15))
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(40)
        .build_cartesian_2d(x_axis, y_axis)?;
    draw_pixel_mesh(&mut chart, cells.axes)?;
    let corner = |r: usize, c: usize| (c as f64 + 0.5, r as f64 + 0.5);
    for (i, &v) in cells.values.iter().enumerate() {
        let (r, c) = (i / cells.w, i % cells.w);
        let Rgb([red, g, b]) = (cells.colour)(v);
        let style = RGBColor(red, g, b).filled();
        chart.draw_series([Rectangle::new([corner(r, c), corner(r + 1, c + 1)], style)])?;
        if cells.print {
            let ink = if u32::from(red) + u32::from(g) + u32::from(b) < 300 {
                WHITE
            } else {
                BLACK
            };
            let centre = (c as f64 + 1.0, r as f64 + 1.0);
            let style = font(12).color(&ink).pos(text_anchor::Pos::new(
                text_anchor::HPos::Center,
                text_anchor::VPos::Center,
            ));
            chart.draw_series([Text::new(value_label(v), centre, style)])?;
        }
    }
    if let Some((r, c, rows, cols)) = cells.mark {
        let red = RGBColor(230, 20, 20).stroke_width(3);
        chart.draw_series([Rectangle::new(
            [corner(r, c), corner(r + rows, c + cols)],
            red,
        )])?;
    }
    Ok(())
}

/// The notebook's figure 3.10 for filter 1 and output c¹₁,₁.
pub fn notation_figure(n: &Notation<'_>) -> Result<RgbImage, PlotError> {
    let [_, _, h, w] = n.x.dims;
    let [_, _, r, s] = n.w.dims;
    let [_, _, p, q] = n.y.dims;
    let window: Vec<f32> = (0..r * s).map(|i| n.x.at(0, 0, i / s, i % s)).collect();
    let w1 = &n.w.data[..r * s];
    let c1 = &n.y.data[..p * q];
    let w_max = w1.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let c_max = c1.iter().fold(0.0f32, |m, &v| m.max(v));
    let unit = |v: f32| gray(v, 1.0);
    let signed = |v: f32| diverging(v, w_max);
    let feature = |v: f32| gray(v, c_max);
    let grids = [
        Cells {
            caption: format!("input x ({h}×{w}), the window of c¹₁,₁"),
            values: &n.x.data[..h * w],
            h,
            w,
            colour: &unit,
            print: false,
            axes: ("i", "j"),
            mark: Some((0, 0, r, s)),
        },
        Cells {
            caption: format!("xᵢ,ⱼ, the {r}×{s} window"),
            values: &window,
            h: r,
            w: s,
            colour: &unit,
            print: true,
            axes: ("i", "j"),
            mark: None,
        },
        Cells {
            caption: "w¹ᵢ,ⱼ, filter 1's weights".into(),
            values: w1,
            h: r,
            w: s,
            colour: &signed,
            print: true,
            axes: ("i", "j"),
            mark: None,
        },
        Cells {
            caption: format!("feature map c¹ ({p}×{q}), c¹₁,₁ marked"),
            values: c1,
            h: p,
            w: q,
            colour: &feature,
            print: false,
            axes: ("p", "q"),
            mark: Some((0, 0, 1, 1)),
        },
    ];
    let lines = formula(n);
    let draw = |root: &DrawingArea<BitMapBackend<'_>, Shift>| -> Drawn<()> {
        let title = "figure 3.10: the notation of the layer, c¹₁,₁ computed from x, w¹ and b₁";
        root.draw(&Text::new(title, (12, 10), font(18)))?;
        let body = root.clone().shrink((0, 40), (1640, 380));
        let (left, rest) = body.split_horizontally(1060);
        let (text, right) = rest.split_horizontally(300);
        for (area, cells) in left.split_evenly((1, 3)).iter().zip(&grids) {
            draw_cells(area, cells)?;
        }
        draw_cells(&right, &grids[3])?;
        for (i, line) in lines.iter().enumerate() {
            text.draw(&Text::new(
                line.as_str(),
                (16, 60 + 26 * i as i32),
                font(16),
            ))?;
        }
        Ok(())
    };
    Ok(render(1640, 430, draw)?.0)
}

/// The text beside the grids: c¹₁,₁'s formula and its values.
fn formula(n: &Notation<'_>) -> Vec<String> {
    let (z, c, b) = (n.z.at(0, 0, 0, 0), n.y.at(0, 0, 0, 0), n.b[0]);
    vec![
        "c¹₁,₁ = f(Σᵢ Σⱼ w¹ᵢ,ⱼ · xᵢ,ⱼ + b₁)".to_string(),
        String::new(),
        format!("Σᵢ Σⱼ w¹ᵢ,ⱼ · xᵢ,ⱼ = {}", value_label(z - b)),
        format!("b₁ = {}", value_label(b)),
        format!("z¹₁,₁ = {}", value_label(z)),
        "f = ReLU: f(z) = max(0, z)".to_string(),
        format!("c¹₁,₁ = {}", value_label(c)),
        String::new(),
        "(values from this run's GPU;".to_string(),
        " i, j, p, q count from 1)".to_string(),
    ]
}
