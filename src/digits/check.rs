//! `wgconv digits --check`: training steps of the digit network on the GPU, each output of each
//! kernel compared with its f64 twin fed the very inputs the kernel read (downloaded from the
//! device), so errors do not compound and every output keeps its own bound.

mod bounds;

use crate::compare::{compare, forward_bound, sum_bound, Comparison};
use crate::cpu::{self, widen, PoolShape};
use crate::error::{Error, Result};
use crate::gpu::{cross_entropy, DeviceLabels, DeviceTensor, Gradients, Layer, Parameters};
use crate::gpu::{Sequential, SgdOptimizer};
use crate::sgd::Sgd;
use crate::tensor::Tensor4;

/// Every output's comparison, merged over the steps, in the order of a step.
#[derive(Debug, Clone, Default)]
pub struct StepChecks {
    pub outputs: Vec<(String, Comparison)>,
}

impl StepChecks {
    fn add(&mut self, name: &str, c: Comparison) {
        match self.outputs.iter_mut().find(|(n, _)| n == name) {
            Some((_, old)) => *old = old.merge(c),
            None => self.outputs.push((name.to_string(), c)),
        }
    }

    /// True when no element of any output is over its bound.
    pub fn passed(&self) -> bool {
        self.outputs.iter().all(|(_, c)| c.passed())
    }
}

fn bias_of(g: &crate::gpu::Conv2dGrads) -> Result<&DeviceTensor> {
    g.bias
        .as_ref()
        .ok_or_else(|| Error::Invalid("a layer without bias".into()))
}

fn down(t: &DeviceTensor) -> Result<Tensor4> {
    t.download(t.context())
}

/// One training step of `net` (conv → pool → linear) on `x`, `labels` with `sgd`, every
/// kernel's output checked into `checks`.
pub fn checked_step(
    net: &mut Sequential,
    sgd: &mut SgdOptimizer,
    x: &Tensor4,
    labels: &[u32],
    checks: &mut StepChecks,
) -> Result<()> {
    let ctx = net.context().clone();
    let (conv, pool, linear) = match net.layers() {
        [Layer::Conv2d(c), Layer::MaxPool2d(p), Layer::Linear(l)] => (c, p, l),
        _ => {
            return Err(Error::Invalid(
                "checked_step: a conv → pool → linear network".into(),
            ))
        }
    };
    let xd = DeviceTensor::upload(&ctx, "x", x)?;
    let dl = DeviceLabels::upload(&ctx, labels, 10)?;
    let (c, s1) = conv.forward_train(&xd)?;
    let (m, s2) = pool.forward_train(&c)?;
    let (z, s3) = linear.forward_train(&m)?;
    let (loss, dz) = cross_entropy(&ctx, &z, &dl)?;
    let g3 = linear.backward(&s3, &dz, true)?;
    let dm = g3
        .input
        .as_ref()
        .ok_or_else(|| Error::Invalid("no dX from Linear".into()))?;
    let dc = pool.backward(&s2, dm)?;
    let g1 = conv.backward(&s1, &dc, false)?;
    let (w1, b1) = conv.read_weights()?;
    let (w3, b3) = linear.as_conv().read_weights()?;
    let (b1, b3) = (b1.unwrap_or_default(), b3.unwrap_or_default());
    // Forward: the conv (+ ReLU) and the linear layer are f32 sums of C·R·S + 1 terms.
    let shape1 = conv.config().shape_for(x.dims)?;
    let r1 = cpu::conv2d_bias_relu_fwd(&shape1, &x.data, &w1.data, &b1);
    let c = down(&c)?;
    checks.add(
        "conv + ReLU y",
        compare(
            &c.data,
            &r1.y,
            |i| forward_bound(&shape1, r1.abs_sum[i]),
            c.dims,
        ),
    );
    // Max pooling selects: exact (bound: one smallest normal, so that 0/0 is not a ratio).
    let pshape = PoolShape {
        x_dims: c.dims,
        kernel: (2, 2),
        stride: (2, 2),
        padding: (0, 0),
    };
    let (rm, argmax) = cpu::max_pool2d_fwd(&pshape, &widen(&c.data));
    let m = down(&m)?;
    checks.add(
        "max-pool y",
        compare(&m.data, &rm, |_| bounds::EXACT, m.dims),
    );
    let [n, feats] = [m.dims[0], m.data.len() / m.dims[0]];
    let shape3 = linear.as_conv().config().shape_for([n, feats, 1, 1])?;
    let r3 = cpu::conv2d_bias_relu_fwd(&shape3, &m.data, &w3.data, &b3);
    let z = down(&z)?;
    checks.add(
        "linear y (logits)",
        compare(
            &z.data,
            &r3.z,
            |i| forward_bound(&shape3, r3.abs_sum[i]),
            z.dims,
        ),
    );
    // Cross-entropy of the GPU's logits (bounds in `bounds`).
    let zf = widen(&z.data);
    let rce = cpu::cross_entropy(&zf, labels, 10);
    let loss = down(&loss)?;
    let lb = bounds::ce_loss(&zf, labels);
    checks.add(
        "cross-entropy loss",
        compare(&loss.data, &[rce.loss], |_| lb, [1, 1, 1, 1]),
    );
    let dz = down(&dz)?;
    checks.add(
        "dL/dlogits",
        compare(
            &dz.data,
            &rce.grad,
            |i| bounds::ce_grad(&zf, &rce.grad, n, i),
            dz.dims,
        ),
    );
    // The linear layer's gradients: sums over the batch (dW, db) and over the classes (dX).
    let gw = cpu::conv2d_bwd_weight(&shape3, &m.data, &dz.data);
    let nn = n as u64;
    let w3g = down(&g3.weight)?;
    checks.add(
        "linear dW",
        compare(
            &w3g.data,
            &gw.dw,
            |i| sum_bound(nn + 1, gw.dw_abs[i]),
            w3g.dims,
        ),
    );
    let b3g = down(bias_of(&g3)?)?;
    checks.add(
        "linear db",
        compare(
            &b3g.data,
            &gw.db,
            |i| sum_bound(nn + 1, gw.db_abs[i]),
            b3g.dims,
        ),
    );
    let gx = cpu::conv2d_bwd_input(&shape3, &w3.data, &dz.data);
    let dm = down(dm)?;
    checks.add(
        "linear dX",
        compare(
            &dm.data,
            &gx.dx,
            |i| sum_bound(gx.dx_terms[i] + 1, gx.dx_abs[i]),
            dm.dims,
        ),
    );
    // Pooling's backward adds each dy to its winner: windows do not overlap, exact.
    let rdc = cpu::max_pool2d_bwd(&pshape, &argmax, &widen(&dm.data));
    let dcg = down(&dc)?;
    checks.add(
        "max-pool dX",
        compare(&dcg.data, &rdc, |_| bounds::EXACT, dcg.dims),
    );
    // The conv's gradients through the ReLU mask (exact) of its own output: N·P·Q-term sums.
    let dz1 = cpu::relu_bwd(&widen(&c.data), &widen(&dcg.data));
    let g1r = cpu::conv2d_bwd_weight(&shape1, &widen(&x.data), &dz1);
    let npq = u64::from(shape1.n) * u64::from(shape1.p()) * u64::from(shape1.q());
    let w1g = down(&g1.weight)?;
    checks.add(
        "conv dW",
        compare(
            &w1g.data,
            &g1r.dw,
            |i| sum_bound(npq + 1, g1r.dw_abs[i]),
            w1g.dims,
        ),
    );
    let b1g = down(bias_of(&g1)?)?;
    checks.add(
        "conv db",
        compare(
            &b1g.data,
            &g1r.db,
            |i| sum_bound(npq + 1, g1r.db_abs[i]),
            b1g.dims,
        ),
    );
    // The SGD step, every parameter and its momentum buffer.
    let names = ["0.weight", "0.bias", "4.weight", "4.bias"];
    let before: Vec<Vec<f32>> = vec![w1.data, b1, w3.data, b3];
    let host_grads = [&w1g, &b1g, &w3g, &b3g];
    let mut grads = Gradients::new();
    let device_grads = [
        g1.weight.reshape(w1g.dims)?,
        bias_of(&g1)?.reshape(b1g.dims)?,
        g3.weight.reshape(w3g.dims)?,
        bias_of(&g3)?.reshape(b3g.dims)?,
    ];
    let mut bufs_before = Vec::new();
    for (name, g) in names.iter().zip(device_grads) {
        let old = sgd.momentum(name).map(down).transpose()?.map(|t| t.data);
        bufs_before.push(old.unwrap_or_else(|| vec![0.0; g.len()]));
        grads.insert(*name, g);
    }
    let settings = *sgd.settings();
    sgd.step(net, &grads)?;
    let params: Vec<(String, Tensor4)> = net
        .parameters()
        .into_iter()
        .map(|(n, t)| down(t).map(|d| (n, d)))
        .collect::<Result<_>>()?;
    for (i, name) in names.iter().enumerate() {
        let new = &params
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| Error::Invalid(format!("no {name}")))?
            .1;
        let buf = sgd
            .momentum(name)
            .map(down)
            .transpose()?
            .ok_or_else(|| Error::Invalid(format!("no momentum for {name}")))?;
        let (pc, bc) = bounds::sgd(
            &settings,
            &before[i],
            &host_grads[i].data,
            &bufs_before[i],
            &new.data,
            &buf.data,
            new.dims,
        );
        checks.add(&format!("SGD {name}"), pc);
        if settings.momentum != 0.0 {
            checks.add(&format!("SGD momentum {name}"), bc);
        }
    }
    Ok(())
}

/// `steps` checked steps from the network's current weights on consecutive batches.
pub fn checked_steps(
    net: &mut Sequential,
    sgd: Sgd,
    batches: &[(Tensor4, Vec<u32>)],
) -> Result<StepChecks> {
    let mut opt = SgdOptimizer::new(sgd);
    let mut checks = StepChecks::default();
    for (x, labels) in batches {
        checked_step(net, &mut opt, x, labels, &mut checks)?;
    }
    Ok(checks)
}
