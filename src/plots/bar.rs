//! Colour bars: the colours of a map's values, labelled with its ends.

use image::Rgb;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor;

use super::style::{font, value_label, Drawn};

/// How values become colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Colours {
    /// 0 (and below) black, `max` (and above) white.
    Gray { max: f32 },
    /// −`max_abs` blue, 0 white, +`max_abs` red.
    Diverging { max_abs: f32 },
}

impl Colours {
    pub fn colour(self, v: f32) -> Rgb<u8> {
        match self {
            Colours::Gray { max } => gray(v, max),
            Colours::Diverging { max_abs } => diverging(v, max_abs),
        }
    }
}

/// `Colours::Gray`'s colour of v.
pub(crate) fn gray(v: f32, max: f32) -> Rgb<u8> {
    let t = if max > 0.0 {
        (v / max).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let g = (t * 255.0).round() as u8;
    Rgb([g, g, g])
}

/// `Colours::Diverging`'s colour of v.
pub(crate) fn diverging(v: f32, max_abs: f32) -> Rgb<u8> {
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

/// A colour bar: the colours of the values `lo..=hi`, labelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourBar {
    pub lo: f32,
    pub hi: f32,
    pub colours: Colours,
}

impl ColourBar {
    /// The values the bar labels, bottom to top: its ends (`lo` first, `hi` last), zero where it
    /// lies well inside, else the middle.
    pub fn ticks(&self) -> Vec<f32> {
        let (lo, hi) = (self.lo, self.hi);
        if hi <= lo {
            return vec![lo, hi];
        }
        let inside = |v: f32| v > lo + 0.12 * (hi - lo) && v < hi - 0.12 * (hi - lo);
        let middle = if inside(0.0) { 0.0 } else { (lo + hi) / 2.0 };
        vec![lo, middle, hi]
    }

    /// The texts drawn beside the bar, bottom to top (the first is `lo`'s, the last `hi`'s).
    pub fn labels(&self) -> Vec<String> {
        self.ticks().into_iter().map(value_label).collect()
    }

    /// The bar's width in pixels, its labels included.
    pub const WIDTH: u32 = 110;

    /// Draws the bar in `area`, its top at `top`, `height` px tall.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: i32,
        top: i32,
        height: i32,
    ) -> Drawn<()>
    where
        DB::ErrorType: 'static,
    {
        let (lo, hi) = (self.lo, self.hi);
        let height = height.max(2);
        let bar_w = 16;
        let y_of = |v: f32| {
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            top + ((1.0 - t) * (height - 1) as f32).round() as i32
        };
        for row in 0..height {
            let t = 1.0 - row as f32 / (height - 1) as f32;
            let Rgb([r, g, b]) = self.colours.colour(lo + t * (hi - lo));
            let style = RGBColor(r, g, b).filled();
            area.draw(&Rectangle::new(
                [(x, top + row), (x + bar_w, top + row + 1)],
                style,
            ))?;
        }
        let frame = RGBColor(120, 120, 120);
        area.draw(&Rectangle::new(
            [(x, top), (x + bar_w, top + height)],
            frame.stroke_width(1),
        ))?;
        for (v, text) in self.ticks().into_iter().zip(self.labels()) {
            let y = y_of(v);
            area.draw(&PathElement::new(
                vec![(x + bar_w, y), (x + bar_w + 4, y)],
                BLACK,
            ))?;
            let style = font(13).pos(text_anchor::Pos::new(
                text_anchor::HPos::Left,
                text_anchor::VPos::Center,
            ));
            area.draw(&Text::new(text, (x + bar_w + 7, y), style))?;
        }
        Ok(())
    }
}
