//! Drawing on RGB images: nearest-neighbour upscaling, 8×8 text, rectangles, lines, labelled
//! grids of pictures, and the loss curve.

use font8x8::UnicodeFonts;
use image::{Rgb, RgbImage};

const BACKGROUND: Rgb<u8> = Rgb([236, 236, 236]);
const INK: Rgb<u8> = Rgb([20, 20, 20]);
const FRAME: Rgb<u8> = Rgb([150, 150, 150]);
pub(crate) const LABEL_H: u32 = 12;
pub(crate) const GAP: u32 = 6;

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
    let mut img = RgbImage::from_pixel(PLOT_W, PLOT_H, Rgb([255, 255, 255]));
    draw_text(&mut img, LEFT, 8, title, INK);
    let axes = LossAxes::new(points);
    axes.draw(&mut img);
    let curve = Rgb([30, 90, 200]);
    let at = |&(step, loss): &(u64, f32)| (axes.x(step), axes.y(f64::from(loss)));
    for pair in points.windows(2) {
        draw_line(&mut img, at(&pair[0]), at(&pair[1]), 2, curve);
    }
    if let [only] = points {
        draw_line(&mut img, at(only), at(only), 3, curve);
    }
    img
}

const PLOT_W: u32 = 640;
const PLOT_H: u32 = 400;
const LEFT: u32 = 64;
const RIGHT: u32 = 24;
const TOP: u32 = 28;
const BOTTOM: u32 = 36;

/// The loss plot's axes: decades d0..=d1 of loss, steps 0..=last_step.
struct LossAxes {
    d0: i32,
    d1: i32,
    last_step: u64,
}

impl LossAxes {
    fn new(points: &[(u64, f32)]) -> Self {
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
        Self { d0, d1, last_step }
    }

    fn x(&self, step: u64) -> f64 {
        let pw = f64::from(PLOT_W - LEFT - RIGHT);
        f64::from(LEFT) + pw * step as f64 / self.last_step as f64
    }

    fn y(&self, loss: f64) -> f64 {
        let ph = f64::from(PLOT_H - TOP - BOTTOM);
        let l = if loss > 0.0 {
            loss.log10()
        } else {
            f64::from(self.d0)
        };
        let t = ((l - f64::from(self.d0)) / f64::from(self.d1 - self.d0)).clamp(0.0, 1.0);
        f64::from(TOP) + ph * (1.0 - t)
    }

    /// Grid lines with their labels (a line per decade, five along the steps) and the frame.
    fn draw(&self, img: &mut RgbImage) {
        let grid = Rgb([225, 225, 225]);
        for d in self.d0..=self.d1 {
            let y = self.y(10f64.powi(d));
            let (left, right) = (f64::from(LEFT), f64::from(PLOT_W - RIGHT));
            draw_line(img, (left, y), (right, y), 1, grid);
            let label = format!("1e{d}");
            draw_text(img, 4, (y as u32).saturating_sub(4), &label, INK);
        }
        for i in 0..=4u64 {
            let step = self.last_step * i / 4;
            let x = self.x(step);
            let (top, bottom) = (f64::from(TOP), f64::from(PLOT_H - BOTTOM));
            draw_line(img, (x, top), (x, bottom), 1, grid);
            let label = step.to_string();
            let lx = (x as u32).saturating_sub(label.len() as u32 * 4);
            draw_text(img, lx, PLOT_H - BOTTOM + 6, &label, INK);
        }
        draw_text(img, PLOT_W / 2 - 16, PLOT_H - 14, "step", INK);
        let (w, h) = (PLOT_W - LEFT - RIGHT + 1, PLOT_H - TOP - BOTTOM + 1);
        draw_rect(img, LEFT, TOP, w, h, 1, FRAME);
    }
}
