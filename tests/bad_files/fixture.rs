//! The files `bad_files.rs` reads: `.npy` files written byte by byte, pictures encoded by the
//! `image` crate, and cuts of both.

use wgconv::npy;

/// A `.npy` file of format `version` with header `text` (padded as NumPy pads) and `data`.
fn npy_file(version: u8, text: &str, data: &[u8]) -> Vec<u8> {
    let mut header = text.to_string();
    let field = if version == 1 { 2 } else { 4 };
    let unpadded = 8 + field + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    let len = header.len() as u32;
    out.extend_from_slice(&len.to_le_bytes()[..field]);
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// `{'descr': DESCR, 'fortran_order': False, 'shape': SHAPE, }` with `extra` entries appended.
fn dict(descr: &str, shape: &str, extra: &str) -> String {
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, {extra}}}")
}

fn floats(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (i as f32 * 0.1).to_le_bytes())
        .collect()
}

fn doubles(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (i as f64 * 0.1).to_le_bytes())
        .collect()
}

fn encoded(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .expect("encode");
    bytes
}

/// A 40×30 picture as PNG, JPEG and GIF.
fn pictures() -> [Vec<u8>; 3] {
    let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 99]));
    let img = image::DynamicImage::ImageRgb8(img);
    [
        encoded(img.clone(), image::ImageFormat::Png),
        encoded(img.clone(), image::ImageFormat::Jpeg),
        encoded(img, image::ImageFormat::Gif),
    ]
}

/// The files every case reads: good ones (x 6×6, w 3×3, b 1, t 4×4, x2 2×30×30, pictures) and
/// bad ones, each named for what is wrong with it.
pub fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let put = |name: &str, bytes: &[u8]| std::fs::write(d.join(name), bytes).expect("write");
    npy_files(&put);
    image_files(&put);
    put("empty.npy", b"");
    put("empty.png", b"");
    std::fs::create_dir(d.join("folder.npy")).expect("mkdir");
    dir
}

fn npy_files(put: &dyn Fn(&str, &[u8])) {
    let x = npy::encode_f32(&[6, 6], &[0.5; 36]);
    put("x.npy", &x);
    put("w.npy", &npy::encode_f32(&[1, 1, 3, 3], &[0.1; 9]));
    put("b.npy", &npy::encode_f32(&[1], &[0.0]));
    put("t.npy", &npy::encode_f32(&[1, 1, 4, 4], &[0.2; 16]));
    put("x2.npy", &npy::encode_f32(&[2, 1, 30, 30], &[0.3; 1800]));
    // Cut inside the magic, the version, the header length, the header and the data.
    for cut in [1, 3, 5, 7, 9, 40, 127, 130, 271] {
        put(&format!("cut{cut}.npy"), &x[..cut]);
    }
    let f36 = floats(36);
    let with = |text: &str, data: &[u8]| npy_file(1, text, data);
    put("long.npy", &with(&dict("<f4", "(7, 7)", ""), &f36));
    put("short.npy", &with(&dict("<f4", "(5, 5)", ""), &f36));
    put("neg.npy", &with(&dict("<f4", "(-6, 6)", ""), &f36));
    put(
        "huge.npy",
        &with(&dict("<f4", "(100000, 100000)", ""), &f36),
    );
    let over = dict("<f4", "(4294967296, 4294967296)", "");
    put("overflow.npy", &with(&over, &f36));
    let past = dict("<f4", "(36893488147419103232,)", "");
    put("past64.npy", &with(&past, &f36));
    put("notuple.npy", &with(&dict("<f4", "(36)", ""), &f36));
    let dup = dict("<f4", "(6, 6)", "'shape': (36,), ");
    put("dupshape.npy", &with(&dup, &f36));
    let dup = dict("<f4", "(6, 6)", "'descr': '<f8', ");
    put("dupdescr.npy", &with(&dup, &f36));
    let dup = dict("<f4", "(6, 6)", "'fortran_order': True, ");
    put("dupfortran.npy", &with(&dup, &f36));
    put(
        "unknown.npy",
        &with(&dict("<f4", "(6, 6)", "'x': 1, "), &f36),
    );
    put(
        "nokey.npy",
        &with("{'descr': '<f4', 'fortran_order': False}", &f36),
    );
    put("notdict.npy", &with("['descr', '<f4']", &f36));
    put("int32.npy", &with(&dict("<i4", "(6, 6)", ""), &f36));
    put("half.npy", &with(&dict("<f2", "(6, 6)", ""), &f36[..72]));
    put("bigend.npy", &with(&dict(">f4", "(6, 6)", ""), &f36));
    let fortran = "{'descr': '<f4', 'fortran_order': True, 'shape': (6, 6), }";
    put("fortran.npy", &with(fortran, &f36));
    let mut v11 = x.clone();
    v11[7] = 1;
    put("v11.npy", &v11);
    let mut trailing = x.clone();
    trailing.extend_from_slice(b"abc");
    put("trailing.npy", &trailing);
    // Spellings NumPy reads as little-endian float32/float64, all accepted.
    put("eqf4.npy", &with(&dict("=f4", "(6, 6)", ""), &f36));
    put("float32.npy", &with(&dict("float32", "(6, 6)", ""), &f36));
    put(
        "v2f8.npy",
        &npy_file(2, &dict("f8", "(6, 6)", ""), &doubles(36)),
    );
}

fn image_files(put: &dyn Fn(&str, &[u8])) {
    let [png, jpeg, gif] = pictures();
    put("pic.png", &png);
    put("pic.jpg", &jpeg);
    put("half.png", &png[..png.len() / 2]);
    put("noiend.png", &png[..png.len() - 6]);
    put("header.png", &png[..20]);
    let mut corrupt = png.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid..mid + 8].copy_from_slice(b"garbage!");
    put("corrupt.png", &corrupt);
    put("half.jpg", &jpeg[..jpeg.len() / 2]);
    put("noeoi.jpg", &jpeg[..jpeg.len() - 2]);
    let mut tail = jpeg.clone();
    tail.extend_from_slice(b"not image data");
    put("tail.jpg", &tail);
    put("half.gif", &gif[..gif.len() / 2]);
    put("text.png", b"this is not a picture");
}
