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
use crate::gpu::Trainer;
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
    /// The GPU's loss of every step.
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
    let shape = *trainer.shape();
    let sgd = *trainer.sgd();
    let mut check = StepCheck::default();
    let m = shape.output_len();
    let npq = u64::from(shape.n) * u64::from(shape.p()) * u64::from(shape.q());
    let krs = u64::from(shape.k) * u64::from(shape.r) * u64::from(shape.s);
    for step in 0..steps {
        let before = trainer.read_state()?;
        let last = step + 1 == steps;
        let mut loss = f32::NAN;
        trainer.run(1, input_grad_last && last, |_, l| loss = l[0])?;
        check.losses.push(loss);
        let (y, dz) = trainer.read_output_and_dz()?;
        let (dw, db) = trainer.read_grads()?;
        let after = trainer.read_state()?;

        // Forward, from the state before the step, and the ReLU mask.
        let fwd = cpu::conv2d_bias_relu_fwd(&shape, &x.data, &before.w.data, &before.b);
        let fb = |i: usize| forward_bound(&shape, fwd.abs_sum[i]);
        merge(&mut check.y, compare(&y.data, &fwd.y, fb, y.dims));
        check.mask_mismatches += (0..y.data.len())
            .filter(|&i| (y.data[i] > 0.0) != (fwd.z[i] > 0.0) && fwd.z[i].abs() > fb(i))
            .count();

        // Loss and dz, from the GPU's y.
        let lref = cpu::loss_mse_relu_bwd(&y.data, &t.data);
        let lb = loss_bound(m, lref.loss);
        merge(
            &mut check.loss,
            compare(&[loss], &[lref.loss], |_| lb, [1, 1, 1, 1]),
        );
        merge(
            &mut check.dz,
            compare(&dz.data, &lref.dz, |i| dz_bound(lref.dz[i]), dz.dims),
        );

        // Weight and bias gradients, from the GPU's dz: sums of N·P·Q terms.
        let gref = cpu::conv2d_bwd_weight(&shape, &x.data, &dz.data);
        merge(
            &mut check.dw,
            compare(
                &dw.data,
                &gref.dw,
                |i| sum_bound(npq + 1, gref.dw_abs[i]),
                dw.dims,
            ),
        );
        merge(
            &mut check.db,
            compare(
                &db,
                &gref.db,
                |i| sum_bound(npq + 1, gref.db_abs[i]),
                [db.len(), 1, 1, 1],
            ),
        );

        // Input gradient, from the GPU's dz and the weights the step used: sums of K·R·S terms.
        if input_grad_last && last {
            let dx = trainer.read_input_grad()?;
            let xref = cpu::conv2d_bwd_input(&shape, &before.w.data, &dz.data);
            merge(
                &mut check.dx,
                compare(
                    &dx.data,
                    &xref.dx,
                    |i| sum_bound(krs + 1, xref.dx_abs[i]),
                    dx.dims,
                ),
            );
        }

        // SGD, from the GPU's state before the step and its gradients.
        let sgd_check =
            |p_old: &[f32], g: &[f32], buf_old: &[f32], p_new: &[f32], buf_new: &[f32], dims| {
                let mut p = cpu::widen(p_old);
                let mut buf = cpu::widen(buf_old);
                let gw = cpu::widen(g);
                cpu::sgd_update(&mut p, &gw, &mut buf, &sgd);
                let (lr, mom, wd) = (
                    f64::from(sgd.lr),
                    f64::from(sgd.momentum),
                    f64::from(sgd.weight_decay),
                );
                let scale = |i: usize| {
                    let po = f64::from(p_old[i]).abs();
                    po + lr
                        * (gw[i].abs()
                            + wd * po
                            + mom * (f64::from(buf_old[i]).abs() + buf[i].abs()))
                };
                let pc = compare(p_new, &p, |i| sgd_bound(scale(i)), dims);
                let bc = compare(
                    buf_new,
                    &buf,
                    |i| {
                        sgd_bound(
                            mom * f64::from(buf_old[i]).abs()
                                + gw[i].abs()
                                + wd * f64::from(p_old[i]).abs(),
                        )
                    },
                    dims,
                );
                (pc, bc)
            };
        let (wc, wmc) = sgd_check(
            &before.w.data,
            &dw.data,
            &before.w_momentum,
            &after.w.data,
            &after.w_momentum,
            dw.dims,
        );
        let (bc, bmc) = sgd_check(
            &before.b,
            &db,
            &before.b_momentum,
            &after.b,
            &after.b_momentum,
            [db.len(), 1, 1, 1],
        );
        merge(&mut check.w, wc);
        merge(&mut check.b, bc);
        if sgd.momentum != 0.0 {
            merge(&mut check.w_momentum, wmc);
            merge(&mut check.b_momentum, bmc);
        }
        check.steps += 1;
    }
    Ok(check)
}
