//! Drawing on RGB images: nearest-neighbour upscaling and rectangles (everything else, axes and
//! text included, is drawn with plotters: see `plots`).

use image::{Rgb, RgbImage};

/// Nearest-neighbour upscaling by an integer factor.
pub fn upscale(img: &RgbImage, factor: u32) -> RgbImage {
    image::imageops::resize(
        img,
        img.width() * factor,
        img.height() * factor,
        image::imageops::FilterType::Nearest,
    )
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
