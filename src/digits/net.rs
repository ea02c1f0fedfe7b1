//! The digit classifier on the device: `Conv2d(1, K, 5)` + ReLU → `MaxPool2d(2)` →
//! `Linear(100·K, 10)`, its test-set evaluation and a picture's probabilities.

use crate::error::{Error, Result};
use crate::gpu::{Conv2d, Conv2dConfig, DeviceTensor, GpuContext, Linear, MaxPool2d, Sequential};
use crate::tensor::Tensor4;

use super::{Digits, CROP};

/// Digits per forward pass when evaluating (one binding holds 256·K·20·20 floats).
pub const EVAL_CHUNK: usize = 256;

/// The most filters `--filters` takes: the linear layer's weight (10, 100·K) and a batch's
/// maps stay small (K·400 floats per digit).
pub const MAX_FILTERS: u32 = 256;

/// The network for K filters, initialised as PyTorch's defaults are (uniform in ±1/√fan_in),
/// the conv from `seed` and the linear layer from `seed + 1`.
pub fn network(ctx: &GpuContext, filters: u32, seed: u64) -> Result<Sequential> {
    if filters == 0 || filters > MAX_FILTERS {
        return Err(Error::Invalid(format!(
            "{filters} filters: 1 to {MAX_FILTERS} are taken"
        )));
    }
    let conv = Conv2d::new(ctx, Conv2dConfig::new(1, filters, (5, 5)), seed)?;
    let linear = Linear::new(ctx, 100 * filters as usize, 10, seed.wrapping_add(1))?;
    Ok(Sequential::new(ctx)
        .push(conv)
        .push(MaxPool2d::new(2, 2))
        .push(linear))
}

/// K of a state dict of this network: the first dim of `0.weight` (K, 1, 5, 5), its other
/// dims checked (loading checks every name and shape).
pub fn filters_of(bytes: &[u8]) -> Result<u32> {
    let file = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Error::Invalid(format!("not a valid .safetensors file: {e}")))?;
    let w = file.tensor("0.weight").map_err(|_| {
        Error::Invalid("no tensor 0.weight (the conv's weight (K, 1, 5, 5))".into())
    })?;
    match w.shape() {
        [k, 1, 5, 5] if *k >= 1 && *k <= MAX_FILTERS as usize => Ok(*k as u32),
        s => Err(Error::Invalid(format!(
            "0.weight has shape {s:?}; (K, 1, 5, 5) with K in 1..={MAX_FILTERS} expected"
        ))),
    }
}

/// Inputs on the device, uploaded once, in chunks of [`EVAL_CHUNK`], with their labels.
#[derive(Debug)]
pub struct DeviceSet {
    pub chunks: Vec<DeviceTensor>,
    pub labels: Vec<u32>,
}

impl DeviceSet {
    /// Uploads the samples `indices` of `digits`.
    pub fn upload(ctx: &GpuContext, digits: &Digits, indices: &[usize]) -> Result<DeviceSet> {
        let mut chunks = Vec::new();
        let mut labels = Vec::with_capacity(indices.len());
        for part in indices.chunks(EVAL_CHUNK) {
            let (x, l) = digits.batch(part)?;
            chunks.push(DeviceTensor::upload(ctx, "digits", &x)?);
            labels.extend(l);
        }
        Ok(DeviceSet { chunks, labels })
    }
}

/// The logits (one row of 10 per sample) of every sample of `set`, read back once per chunk.
pub fn logits(net: &Sequential, set: &DeviceSet) -> Result<Vec<f32>> {
    let ctx = net.context();
    let mut out = Vec::with_capacity(set.labels.len() * 10);
    for x in &set.chunks {
        out.extend(net.forward(x)?.download(ctx)?.data);
    }
    Ok(out)
}

/// The class of each row of 10 logits: the first maximum (as `torch.argmax`).
pub fn predictions(logits: &[f32]) -> Vec<u32> {
    logits
        .chunks_exact(10)
        .map(|row| {
            let mut best = 0;
            for (c, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = c;
                }
            }
            best as u32
        })
        .collect()
}

/// softmax of one row of logits, in f64.
pub fn softmax(row: &[f32]) -> Vec<f64> {
    let m = row
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let e: Vec<f64> = row.iter().map(|&v| (f64::from(v) - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// The logits of one prepared 24×24 input.
pub fn classify(net: &Sequential, input: &[f32]) -> Result<Vec<f32>> {
    let ctx = net.context();
    let x = Tensor4::new("picture", [1, 1, CROP, CROP], input.to_vec())?;
    let x = DeviceTensor::upload(ctx, "picture", &x)?;
    Ok(net.forward(&x)?.download(ctx)?.data)
}
