//! Whether an image file is whole. Decoders are lenient: the `image` crate's JPEG decoder fills
//! missing data with grey and returns a picture, and a GIF or PNG cut after its first frame or
//! its pixel data still decodes. Each format with an end marker is walked to it here.

use image::ImageFormat;

/// Why the file is not whole, or None (also for formats without an end marker to check, whose
/// decoders report a short read themselves).
pub(super) fn truncated(format: ImageFormat, bytes: &[u8]) -> Option<&'static str> {
    match format {
        ImageFormat::Jpeg if !jpeg_whole(bytes) => Some(
            "the JPEG ends before its end-of-image marker (FF D9): the file is truncated or corrupt",
        ),
        ImageFormat::Png if !png_whole(bytes) => {
            Some("the PNG ends before its IEND chunk: the file is truncated or corrupt")
        }
        ImageFormat::Gif if !gif_whole(bytes) => {
            Some("the GIF ends before its trailer (3B): the file is truncated or corrupt")
        }
        ImageFormat::WebP if !webp_whole(bytes) => {
            Some("the WebP file is shorter than its RIFF header says: it is truncated")
        }
        _ => None,
    }
}

/// Walks the markers from SOI to the first EOI: segments are skipped by their length, and in
/// entropy-coded data an FF is followed by 00 (a stuffed byte) or a marker.
fn jpeg_whole(b: &[u8]) -> bool {
    let mut i = 2;
    loop {
        let Some(ff) = b.get(i..).and_then(|r| r.iter().position(|&x| x == 0xFF)) else {
            return false;
        };
        i += ff + 1;
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&marker) = b.get(i) else {
            return false;
        };
        i += 1;
        match marker {
            0xD9 => return true,
            // Stuffed byte, TEM, RSTn, SOI: no length follows.
            0x00 | 0x01 | 0xD0..=0xD8 => {}
            _ => match b.get(i..i + 2) {
                Some(len) => i += usize::from(u16::from_be_bytes([len[0], len[1]])),
                None => return false,
            },
        }
    }
}

/// Walks the chunks after the signature to IEND.
fn png_whole(b: &[u8]) -> bool {
    let mut i = 8;
    while let Some(head) = b.get(i..i + 8) {
        if &head[4..] == b"IEND" {
            return b.len() - i >= 12;
        }
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        // Length, type, data, CRC.
        i = match i.checked_add(12).and_then(|j| j.checked_add(len)) {
            Some(j) => j,
            None => return false,
        };
    }
    false
}

/// Walks the blocks after the screen descriptor to the trailer.
fn gif_whole(b: &[u8]) -> bool {
    let table = |packed: u8| {
        if packed & 0x80 != 0 {
            3 << ((packed & 7) + 1)
        } else {
            0
        }
    };
    let Some(&packed) = b.get(10) else {
        return false;
    };
    let mut i = 13 + table(packed);
    loop {
        match b.get(i) {
            Some(0x3B) => return true,
            // Extension: label, then sub-blocks.
            Some(0x21) => i += 2,
            // Image: descriptor, local table, LZW code size, then sub-blocks.
            Some(0x2C) => match b.get(i + 9) {
                Some(&p) => i += 10 + table(p) + 1,
                None => return false,
            },
            _ => return false,
        }
        // Sub-blocks: a size byte each, up to a zero.
        loop {
            match b.get(i) {
                Some(0) => break,
                Some(&n) => i += 1 + usize::from(n),
                None => return false,
            }
        }
        i += 1;
    }
}

/// The RIFF header's size covers the rest of the file.
fn webp_whole(b: &[u8]) -> bool {
    match b.get(4..8) {
        Some(s) => b.len() as u64 >= 8 + u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(format: ImageFormat) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90]));
        let mut bytes = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut std::io::Cursor::new(&mut bytes), format)
            .expect("encode");
        bytes
    }

    #[test]
    fn whole_files_pass_and_every_cut_is_caught() {
        for format in [
            ImageFormat::Jpeg,
            ImageFormat::Png,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let mut bytes = encoded(format);
            assert_eq!(truncated(format, &bytes), None, "{format:?}");
            for cut in 0..bytes.len() {
                assert!(
                    truncated(format, &bytes[..cut]).is_some(),
                    "{format:?} cut at {cut}"
                );
            }
            // Data after the end (a JPEG motion photo's video, say) is not a truncation.
            bytes.extend_from_slice(b"\0\0trailing");
            assert_eq!(
                truncated(format, &bytes),
                None,
                "{format:?} with trailing data"
            );
        }
    }

    #[test]
    fn riff_size_is_checked() {
        let mut webp = b"RIFF\x10\0\0\0WEBPVP8L".to_vec();
        assert!(!webp_whole(&webp));
        webp.extend_from_slice(&[0; 8]);
        assert!(webp_whole(&webp));
    }
}
