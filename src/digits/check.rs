//! `wgconv digits --check`: training steps of the digit network on the GPU, each output of each
//! kernel compared with its f64 twin fed the very inputs the kernel read (downloaded from the
//! device), so errors do not compound and every output keeps its own bound.

mod bounds;

use crate::compare::{compare, forward_bound, sum_bound, Comparison};
use crate::cpu::{self, widen, PoolShape};
use crate::error::{Error, Result};
use crate::gpu::{cross_entropy, Conv2dGrads, DeviceLabels, DeviceTensor, Gradients, Layer};
use crate::gpu::{Parameters, Sequential, SgdOptimizer};
use crate::sgd::Sgd;
use crate::shape::ConvShape;
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

fn down(t: &DeviceTensor) -> Result<Tensor4> {
    t.download(t.context())
}

fn bias_of(g: &Conv2dGrads) -> Result<&DeviceTensor> {
    g.bias
        .as_ref()
        .ok_or_else(|| Error::Invalid("a layer without bias".into()))
}

/// The parameter names, in the order of [`Step::params`] and [`Step::grads`].
const NAMES: [&str; 4] = ["0.weight", "0.bias", "4.weight", "4.bias"];

/// What one GPU step computed, on the host: every kernel's output and the weights it read.
struct Step {
    /// The conv's and the linear layer's shapes for this batch.
    shapes: [ConvShape; 2],
    /// Conv + ReLU output c, pooled m, logits z, loss, dL/dz, dL/dm, dL/dc.
    c: Tensor4,
    m: Tensor4,
    z: Tensor4,
    loss: Tensor4,
    dz: Tensor4,
    dm: Tensor4,
    dc: Tensor4,
    /// w1, b1, w3, b3 before the update, and their gradients.
    params: [Vec<f32>; 4],
    grads: [Tensor4; 4],
}

/// Runs the forward and backward of `net` on x, downloading everything, and returns the
/// gradients on the device for the optimiser.
fn run_step(net: &Sequential, x: &Tensor4, labels: &[u32]) -> Result<(Step, Gradients)> {
    let ctx = net.context();
    let [Layer::Conv2d(conv), Layer::MaxPool2d(pool), Layer::Linear(linear)] = net.layers() else {
        return Err(Error::Invalid("a conv → pool → linear network".into()));
    };
    let xd = DeviceTensor::upload(ctx, "x", x)?;
    let (c, s1) = conv.forward_train(&xd)?;
    let (m, s2) = pool.forward_train(&c)?;
    let (z, s3) = linear.forward_train(&m)?;
    let (loss, dz) = cross_entropy(ctx, &z, &DeviceLabels::upload(ctx, labels, 10)?)?;
    let g3 = linear.backward(&s3, &dz, true)?;
    let dm = g3
        .input
        .as_ref()
        .ok_or_else(|| Error::Invalid("no dX".into()))?;
    let dc = pool.backward(&s2, dm)?;
    let g1 = conv.backward(&s1, &dc, false)?;
    let (w1, b1) = conv.read_weights()?;
    let (w3, b3) = linear.as_conv().read_weights()?;
    let m = down(&m)?;
    let feats = m.data.len() / m.dims[0];
    let shapes = [
        conv.config().shape_for(x.dims)?,
        linear
            .as_conv()
            .config()
            .shape_for([m.dims[0], feats, 1, 1])?,
    ];
    let device = [&g1.weight, bias_of(&g1)?, &g3.weight, bias_of(&g3)?];
    let mut grads = Gradients::new();
    for (name, g) in NAMES.iter().zip(device) {
        grads.insert(*name, g.reshape(g.dims())?);
    }
    let step = Step {
        shapes,
        c: down(&c)?,
        m,
        z: down(&z)?,
        loss: down(&loss)?,
        dz: down(&dz)?,
        dm: down(dm)?,
        dc: down(&dc)?,
        params: [
            w1.data,
            b1.unwrap_or_default(),
            w3.data,
            b3.unwrap_or_default(),
        ],
        grads: [
            down(device[0])?,
            down(device[1])?,
            down(device[2])?,
            down(device[3])?,
        ],
    };
    Ok((step, grads))
}

/// The window of the network's max pooling on the conv's maps.
fn pool_shape(c: &Tensor4) -> PoolShape {
    PoolShape {
        x_dims: c.dims,
        kernel: (2, 2),
        stride: (2, 2),
        padding: (0, 0),
    }
}

/// The forward kernels and the loss.
fn check_forward(s: &Step, x: &Tensor4, labels: &[u32], checks: &mut StepChecks) {
    let [shape1, shape3] = &s.shapes;
    // The conv (+ ReLU) and the linear layer: f32 sums of C·R·S + 1 terms.
    let r1 = cpu::conv2d_bias_relu_fwd(shape1, &x.data, &s.params[0], &s.params[1]);
    let b = |i: usize| forward_bound(shape1, r1.abs_sum[i]);
    checks.add("conv + ReLU y", compare(&s.c.data, &r1.y, b, s.c.dims));
    // Max pooling selects: exact.
    let (rm, _) = cpu::max_pool2d_fwd(&pool_shape(&s.c), &widen(&s.c.data));
    let exact = |_| bounds::EXACT;
    checks.add("max-pool y", compare(&s.m.data, &rm, exact, s.m.dims));
    let r3 = cpu::conv2d_bias_relu_fwd(shape3, &s.m.data, &s.params[2], &s.params[3]);
    let b = |i: usize| forward_bound(shape3, r3.abs_sum[i]);
    checks.add("linear y (logits)", compare(&s.z.data, &r3.z, b, s.z.dims));
    // Cross-entropy of the GPU's logits (bounds in `bounds`).
    let z = widen(&s.z.data);
    let r = cpu::cross_entropy(&z, labels, 10);
    let lb = bounds::ce_loss(&z, labels);
    checks.add(
        "cross-entropy loss",
        compare(&s.loss.data, &[r.loss], |_| lb, [1; 4]),
    );
    let n = labels.len();
    let b = |i: usize| bounds::ce_grad(&z, &r.grad, n, i);
    checks.add("dL/dlogits", compare(&s.dz.data, &r.grad, b, s.dz.dims));
}

/// The backward kernels: the linear layer's, the pooling's, the conv's through its ReLU mask.
fn check_backward(s: &Step, x: &Tensor4, checks: &mut StepChecks) {
    let [shape1, shape3] = &s.shapes;
    let mut add = |name: &str, gpu: &Tensor4, reference: &[f64], bound: &dyn Fn(usize) -> f64| {
        checks.add(name, compare(&gpu.data, reference, bound, gpu.dims));
    };
    // The linear layer: dW and db sum over the batch, dX over the classes.
    let n = u64::from(shape3.n);
    let gw = cpu::conv2d_bwd_weight(shape3, &s.m.data, &s.dz.data);
    add("linear dW", &s.grads[2], &gw.dw, &|i| {
        sum_bound(n + 1, gw.dw_abs[i])
    });
    add("linear db", &s.grads[3], &gw.db, &|i| {
        sum_bound(n + 1, gw.db_abs[i])
    });
    let gx = cpu::conv2d_bwd_input(shape3, &s.params[2], &s.dz.data);
    let b = |i: usize| sum_bound(gx.dx_terms[i] + 1, gx.dx_abs[i]);
    add("linear dX", &s.dm, &gx.dx, &b);
    // Pooling adds each dy to its winner; 2×2 windows of stride 2 do not overlap: exact.
    let (_, argmax) = cpu::max_pool2d_fwd(&pool_shape(&s.c), &widen(&s.c.data));
    let rdc = cpu::max_pool2d_bwd(&pool_shape(&s.c), &argmax, &widen(&s.dm.data));
    add("max-pool dX", &s.dc, &rdc, &|_| bounds::EXACT);
    // The conv, through the ReLU mask of its own output (exact): sums of N·P·Q + 1 terms.
    let dz1 = cpu::relu_bwd(&widen(&s.c.data), &widen(&s.dc.data));
    let g = cpu::conv2d_bwd_weight(shape1, &widen(&x.data), &dz1);
    let npq = u64::from(shape1.n) * u64::from(shape1.p()) * u64::from(shape1.q());
    add("conv dW", &s.grads[0], &g.dw, &|i| {
        sum_bound(npq + 1, g.dw_abs[i])
    });
    add("conv db", &s.grads[1], &g.db, &|i| {
        sum_bound(npq + 1, g.db_abs[i])
    });
}

/// The momentum buffers before a step (zeros before the first).
fn buffers(sgd: &SgdOptimizer, s: &Step) -> Result<Vec<Vec<f32>>> {
    NAMES
        .iter()
        .zip(&s.grads)
        .map(|(name, g)| match sgd.momentum(name) {
            Some(b) => Ok(down(b)?.data),
            None => Ok(vec![0.0; g.data.len()]),
        })
        .collect()
}

/// The SGD step: every parameter and its momentum buffer against the f64 update.
fn check_sgd(
    net: &Sequential,
    sgd: &SgdOptimizer,
    s: &Step,
    old_bufs: &[Vec<f32>],
    checks: &mut StepChecks,
) -> Result<()> {
    let settings = sgd.settings();
    let params = net.parameters();
    for (i, name) in NAMES.iter().enumerate() {
        let missing = || Error::Invalid(format!("no {name} after the step"));
        let new = params.iter().find(|(n, _)| n == name).ok_or_else(missing)?;
        let new = down(new.1)?;
        let buf = down(sgd.momentum(name).ok_or_else(missing)?)?;
        let (old, g) = (&s.params[i], &s.grads[i].data);
        let (pc, bc) = bounds::sgd(
            settings,
            [old, g, &old_bufs[i]],
            [&new.data, &buf.data],
            new.dims,
        );
        checks.add(&format!("SGD {name}"), pc);
        if settings.momentum != 0.0 {
            checks.add(&format!("SGD momentum {name}"), bc);
        }
    }
    Ok(())
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
    let (step, grads) = run_step(net, x, labels)?;
    check_forward(&step, x, labels, checks);
    check_backward(&step, x, checks);
    let old_bufs = buffers(sgd, &step)?;
    sgd.step(net, &grads)?;
    check_sgd(net, sgd, &step, &old_bufs, checks)
}

/// Checked steps from the network's current weights, one per batch, with a fresh optimiser.
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
