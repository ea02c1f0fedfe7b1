//! Rows of `wgconv bench --network`: each op of the README's network (conv 1→K 5×5 + ReLU,
//! max-pool 2, linear 100·K → 10, cross-entropy, SGD with momentum) on a batch of 24×24 inputs,
//! validated against its f64 twin on the benchmark's own data (from the GPU's inputs, so errors
//! do not compound), then timed with GPU timestamps over the passes it records (wall clock where
//! the adapter has none, or where [`Clock::Wall`] asks for it).

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::bench::{Clock, Timer, Timing};
use crate::compare::{self, compare, forward_bound, sum_bound};
use crate::cpu::{self, widen, PoolShape};
use crate::error::{Error, Result};
use crate::gpu::{
    cross_entropy, Conv2d, Conv2dConfig, DeviceLabels, DeviceTensor, GpuContext, Linear, MaxPool2d,
    Parameters, Sequential, SgdOptimizer,
};
use crate::sgd::Sgd;
use crate::tensor::Tensor4;

/// One op: its name, its worst error as a fraction of its bound (None: checked in the tests
/// only), its time.
#[derive(Debug, Clone)]
pub struct OpRow {
    pub op: &'static str,
    pub worst_ratio: Option<f64>,
    pub timing: Timing,
}

/// The network's layers and one batch.
struct Net {
    conv: Conv2d,
    pool: MaxPool2d,
    fc: Linear,
    x: DeviceTensor,
    x_host: Tensor4,
    labels: DeviceLabels,
    labels_host: Vec<u32>,
}

fn net(ctx: &GpuContext, filters: u32, batch: usize) -> Result<Net> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let data = (0..batch * 576)
        .map(|_| rng.random_range(-1.0..=1.0))
        .collect();
    let x_host = Tensor4::new("x", [batch, 1, 24, 24], data)?;
    let labels_host: Vec<u32> = (0..batch).map(|_| rng.random_range(0..10)).collect();
    Ok(Net {
        conv: Conv2d::new(ctx, Conv2dConfig::new(1, filters, (5, 5)), 0)?,
        pool: MaxPool2d::new(2, 2),
        fc: Linear::new(ctx, 100 * filters as usize, 10, 1)?,
        x: DeviceTensor::upload(ctx, "x", &x_host)?,
        x_host,
        labels: DeviceLabels::upload(ctx, &labels_host, 10)?,
        labels_host,
    })
}

fn host(ctx: &GpuContext, t: &DeviceTensor) -> Result<Vec<f64>> {
    Ok(widen(&t.download(ctx)?.data))
}

fn checked(what: &str, c: compare::Comparison) -> Result<f64> {
    if !c.passed() {
        return Err(Error::Invalid(format!(
            "bench --network: {what} failed its validation: {} of {} over their bound, worst {:?}",
            c.over, c.checked, c.worst
        )));
    }
    Ok(c.worst_ratio())
}

/// Each op once, every output against its twin (max pooling exactly: it selects and adds a few
/// values); the worst ratio per op, in `ROW_OPS` order.
fn validate(ctx: &GpuContext, n: &Net) -> Result<Vec<Option<f64>>> {
    let (w, b) = n.conv.read_weights()?;
    let b = b.unwrap_or_default();
    let shape = n.conv.config().shape_for(n.x.dims())?;
    let (y1, s1) = n.conv.forward_train(&n.x)?;
    let fref = cpu::conv2d_bias_relu_fwd(&shape, &n.x_host.data, &w.data, &b);
    let y1h = host(ctx, &y1)?;
    let conv_fwd = checked(
        "conv forward",
        compare(
            &y1h.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            &fref.y,
            |i| forward_bound(&shape, fref.abs_sum[i]),
            y1.dims(),
        ),
    )?;
    let (y2, s2) = n.pool.forward_train(&y1)?;
    let pshape = PoolShape {
        x_dims: y1.dims(),
        kernel: (2, 2),
        stride: (2, 2),
        padding: (0, 0),
    };
    let (pref, argmax) = cpu::max_pool2d_fwd(&pshape, &y1h);
    let pool_fwd = checked(
        "max-pool forward",
        compare(
            &y2.download(ctx)?.data,
            &pref,
            |_| f64::MIN_POSITIVE,
            y2.dims(),
        ),
    )?;
    let (y3, s3) = n.fc.forward_train(&y2)?;
    let (fw, fb) = n.fc.as_conv().read_weights()?;
    let fshape =
        n.fc.as_conv()
            .config()
            .shape_for([y2.dims()[0], n.fc.in_features(), 1, 1])?;
    let y2h: Vec<f32> = pref.iter().map(|&v| v as f32).collect();
    let lref = cpu::conv2d_bias_relu_fwd(&fshape, &y2h, &fw.data, &fb.unwrap_or_default());
    let linear_fwd = checked(
        "linear forward",
        compare(
            &y3.download(ctx)?.data,
            &lref.z,
            |i| sum_bound(fshape.reduction_len() + 1, lref.abs_sum[i]),
            y3.dims(),
        ),
    )?;
    let (loss, d3) = cross_entropy(ctx, &y3, &n.labels)?;
    let z = host(ctx, &y3)?;
    let cref = cpu::cross_entropy(&z, &n.labels_host, 10);
    let rows = cpu::cross_entropy_rows(&z, &n.labels_host, 10);
    let lb = compare::cross_entropy_loss_bound(&z, &n.labels_host, &rows, cref.loss);
    let mut ce = checked(
        "cross-entropy loss",
        compare(
            &loss.download(ctx)?.data,
            &[cref.loss],
            |_| lb,
            [1, 1, 1, 1],
        ),
    )?;
    let gb = |i: usize| {
        compare::cross_entropy_grad_bound(
            &z[i / 10 * 10..][..10],
            i % 10,
            cref.grad[i],
            z.len() / 10,
        )
    };
    ce = ce.max(checked(
        "cross-entropy gradient",
        compare(&d3.download(ctx)?.data, &cref.grad, gb, d3.dims()),
    )?);
    let g3 = n.fc.backward(&s3, &d3, true)?;
    let d3h = host(ctx, &d3)?;
    let gref = cpu::conv2d_bwd_weight(&fshape, &widen(&y2h), &d3h);
    let terms = fshape.n as u64 + 1;
    let mut linear_bwd = checked(
        "linear dW",
        compare(
            &g3.weight.download(ctx)?.data,
            &gref.dw,
            |i| sum_bound(terms, gref.dw_abs[i]),
            g3.weight.dims(),
        ),
    )?;
    let dx3 = g3
        .input
        .ok_or_else(|| Error::Invalid("linear backward gave no dX".into()))?;
    let xref = cpu::conv2d_bwd_input(&fshape, &widen(&fw.data), &d3h);
    linear_bwd = linear_bwd.max(checked(
        "linear dX",
        compare(
            &dx3.download(ctx)?.data,
            &xref.dx,
            |i| sum_bound(xref.dx_terms[i] + 1, xref.dx_abs[i]),
            dx3.dims(),
        ),
    )?);
    let d2 = n.pool.backward(&s2, &dx3)?;
    let dref = cpu::max_pool2d_bwd(&pshape, &argmax, &host(ctx, &dx3)?);
    let pool_bwd = checked(
        "max-pool backward",
        compare(
            &d2.download(ctx)?.data,
            &dref,
            |_| f64::MIN_POSITIVE,
            d2.dims(),
        ),
    )?;
    let g1 = n.conv.backward(&s1, &d2, false)?;
    let dz = cpu::relu_bwd(&y1h, &host(ctx, &d2)?);
    let wref = cpu::conv2d_bwd_weight(&shape, &widen(&n.x_host.data), &dz);
    let npq = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q()) + 1;
    let conv_bwd = checked(
        "conv dW",
        compare(
            &g1.weight.download(ctx)?.data,
            &wref.dw,
            |i| sum_bound(npq, wref.dw_abs[i]),
            g1.weight.dims(),
        ),
    )?;
    Ok(vec![
        Some(conv_fwd),
        Some(pool_fwd),
        Some(linear_fwd),
        Some(ce),
        Some(linear_bwd),
        Some(pool_bwd),
        Some(conv_bwd),
        None,
        None,
    ])
}

/// The ops timed, in order.
pub const ROW_OPS: [&str; 9] = [
    "conv fwd (conv + ReLU, training)",
    "max-pool fwd (training)",
    "linear fwd (training)",
    "cross-entropy (loss + dlogits)",
    "linear bwd (dW, db, dX)",
    "max-pool bwd",
    "conv bwd (dW, db through the ReLU)",
    "SGD step (4 tensors, momentum)",
    "whole step (Sequential + SGD)",
];

/// Validates, then times each op `repeats` times after `warmup`: [`network_rows_with`] with
/// [`Clock::Gpu`].
pub fn network_rows(
    ctx: &GpuContext,
    filters: u32,
    batch: usize,
    warmup: u32,
    repeats: u32,
) -> Result<Vec<OpRow>> {
    network_rows_with(ctx, filters, batch, warmup, repeats, Clock::Gpu)
}

/// [`network_rows`] by the clock `clock` asks for: with [`Clock::Wall`], each run's time is the
/// wall clock from the op's call (its recording and submission) to the end of the wait for it.
pub fn network_rows_with(
    ctx: &GpuContext,
    filters: u32,
    batch: usize,
    warmup: u32,
    repeats: u32,
    clock: Clock,
) -> Result<Vec<OpRow>> {
    if repeats == 0 || batch == 0 || filters == 0 {
        return Err(Error::Invalid(
            "bench --network needs a batch, filters and repeats ≥ 1".into(),
        ));
    }
    let n = net(ctx, filters, batch)?;
    let ratios = validate(ctx, &n)?;
    let (y1, s1) = n.conv.forward_train(&n.x)?;
    let (y2, s2) = n.pool.forward_train(&y1)?;
    let (y3, s3) = n.fc.forward_train(&y2)?;
    let (_, d3) = cross_entropy(ctx, &y3, &n.labels)?;
    let g3 = n.fc.backward(&s3, &d3, true)?;
    let dx3 = g3
        .input
        .ok_or_else(|| Error::Invalid("linear backward gave no dX".into()))?;
    let d2 = n.pool.backward(&s2, &dx3)?;
    let mut seq = Sequential::new(ctx)
        .push(Conv2d::new(ctx, Conv2dConfig::new(1, filters, (5, 5)), 0)?)
        .push(MaxPool2d::new(2, 2))
        .push(Linear::new(ctx, 100 * filters as usize, 10, 1)?);
    let logits = seq.forward_train(&n.x)?;
    let grads = seq.backward(&cross_entropy(ctx, &logits, &n.labels)?.1)?;
    let mut sgd = SgdOptimizer::new(Sgd {
        momentum: 0.9,
        ..Sgd::new(0.01)
    });
    let mut ops: Vec<Box<dyn FnMut() -> Result<DeviceTensor> + '_>> = vec![
        Box::new(|| Ok(n.conv.forward_train(&n.x)?.0)),
        Box::new(|| Ok(n.pool.forward_train(&y1)?.0)),
        Box::new(|| Ok(n.fc.forward_train(&y2)?.0)),
        Box::new(|| Ok(cross_entropy(ctx, &y3, &n.labels)?.1)),
        Box::new(|| Ok(n.fc.backward(&s3, &d3, true)?.weight)),
        Box::new(|| n.pool.backward(&s2, &dx3)),
        Box::new(|| Ok(n.conv.backward(&s1, &d2, false)?.weight)),
        Box::new(|| {
            sgd.step(&mut seq, &grads)?;
            Ok(seq.parameters()[0].1.share_as([1, 1, 1, 1]))
        }),
    ];
    let mut rows = Vec::new();
    for (i, op) in ops.iter_mut().enumerate() {
        rows.push(OpRow {
            op: ROW_OPS[i],
            worst_ratio: ratios[i],
            timing: time(ctx, op.as_mut(), warmup, repeats, clock)?,
        });
    }
    drop(ops);
    let mut seq2 = Sequential::new(ctx)
        .push(Conv2d::new(ctx, Conv2dConfig::new(1, filters, (5, 5)), 0)?)
        .push(MaxPool2d::new(2, 2))
        .push(Linear::new(ctx, 100 * filters as usize, 10, 1)?);
    let mut sgd2 = SgdOptimizer::new(Sgd {
        momentum: 0.9,
        ..Sgd::new(0.01)
    });
    let mut step = || -> Result<DeviceTensor> {
        let logits = seq2.forward_train(&n.x)?;
        let (loss, d) = cross_entropy(ctx, &logits, &n.labels)?;
        let g = seq2.backward(&d)?;
        sgd2.step(&mut seq2, &g)?;
        Ok(loss)
    };
    rows.push(OpRow {
        op: ROW_OPS[8],
        worst_ratio: None,
        timing: time(ctx, &mut step, warmup, repeats, clock)?,
    });
    Ok(rows)
}

/// The median and fastest of `repeats` runs of `op` (after `warmup`), each waited for.
fn time(
    ctx: &GpuContext,
    op: &mut dyn FnMut() -> Result<DeviceTensor>,
    warmup: u32,
    repeats: u32,
    clock: Clock,
) -> Result<Timing> {
    let mut times = Vec::with_capacity(repeats as usize);
    let mut timer = Timer::GpuTimestamps;
    for i in 0..warmup + repeats {
        let started = Instant::now();
        let (out, gpu_ms) = match clock {
            Clock::Gpu => ctx.time_ops(&mut *op)?,
            Clock::Wall => (op()?, None),
        };
        ctx.wait_for(None, "benchmarking an op")?;
        let wall = started.elapsed().as_secs_f64() * 1e3;
        drop(out);
        let ms = match gpu_ms {
            Some(ms) => ms,
            None => {
                timer = Timer::WallClock;
                wall
            }
        };
        if i >= warmup {
            times.push(ms);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(Timing {
        timer,
        median_ms: times[times.len() / 2],
        min_ms: times[0],
        repeats,
        inner: 1,
    })
}
