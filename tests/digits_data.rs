//! The shipped digits: the file's checksum, the counts, the split, the crop and normalisation
//! checked by hand against values read from the npm package's JSON, and the picture path of
//! `wgconv digits --predict`.

use wgconv::digits::{self, Digits};

#[test]
fn the_file_and_its_pixels_are_the_converted_package() {
    // FNV-1a 64 of the committed PNG, and of the 7,840,000 bytes in the package's order, both
    // computed by Python from the files (bench/mnist_to_png.py's input and output).
    assert_eq!(digits::FILE.len(), 1_635_773);
    assert_eq!(digits::fnv1a(digits::FILE), 0xcfbe_5c85_b946_00b5);
    let d = Digits::load().expect("decodes");
    assert_eq!(d.pixels.len(), 10_000 * 784);
    assert_eq!(digits::fnv1a(&d.pixels), 0xbed3_67b4_6abd_5dc3);
}

#[test]
fn counts_and_split_per_digit() {
    let d = Digits::load().expect("decodes");
    for (digit, &n) in digits::COUNTS.iter().enumerate() {
        assert_eq!(d.labels.iter().filter(|&&l| l as usize == digit).count(), n);
    }
    let split = Digits::split();
    assert_eq!((split.train.len(), split.test.len()), (7996, 2004));
    // Digit 0: 1001 samples, the first 800 train; digit 9 (the last 978): 782 train.
    assert_eq!(split.train[799], 799);
    assert_eq!(split.test[0], 800);
    assert_eq!(split.test[200], 1000); // digit 0 tests 201 samples
    assert_eq!(split.test[201], 1001 + 901);
    assert_eq!(*split.train.last().expect("train"), 10_000 - 978 + 781);
    let mut all: Vec<usize> = split.train.iter().chain(&split.test).copied().collect();
    all.sort_unstable();
    assert!(all.iter().enumerate().all(|(i, &s)| i == s), "a partition");
}

#[test]
fn values_are_the_packages_three_decimals() {
    // The package writes 159/255 = 0.62353 as 0.624 and 50/255 = 0.19608 as 0.196.
    assert_eq!(digits::value(159), 0.624);
    assert_eq!(digits::value(50), 0.196);
    assert_eq!(digits::value(51), 0.2);
    assert_eq!((digits::value(0), digits::value(255)), (0.0, 1.0));
}

#[test]
fn the_crop_by_hand() {
    // 0.json's first sample: its first non-zero values are 0.2, 0.624, 0.992 at row 5, columns
    // 16–18 (counted from 1), so crop row 3, columns 14–16 (rows/columns 3–26 kept).
    let d = Digits::load().expect("decodes");
    let x = d.input(0);
    assert_eq!(x.len(), 576);
    let at = |r: usize, c: usize| x[(r - 1) * 24 + (c - 1)];
    assert_eq!(at(3, 14), ((0.2 - 0.1307) / 0.3081) as f32);
    assert_eq!(at(3, 15), ((0.624 - 0.1307) / 0.3081) as f32);
    assert_eq!(at(3, 16), ((0.992 - 0.1307) / 0.3081) as f32);
    // Background: (0 − 0.1307)/0.3081; the pixel before 0.2 is background.
    assert_eq!(at(3, 13), (-0.1307 / 0.3081) as f32);
    // 9.json's last sample (the last of all): 0.039 and 0.525 at row 7, columns 13–14.
    let last = d.input(9999);
    assert_eq!(last[4 * 24 + 10], ((0.039 - 0.1307) / 0.3081) as f32);
    assert_eq!(last[4 * 24 + 11], ((0.525 - 0.1307) / 0.3081) as f32);
    let (t, labels) = d.batch(&[0, 9999]).expect("batch");
    assert_eq!((t.dims, labels), ([2, 1, 24, 24], vec![0, 9]));
    assert_eq!(&t.data[576..], &last[..]);
}

#[test]
fn a_picture_is_prepared_as_the_data() {
    let d = Digits::load().expect("decodes");
    let sample = d.sample(1234).to_vec();
    let img = image::GrayImage::from_raw(28, 28, sample.clone()).expect("28×28");
    let p = digits::prepare_picture(&image::DynamicImage::ImageLuma8(img));
    assert!(!p.inverted && p.resized_from.is_none());
    assert_eq!(p.input, d.input(1234));
    // Dark on light: inverted back to the sample.
    let dark: Vec<u8> = sample.iter().map(|&k| 255 - k).collect();
    let img = image::GrayImage::from_raw(28, 28, dark).expect("28×28");
    let p = digits::prepare_picture(&image::DynamicImage::ImageLuma8(img));
    assert!(p.inverted);
    assert_eq!(p.pixels, sample);
    // Black strokes on a transparent background (a drawing program's): laid on white, then
    // inverted back to the sample.
    let drawn = image::RgbaImage::from_fn(28, 28, |x, y| {
        let k = sample[y as usize * 28 + x as usize];
        image::Rgba([0, 0, 0, k])
    });
    let p = digits::prepare_picture(&image::DynamicImage::ImageRgba8(drawn));
    assert!(p.inverted);
    assert_eq!(p.pixels, sample);
    // Another size is resized: 56×56 of 2×2 blocks averages back to the sample.
    let big = image::GrayImage::from_fn(56, 56, |x, y| {
        image::Luma([sample[(y / 2) as usize * 28 + (x / 2) as usize]])
    });
    let p = digits::prepare_picture(&image::DynamicImage::ImageLuma8(big));
    assert_eq!(p.resized_from, Some((56, 56)));
    let worst = p
        .pixels
        .iter()
        .zip(&sample)
        .map(|(&a, &b)| a.abs_diff(b))
        .max();
    assert!(worst.is_some_and(|w| w < 128), "{worst:?}");
}

#[test]
fn shuffles_repeat_and_differ_per_epoch() {
    let a = digits::shuffled(100, 7, 0);
    assert_eq!(a, digits::shuffled(100, 7, 0));
    assert_ne!(a, digits::shuffled(100, 7, 1));
    let mut s = a.clone();
    s.sort_unstable();
    assert_eq!(s, (0..100).collect::<Vec<_>>());
}
