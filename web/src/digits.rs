//! The digits, live: the notebook's network — `Conv2d(1, K, 5)` + ReLU → `MaxPool2d(2)` →
//! `Linear(100·K, 10)` — built from wgconv's public layers and trained on the GPU on the
//! page's digits (web/www/digits.png, cut from the crate's file by web/tools/digits_subset.py),
//! as `wgconv digits` trains: the training digits uploaded once, each epoch's shuffled order
//! uploaded once and every mini-batch cut on the device (`DeviceTensor::gather`),
//! `cross_entropy`, `Sequential::backward`, `SgdOptimizer`. Readbacks are awaited
//! (`download_async`) and only of what the page draws: the last step's loss, the test logits and
//! the conv's filters after each call, a drawn digit's maps and logits.
//!
//! The crate's `wgconv::digits` is behind its `cli` feature (it decodes the PNG with `image`);
//! the page decodes its PNG in the browser and passes the bytes here.

use std::cell::RefCell;

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wgconv::{cross_entropy, Conv2d, Conv2dConfig, DeviceIndices, DeviceLabels, DeviceTensor};
use wgconv::{Layer, Linear, MaxPool2d, Sequential, Sgd, SgdOptimizer, Tensor4};

use crate::{download_together, gpu, js, now_ms};

/// A sample's side, the crop's side and its first row/column (the crate's layout).
const SIDE: usize = 28;
const CROP: usize = 24;
const CROP_AT: usize = 2;
/// torchvision's MNIST normalisation, as the crate's.
const MEAN: f64 = 0.1307;
const STD: f64 = 0.3081;
/// The most filters the page offers.
const MAX_FILTERS: u32 = 16;

struct Session {
    net: Sequential,
    sgd: SgdOptimizer,
    batch: usize,
    train_x: DeviceTensor,
    train_y: DeviceLabels,
    train_n: usize,
    test_x: DeviceTensor,
    test_labels: Vec<u8>,
    /// This epoch's order on the device, and where the next batch starts in it.
    order: Option<DeviceIndices>,
    at: usize,
    epoch: u64,
    seed: u64,
    steps_done: u64,
    seen: u64,
}

thread_local! {
    /// None while a call holds it (across an await) or before `digits_init`.
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

fn take() -> Result<Session, JsError> {
    SESSION
        .with(|s| s.borrow_mut().take())
        .ok_or_else(|| JsError::new("no digits network (start one, or wait for the last call)"))
}

fn put(s: Session) {
    SESSION.with(|slot| *slot.borrow_mut() = Some(s));
}

/// The network's input for a pixel value p in [0, 1]: (p − 0.1307)/0.3081.
fn normalise(p: f64) -> f32 {
    ((p - MEAN) / STD) as f32
}

/// A data byte's value: k/255 rounded to three decimals, as the crate reads its file.
fn value(k: u8) -> f64 {
    (f64::from(k) * 1000.0 / 255.0).round() / 1000.0
}

/// The normalised 24×24 centre crops of 28×28 samples, each value from `value_of`.
fn crops<T: Copy>(samples: &[T], value_of: impl Fn(T) -> f64) -> Vec<f32> {
    let n = samples.len() / (SIDE * SIDE);
    let mut out = Vec::with_capacity(n * CROP * CROP);
    for s in samples.chunks_exact(SIDE * SIDE) {
        for r in CROP_AT..CROP_AT + CROP {
            let row = &s[r * SIDE + CROP_AT..r * SIDE + CROP_AT + CROP];
            out.extend(row.iter().map(|&v| normalise(value_of(v))));
        }
    }
    out
}

/// 0..n shuffled (Fisher–Yates on SplitMix64 from seed and epoch).
fn shuffled(n: usize, seed: u64, epoch: u64) -> Vec<u32> {
    let mut state = seed ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Specialised kernels (`GpuContext::set_specialize`) while it lives: the simple kernels compiled
/// for the digits layers' shapes, about 1.5–2× faster steps and test passes on SwiftShader than
/// the generic ones, for a few compiles on the first steps. Only this section's work is
/// recorded under it (held between awaits, never across one), so the other sections keep the
/// generic kernels and compile nothing per shape.
struct Specialising {
    ctx: &'static wgconv::GpuContext,
    was: bool,
}

impl Specialising {
    fn new(ctx: &'static wgconv::GpuContext) -> Self {
        let was = ctx.specializes();
        ctx.set_specialize(SPECIALISE.with(|s| s.get()));
        Specialising { ctx, was }
    }
}

impl Drop for Specialising {
    fn drop(&mut self) {
        self.ctx.set_specialize(self.was);
    }
}

thread_local! {
    /// Whether the digits' work runs specialised (on unless the page says otherwise).
    static SPECIALISE: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Whether the digits' work runs on kernels specialised for its shapes (on by default); for
/// web/bench, which measures both.
#[wasm_bindgen]
pub fn digits_specialize(on: bool) {
    SPECIALISE.with(|s| s.set(on));
}

fn conv_of(net: &Sequential) -> Result<&Conv2d, JsError> {
    match net.layers().first() {
        Some(Layer::Conv2d(c)) => Ok(c),
        _ => Err(JsError::new("the digits network has no conv layer first")),
    }
}

async fn filters(net: &Sequential) -> Result<(Vec<f32>, Vec<f32>), JsError> {
    let ctx = gpu()?;
    let conv = conv_of(net)?;
    let w = conv.weight().download_async(ctx).await.map_err(js)?.data;
    let b = match conv.bias() {
        Some(b) => b.download_async(ctx).await.map_err(js)?.data,
        None => Vec::new(),
    };
    Ok((w, b))
}

#[derive(Serialize)]
struct InitJson {
    k: u32,
    train: usize,
    test: usize,
    parameters: usize,
    torch: String,
    w: Vec<f32>,
    b: Vec<f32>,
}

/// Builds the network for `k` filters (PyTorch's default initialisation: the conv from `seed`,
/// the linear layer from `seed + 1`, as `wgconv digits`) and uploads the digits: `pixels` holds
/// 28×28 bytes per sample, the first `train` of them training digits, the rest test digits, with
/// `labels` one per sample. JSON [`InitJson`].
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub async fn digits_init(
    pixels: Vec<u8>,
    labels: Vec<u8>,
    train: usize,
    k: u32,
    seed: u64,
    lr: f32,
    momentum: f32,
    batch: usize,
) -> Result<String, JsError> {
    SESSION.with(|s| s.borrow_mut().take());
    let ctx = gpu()?;
    let n = labels.len();
    if pixels.len() != n * SIDE * SIDE || train == 0 || train >= n {
        return Err(JsError::new(&format!(
            "the digits: {} bytes for {n} labels, {train} of them training digits",
            pixels.len()
        )));
    }
    if k == 0 || k > MAX_FILTERS || batch == 0 || labels.iter().any(|&l| l > 9) {
        return Err(JsError::new(&format!(
            "{k} filters, batch {batch}: 1 to {} filters, a batch of 1 or more",
            MAX_FILTERS
        )));
    }
    let sgd = Sgd {
        momentum,
        ..Sgd::new(lr)
    };
    sgd.validate().map_err(js)?;
    let conv = Conv2d::new(ctx, Conv2dConfig::new(1, k, (5, 5)), seed).map_err(js)?;
    let linear = Linear::new(ctx, 100 * k as usize, 10, seed.wrapping_add(1)).map_err(js)?;
    let net = Sequential::new(ctx)
        .push(conv)
        .push(MaxPool2d::new(2, 2))
        .push(linear);
    let split = train * SIDE * SIDE;
    let upload = |name: &str, bytes: &[u8], count: usize| -> Result<DeviceTensor, JsError> {
        let x = Tensor4::new(name, [count, 1, CROP, CROP], crops(bytes, value)).map_err(js)?;
        DeviceTensor::upload(ctx, name, &x).map_err(js)
    };
    let train_x = upload("training digits", &pixels[..split], train)?;
    let test_x = upload("test digits", &pixels[split..], n - train)?;
    let y: Vec<u32> = labels[..train].iter().map(|&l| u32::from(l)).collect();
    let train_y = DeviceLabels::upload(ctx, &y, 10).map_err(js)?;
    let (w, b) = filters(&net).await?;
    let json = InitJson {
        k,
        train,
        test: n - train,
        parameters: 26 * k as usize + 1000 * k as usize + 10,
        torch: net.torch_code(),
        w,
        b,
    };
    put(Session {
        net,
        sgd: SgdOptimizer::new(sgd),
        batch,
        train_x,
        train_y,
        train_n: train,
        test_x,
        test_labels: labels[train..].to_vec(),
        order: None,
        at: 0,
        epoch: 0,
        seed,
        steps_done: 0,
        seen: 0,
    });
    serde_json::to_string(&json).map_err(js)
}

#[derive(Serialize)]
struct StepsJson {
    steps_done: u64,
    /// Training digits the steps have seen, in all.
    seen: u64,
    /// Epochs begun (1 during the first pass over the training digits).
    epoch: u64,
    /// The last step's loss (the mean cross-entropy of its batch).
    loss: f32,
    /// Test digits classified correctly, of `test`.
    correct: usize,
    test: usize,
    /// The conv's filters (K, 1, 5, 5) and biases after the steps.
    w: Vec<f32>,
    b: Vec<f32>,
    /// Wall time of the steps, and of the test evaluation with every readback.
    steps_ms: f64,
    eval_ms: f64,
}

/// Runs `n` SGD steps on mini-batches, then classifies every test digit. JSON [`StepsJson`].
#[wasm_bindgen]
pub async fn digits_steps(n: u32) -> Result<String, JsError> {
    let mut s = take()?;
    let result = steps(&mut s, n).await;
    put(s);
    serde_json::to_string(&result?).map_err(js)
}

async fn steps(s: &mut Session, n: u32) -> Result<StepsJson, JsError> {
    let ctx = gpu()?;
    let started = now_ms();
    let specialising = Specialising::new(ctx);
    let mut last = None;
    for _ in 0..n {
        if s.order.is_none() || s.at >= s.train_n {
            let order = shuffled(s.train_n, s.seed, s.epoch);
            s.order = Some(DeviceIndices::upload(ctx, &order, s.train_n).map_err(js)?);
            s.at = 0;
            s.epoch += 1;
        }
        let Some(order) = &s.order else {
            return Err(JsError::new("no order for the epoch"));
        };
        let range = s.at..(s.at + s.batch).min(s.train_n);
        s.at = range.end;
        s.seen += range.len() as u64;
        let x = s.train_x.gather(order, range.clone()).map_err(js)?;
        let labels = s.train_y.gather(order, range).map_err(js)?;
        let logits = s.net.forward_train(&x).map_err(js)?;
        let (loss, dlogits) = cross_entropy(ctx, &logits, &labels).map_err(js)?;
        let grads = s.net.backward(&dlogits).map_err(js)?;
        s.sgd.step(&mut s.net, &grads).map_err(js)?;
        s.steps_done += 1;
        last = Some(loss);
    }
    let Some(loss) = last else {
        return Err(JsError::new("no steps to run"));
    };
    let steps_ms = now_ms() - started;
    let started = now_ms();
    let logits = s.net.forward(&s.test_x).map_err(js)?;
    drop(specialising);
    let conv = conv_of(&s.net)?;
    let mut wanted = vec![&loss, &logits, conv.weight()];
    wanted.extend(conv.bias());
    let mut got = download_together(&wanted).await?.into_iter();
    let (loss, logits, w) = match (got.next(), got.next(), got.next()) {
        (Some(l), Some(z), Some(w)) => (l[0], z, w),
        _ => return Err(JsError::new("a download did not finish")),
    };
    let b = got.next().unwrap_or_default();
    let correct = logits
        .chunks_exact(10)
        .zip(&s.test_labels)
        .filter(|(row, &l)| argmax(row) == usize::from(l))
        .count();
    Ok(StepsJson {
        steps_done: s.steps_done,
        seen: s.seen,
        epoch: s.epoch,
        loss,
        correct,
        test: s.test_labels.len(),
        w,
        b,
        steps_ms,
        eval_ms: now_ms() - started,
    })
}

/// The first maximum (as `torch.argmax`).
fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (c, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = c;
        }
    }
    best
}

#[derive(Serialize)]
struct ClassifyJson {
    /// The 24×24 input the network sees (normalised).
    input: Vec<f32>,
    /// After the conv and its ReLU: K maps of 20×20; after the pooling: K maps of 10×10.
    conv: Vec<f32>,
    pool: Vec<f32>,
    logits: Vec<f32>,
    /// softmax of the logits, in f64.
    probs: Vec<f64>,
    prediction: usize,
}

/// Classifies one 28×28 picture of values p in [0, 1] (row-major), prepared as the data: the
/// 24×24 centre crop, x = (p − 0.1307)/0.3081. JSON [`ClassifyJson`].
#[wasm_bindgen]
pub async fn digits_classify(picture: Vec<f32>) -> Result<String, JsError> {
    if picture.len() != SIDE * SIDE {
        return Err(JsError::new(&format!(
            "a picture of {} values, not 28×28",
            picture.len()
        )));
    }
    let s = take()?;
    let result = classify(&s.net, &picture).await;
    put(s);
    serde_json::to_string(&result?).map_err(js)
}

async fn classify(net: &Sequential, picture: &[f32]) -> Result<ClassifyJson, JsError> {
    let ctx = gpu()?;
    let input = crops(picture, f64::from);
    let x = Tensor4::new("picture", [1, 1, CROP, CROP], input.clone()).map_err(js)?;
    let x = DeviceTensor::upload(ctx, "picture", &x).map_err(js)?;
    let [Layer::Conv2d(conv), Layer::MaxPool2d(pool), Layer::Linear(linear)] = net.layers() else {
        return Err(JsError::new("the digits network is not conv, pool, linear"));
    };
    let (c, p, z) = {
        let _specialising = Specialising::new(ctx);
        let c = conv.forward(&x).map_err(js)?;
        let p = pool.forward(&c).map_err(js)?;
        let z = linear.forward(&p).map_err(js)?;
        (c, p, z)
    };
    let [conv, pool, logits]: [Vec<f32>; 3] = download_together(&[&c, &p, &z])
        .await?
        .try_into()
        .map_err(|_| JsError::new("a download did not finish"))?;
    let m = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let e: Vec<f64> = logits.iter().map(|&v| (f64::from(v) - m).exp()).collect();
    let sum: f64 = e.iter().sum();
    Ok(ClassifyJson {
        input,
        conv,
        pool,
        prediction: argmax(&logits),
        probs: e.iter().map(|v| v / sum).collect(),
        logits,
    })
}
