//! `--out DIR`: the run's pictures, drawn from the values the GPU computed.

use std::path::Path;

use wgconv::digits::figures::{self, Mistake};
use wgconv::digits::{self, Digits, Split};
use wgconv::outputs::Outputs;
use wgconv::pictures::{self, MapKind, Scale};
use wgconv::plots::{self, Bars, ColourBar, Colours, Indices, Panel};
use wgconv::{DeviceTensor, Layer};

use super::train::Trained;

/// The files `--out DIR` holds.
pub const OUT_FILES: [&str; 7] = [
    "filters.png",
    "maps_input.png",
    "maps_conv.png",
    "maps_pool.png",
    "curves.png",
    "confusion.png",
    "mistakes.png",
];

/// The test digits whose maps are drawn: the first test sample of these digits.
const MAP_DIGITS: [u8; 4] = [0, 3, 7, 9];
/// At most this many mistakes are drawn.
const MAX_MISTAKES: usize = 60;

pub fn add(
    outputs: &mut Outputs,
    dir: &Path,
    run: &Trained,
    data: &Digits,
    split: &Split,
) -> anyhow::Result<()> {
    let (conv, pool) = match run.net.layers() {
        [Layer::Conv2d(c), Layer::MaxPool2d(p), ..] => (c, p),
        _ => anyhow::bail!("the digits network is conv → pool → linear"),
    };
    let ctx = run.net.context();
    let learned = conv.weight().download(ctx)?;
    outputs.add_png(&dir.join("filters.png"), &figures::filters(&learned)?)?;
    // Feature maps of a few test digits, after the conv (+ ReLU) and after the pooling.
    let picks: Vec<usize> = MAP_DIGITS
        .iter()
        .filter_map(|&d| split.test.iter().copied().find(|&i| data.labels[i] == d))
        .collect();
    let (x, _) = data.batch(&picks)?;
    outputs.add_png(&dir.join("maps_input.png"), &inputs_figure(data, &picks)?)?;
    let dx = DeviceTensor::upload(ctx, "digits", &x)?;
    let c = conv.forward(&dx)?;
    let z = pool.forward(&c)?;
    let title =
        "feature maps c = ReLU(conv(x) + b) of the test digits 0, 3, 7, 9 (images 1–4), one scale";
    let maps = pictures::map_figure(&c.download(ctx)?, MapKind::PostRelu, Scale::Shared, title)?;
    outputs.add_png(&dir.join("maps_conv.png"), &maps.img)?;
    let title =
        "the same maps after max-pooling 2×2: the 10×10 maps the linear layer reads, one scale";
    let maps = pictures::map_figure(&z.download(ctx)?, MapKind::PostRelu, Scale::Shared, title)?;
    outputs.add_png(&dir.join("maps_pool.png"), &maps.img)?;
    let accuracy: Vec<f64> = run
        .epochs
        .iter()
        .map(|e| 100.0 * e.correct as f64 / split.test.len() as f64)
        .collect();
    let epoch_losses: Vec<f64> = run.epochs.iter().map(|e| e.loss).collect();
    let curves = figures::curves(&figures::Curves {
        step_losses: &run.step_losses,
        steps_per_epoch: run.steps_per_epoch,
        epoch_losses: &epoch_losses,
        accuracy: &accuracy,
    })?;
    outputs.add_png(&dir.join("curves.png"), &curves)?;
    let predicted = digits::predictions(&run.test_logits);
    let mut matrix = [[0u32; 10]; 10];
    let mut wrong = Vec::new();
    for (&i, &p) in split.test.iter().zip(&predicted) {
        let truth = data.labels[i];
        matrix[truth as usize][p as usize] += 1;
        if u32::from(truth) != p {
            wrong.push(Mistake {
                pixels: data.sample(i),
                truth,
                predicted: p,
            });
        }
    }
    outputs.add_png(&dir.join("confusion.png"), &figures::confusion(&matrix)?)?;
    let all = wrong.len();
    let fig = figures::mistakes(&spread(wrong), all)?;
    outputs.add_png(&dir.join("mistakes.png"), &fig)?;
    Ok(())
}

/// The 24×24 crops of the samples `picks` as pixel values p in [0, 1] (black 0, white 1), a
/// row, pixel axes; the network reads x = (p − 0.1307)/0.3081 of exactly these.
fn inputs_figure(data: &Digits, picks: &[usize]) -> anyhow::Result<image::RgbImage> {
    let (at, side) = (digits::CROP_AT, digits::CROP);
    let crops: Vec<Vec<f32>> = picks
        .iter()
        .map(|&i| {
            let s = data.sample(i);
            (at..at + side)
                .flat_map(|r| s[r * 28 + at..r * 28 + at + side].iter())
                .map(|&k| digits::value(k) as f32)
                .collect()
        })
        .collect();
    let panels: Vec<Panel<'_>> = crops
        .iter()
        .zip(picks)
        .map(|(values, &i)| Panel {
            label: format!("p of a test {}", data.labels[i]),
            values,
            h: side,
            w: side,
        })
        .collect();
    let bar = ColourBar {
        lo: 0.0,
        hi: 1.0,
        colours: Colours::Gray { max: 1.0 },
    };
    let title = "four test digits: the 24×24 crops p the network reads as x = (p − 0.1307)/0.3081";
    let cols = panels.len();
    let fig = plots::map_figure(
        title,
        Indices::Input,
        &panels,
        cols,
        Bars::Shared(bar),
        |_| bar,
    )?;
    Ok(fig.img)
}

/// At most [`MAX_MISTAKES`] mistakes taken in turn from each true digit, so that every digit's
/// mistakes show, in order of the true digit.
fn spread(wrong: Vec<Mistake<'_>>) -> Vec<Mistake<'_>> {
    let mut by_digit: Vec<Vec<Mistake<'_>>> = (0..10).map(|_| Vec::new()).collect();
    for m in wrong.into_iter().rev() {
        by_digit[m.truth as usize].push(m);
    }
    let mut picked: Vec<Mistake<'_>> = Vec::new();
    while picked.len() < MAX_MISTAKES && by_digit.iter().any(|d| !d.is_empty()) {
        for d in by_digit.iter_mut() {
            if picked.len() < MAX_MISTAKES {
                picked.extend(d.pop());
            }
        }
    }
    picked.sort_by_key(|m| m.truth);
    picked
}
