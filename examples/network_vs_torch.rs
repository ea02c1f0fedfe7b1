//! Trains the two-layer network of the README (conv 1→8 5×5 + ReLU → max-pool 2 → linear
//! 800 → 10, cross-entropy, SGD lr 0.05 momentum 0.9) for 20 steps on seeded mini-batches of
//! 64, writing into DIR (default `network-vs-torch`) the batches, the initial and the final
//! parameters as `.safetensors` under `nn.Sequential`'s names, and the losses, for
//! `bench/torch_network.py` to repeat the same steps in PyTorch and compare. Prints the time
//! per step (wall clock, a device sync each step: the loss is read back).
//!
//! `cargo run --release --example network_vs_torch [DIR]`

use std::time::Instant;

use rand::{Rng, SeedableRng};
use wgconv::{cross_entropy, AdapterRequest, Conv2d, Conv2dConfig, DeviceLabels, DeviceTensor};
use wgconv::{GpuContext, Linear, MaxPool2d, Sequential, Sgd, SgdOptimizer, Tensor4};

const STEPS: usize = 20;
const BATCH: usize = 64;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "network-vs-torch".into());
    std::fs::create_dir_all(&dir)?;
    let ctx = GpuContext::new(&AdapterRequest::from_env())?;
    println!("adapter: {}", ctx.adapter());
    let mut net = Sequential::new(&ctx)
        .push(Conv2d::new(&ctx, Conv2dConfig::new(1, 8, (5, 5)), 0)?)
        .push(MaxPool2d::new(2, 2))
        .push(Linear::new(&ctx, 8 * 10 * 10, 10, 1)?);
    println!("{}", net.torch_code());
    std::fs::write(format!("{dir}/init.safetensors"), net.to_safetensors()?)?;
    // Digit-like batches: a bright 8×8 square whose place (one of ten) is the label, plus noise.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..STEPS * BATCH {
        let label = rng.random_range(0..10u32);
        let (r0, c0) = (
            2 * (label / 5) as usize * 4 + 2,
            (label % 5) as usize * 4 + 1,
        );
        for i in 0..24 * 24 {
            let (r, c) = (i / 24, i % 24);
            let on = (r0..r0 + 8).contains(&r) && (c0..c0 + 8).contains(&c);
            xs.push(if on { 1.0 } else { 0.0 } + rng.random_range(-0.3..0.3f32));
        }
        ys.push(label);
    }
    let mut sgd = SgdOptimizer::new(Sgd {
        momentum: 0.9,
        ..Sgd::new(0.05)
    });
    let (mut losses, start) = (Vec::new(), Instant::now());
    for step in 0..STEPS {
        let at = step * BATCH;
        let x = Tensor4::new(
            "x",
            [BATCH, 1, 24, 24],
            xs[at * 576..(at + BATCH) * 576].to_vec(),
        )?;
        let x = DeviceTensor::upload(&ctx, "x", &x)?;
        let labels = DeviceLabels::upload(&ctx, &ys[at..at + BATCH], 10)?;
        let logits = net.forward_train(&x)?;
        let (loss, dlogits) = cross_entropy(&ctx, &logits, &labels)?;
        let grads = net.backward(&dlogits)?;
        sgd.step(&mut net, &grads)?;
        losses.push(loss.download(&ctx)?.data[0]);
    }
    let per_step = start.elapsed().as_secs_f64() * 1e3 / STEPS as f64;
    println!("losses: {losses:?}");
    println!("wgconv: {per_step:.2} ms per step (batch {BATCH}, wall clock)");
    std::fs::write(format!("{dir}/final.safetensors"), net.to_safetensors()?)?;
    let labels: Vec<f32> = ys.iter().map(|&l| l as f32).collect();
    let data = [
        (
            "x",
            vec![STEPS * BATCH, 1, 24, 24],
            bytemuck::cast_slice::<f32, u8>(&xs),
        ),
        (
            "labels",
            vec![STEPS * BATCH],
            bytemuck::cast_slice::<f32, u8>(&labels),
        ),
        (
            "losses",
            vec![STEPS],
            bytemuck::cast_slice::<f32, u8>(&losses),
        ),
    ];
    let views = data
        .iter()
        .map(|(n, s, b)| {
            Ok((
                *n,
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    std::fs::write(
        format!("{dir}/data.safetensors"),
        safetensors::serialize(views, None)?,
    )?;
    Ok(())
}
