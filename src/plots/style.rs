//! What every part of a figure draws text with: the bundled font, its style and value labels;
//! and `Drawn`, the result of a drawing step.

use std::sync::Once;

use plotters::prelude::*;

/// DejaVu Sans (its license: `assets/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family every text in a figure uses.
const SANS: &str = "sans-serif";

/// What a drawing step returns: plotters' errors, boxed.
pub(crate) type Drawn<T> = Result<T, Box<dyn std::error::Error>>;

/// Registers the font with plotters, once.
pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in, so it parses; if it did not, text would fail to draw and
        // `render` would report it.
        let _ = plotters::style::register_font(SANS, FontStyle::Normal, FONT);
    });
}

/// The figures' text at `size` px, in black.
pub fn font(size: u32) -> TextStyle<'static> {
    (SANS, size).into_font().color(&BLACK)
}

/// A value as a label: four significant digits, "0" for zero.
pub fn value_label(v: f32) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            v.to_string()
        };
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-3..5).contains(&magnitude) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - magnitude).clamp(0, 6) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}
