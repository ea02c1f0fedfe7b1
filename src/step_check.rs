//! Checking GPU training steps against the f64 reference, kernel by kernel.
//!
//! Each step is run on the GPU alone; then every output of that step is compared with the CPU
//! twin of its kernel, fed the same inputs the GPU kernel read (the GPU's own state before the
//! step, its y, its dz). Errors therefore do not compound and every output keeps a tight bound
//! of its own (see [`crate::compare`]). The ReLU mask is compared explicitly: y > 0 must agree
//! with z > 0 of the reference except where |z| is within the forward bound of 0.

use crate::compare::{
    compare, dz_bound, forward_bound, loss_bound, sgd_bound, sum_bound, Comparison,
};
use crate::cpu;
use crate::error::Result;
use crate::gpu::{Trainer, TrainerState};
use crate::sgd::Sgd;
use crate::shape::{ConvShape, PaddingMode};
use crate::tensor::Tensor4;

/// The comparisons of every output, merged over the steps checked.
#[derive(Debug, Clone, Default)]
pub struct StepCheck {
    pub steps: u64,
    pub y: Option<Comparison>,
    pub loss: Option<Comparison>,
    pub dz: Option<Comparison>,
    pub dw: Option<Comparison>,
    pub db: Option<Comparison>,
    pub dx: Option<Comparison>,
    pub w: Option<Comparison>,
    pub b: Option<Comparison>,
    pub w_momentum: Option<Comparison>,
    pub b_momentum: Option<Comparison>,
    /// Elements whose ReLU mask differs from the reference's where |z| exceeded its bound.
    pub mask_mismatches: usize,
    /// The GPU's loss of every step ([`checked_steps`]; empty from [`checked_steps_with`]).
    pub losses: Vec<f32>,
}

fn merge(slot: &mut Option<Comparison>, c: Comparison) {
    *slot = Some(match slot.take() {
        Some(prev) => prev.merge(c),
        None => c,
    });
}

impl StepCheck {
    /// (name, comparison) of every output checked.
    pub fn outputs(&self) -> Vec<(&'static str, Comparison)> {
        [
            ("y", self.y),
            ("loss", self.loss),
            ("dz", self.dz),
            ("dw", self.dw),
            ("db", self.db),
            ("dx", self.dx),
            ("w", self.w),
            ("b", self.b),
            ("w momentum", self.w_momentum),
            ("b momentum", self.b_momentum),
        ]
        .into_iter()
        .filter_map(|(n, c)| c.map(|c| (n, c)))
        .collect()
    }

    /// No element over its bound and no unexplained mask difference.
    pub fn passed(&self) -> bool {
        self.mask_mismatches == 0 && self.outputs().iter().all(|(_, c)| c.passed())
    }

    /// The largest error-to-bound ratio over all outputs.
    pub fn worst_ratio(&self) -> f64 {
        self.outputs()
            .iter()
            .map(|(_, c)| c.worst_ratio())
            .fold(0.0, f64::max)
    }
}

/// The GPU's outputs of one step, read back.
struct StepOutputs {
    loss: f32,
    y: Tensor4,
    dz: Tensor4,
    dw: Tensor4,
    db: Vec<f32>,
}

/// Runs `steps` steps one at a time (reading everything back after each: for checking, not for
/// speed) and compares each with the reference. `input_grad_last` also checks dL/dx of the
/// last step. x and t are the trainer's input and target.
pub fn checked_steps(
    trainer: &mut Trainer,
    x: &Tensor4,
    t: &Tensor4,
    steps: u64,
    input_grad_last: bool,
) -> Result<StepCheck> {
    let mut losses = Vec::new();
    let mut check = checked_steps_with(trainer, (x, t), steps, input_grad_last, |_, l| {
        losses.push(l)
    })?;
    check.losses = losses;
    Ok(check)
}

/// [`checked_steps`] handing each step's loss to `on_loss(step, loss)` instead of keeping it:
/// memory stays flat however many steps run.
pub fn checked_steps_with(
    trainer: &mut Trainer,
    (x, t): (&Tensor4, &Tensor4),
    steps: u64,
    input_grad_last: bool,
    mut on_loss: impl FnMut(u64, f32),
) -> Result<StepCheck> {
    let shape = *trainer.shape();
    let mut check = StepCheck::default();
    for step in 0..steps {
        let before = trainer.read_state()?;
        let with_dx = input_grad_last && step + 1 == steps;
        let mut loss = f32::NAN;
        trainer.run(1, with_dx, |_, l| loss = l[0])?;
        let (y, dz) = trainer.read_output_and_dz()?;
        let (dw, db) = trainer.read_grads()?;
        let out = StepOutputs {
            loss,
            y,
            dz,
            dw,
            db,
        };
        on_loss(step, loss);
        check.forward(&shape, x, &before, &out);
        check.loss_and_dz(&shape, t, &out);
        check.weight_grads(&shape, x, &out);
        if with_dx {
            // From the GPU's dz and the weights the step used: each dx sums the products that
            // reached its pixel (dx_terms); with a padding mode other than zeros in two levels
            // (per padded position, then the fold over the positions that copy the pixel),
            // which adds at most one rounding per product to its path.
            let dx = trainer.read_input_grad()?;
            let xref = cpu::conv2d_bwd_input(&shape, &before.w.data, &out.dz.data);
            let levels = if shape.padding_mode == PaddingMode::Zeros {
                1
            } else {
                2
            };
            let bound = |i: usize| sum_bound(levels * xref.dx_terms[i] + 1, xref.dx_abs[i]);
            merge(&mut check.dx, compare(&dx.data, &xref.dx, bound, dx.dims));
        }
        check.update(trainer.sgd(), &before, &trainer.read_state()?, &out);
        check.steps += 1;
    }
    Ok(check)
}

impl StepCheck {
    /// y from the state before the step, and the ReLU mask.
    fn forward(
        &mut self,
        shape: &ConvShape,
        x: &Tensor4,
        before: &TrainerState,
        out: &StepOutputs,
    ) {
        let fwd = cpu::conv2d_bias_relu_fwd(shape, &x.data, &before.w.data, &before.b);
        let fb = |i: usize| forward_bound(shape, fwd.abs_sum[i]);
        let y = &out.y;
        merge(&mut self.y, compare(&y.data, &fwd.y, fb, y.dims));
        self.mask_mismatches += (0..y.data.len())
            .filter(|&i| (y.data[i] > 0.0) != (fwd.z[i] > 0.0) && fwd.z[i].abs() > fb(i))
            .count();
    }

    /// The loss and dz, from the GPU's y.
    fn loss_and_dz(&mut self, shape: &ConvShape, t: &Tensor4, out: &StepOutputs) {
        let lref = cpu::loss_mse_relu_bwd(&out.y.data, &t.data);
        let lb = loss_bound(shape.output_len(), lref.loss);
        let loss = compare(&[out.loss], &[lref.loss], |_| lb, [1, 1, 1, 1]);
        merge(&mut self.loss, loss);
        let dz = compare(
            &out.dz.data,
            &lref.dz,
            |i| dz_bound(lref.dz[i]),
            out.dz.dims,
        );
        merge(&mut self.dz, dz);
    }

    /// dW and db, from the GPU's dz: sums of N·P·Q terms.
    fn weight_grads(&mut self, shape: &ConvShape, x: &Tensor4, out: &StepOutputs) {
        let npq = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
        let gref = cpu::conv2d_bwd_weight(shape, &x.data, &out.dz.data);
        let dw_bound = |i| sum_bound(npq + 1, gref.dw_abs[i]);
        merge(
            &mut self.dw,
            compare(&out.dw.data, &gref.dw, dw_bound, out.dw.dims),
        );
        let db_bound = |i| sum_bound(npq + 1, gref.db_abs[i]);
        let db_dims = [out.db.len(), 1, 1, 1];
        merge(&mut self.db, compare(&out.db, &gref.db, db_bound, db_dims));
    }

    /// The SGD updates of w and b and their momentum, from the GPU's state before the step and
    /// its gradients.
    fn update(
        &mut self,
        sgd: &Sgd,
        before: &TrainerState,
        after: &TrainerState,
        out: &StepOutputs,
    ) {
        let w = Param {
            old: &before.w.data,
            grad: &out.dw.data,
            buf_old: &before.w_momentum,
        };
        let (wc, wmc) = w.check(sgd, &after.w.data, &after.w_momentum, out.dw.dims);
        let b = Param {
            old: &before.b,
            grad: &out.db,
            buf_old: &before.b_momentum,
        };
        let (bc, bmc) = b.check(sgd, &after.b, &after.b_momentum, [out.db.len(), 1, 1, 1]);
        merge(&mut self.w, wc);
        merge(&mut self.b, bc);
        if sgd.momentum != 0.0 {
            merge(&mut self.w_momentum, wmc);
            merge(&mut self.b_momentum, bmc);
        }
    }
}

/// A parameter before an SGD update: its values, gradient and momentum buffer.
struct Param<'a> {
    old: &'a [f32],
    grad: &'a [f32],
    buf_old: &'a [f32],
}

impl Param<'_> {
    /// Compares the GPU's new values and buffer with the f64 update of the old ones.
    fn check(
        &self,
        sgd: &Sgd,
        new: &[f32],
        buf_new: &[f32],
        dims: [usize; 4],
    ) -> (Comparison, Comparison) {
        let mut p = cpu::widen(self.old);
        let mut buf = cpu::widen(self.buf_old);
        let g = cpu::widen(self.grad);
        cpu::sgd_update(&mut p, &g, &mut buf, sgd);
        let (lr, mom, wd) = (
            f64::from(sgd.lr),
            f64::from(sgd.momentum),
            f64::from(sgd.weight_decay),
        );
        let old = |i: usize| f64::from(self.old[i]).abs();
        let buf_old = |i: usize| f64::from(self.buf_old[i]).abs();
        let p_scale =
            |i: usize| old(i) + lr * (g[i].abs() + wd * old(i) + mom * (buf_old(i) + buf[i].abs()));
        let buf_scale = |i: usize| mom * buf_old(i) + g[i].abs() + wd * old(i);
        (
            compare(new, &p, |i| sgd_bound(p_scale(i)), dims),
            compare(buf_new, &buf, |i| sgd_bound(buf_scale(i)), dims),
        )
    }
}
