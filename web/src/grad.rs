//! One weight's gradient, explained: one training step of the "Learning, live" session, with
//! everything that step computed kept for the page to spell out ∂L/∂w¹ᵢ,ⱼ of any weight.
//!
//! Which GPU values: the trainer's own buffers, read back (without blocking) right after the
//! step: its loss log, y and dL/dz (the fused loop copies its last step's into them), dL/dw and
//! dL/db of the step (taken before its update), and the weights and momentum buffers before and
//! after it. Nothing is recomputed on the GPU, so the numbers shown are the ones the step used
//! and the update it applied — the fused loop's where the trainer runs it.
//!
//! The twin: as the crate's step check (`wgconv::step_check`), each kernel's f64 reference
//! (`wgconv::cpu`) is fed the inputs that GPU kernel read — the forward from the weights before
//! the step, the loss and dz from the GPU's y, dW and db from the GPU's dz, the SGD update from
//! the GPU's gradient and momentum — so errors do not compound and each value keeps its own
//! bound (`wgconv::compare`). Without WebGPU the step is the f64 trainer's own, with no twin.

use std::cell::RefCell;

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wgconv::compare::{forward_bound, loss_bound, sgd_bound, sum_bound};
use wgconv::{cpu, ConvShape, Sgd};

use crate::train::{put_session, take_session, Session, TASK};
use crate::{gpu, js, now_ms};

/// The f64 references of one GPU step.
struct Twin {
    /// z from the weights before the step, and each element's forward bound.
    z: Vec<f64>,
    z_bound: Vec<f64>,
    /// The loss from the GPU's y, and its bound.
    loss: f64,
    loss_bound: f64,
    /// dL/dw, dL/db from the GPU's dz, and Σ|terms| of each (the scales of their bounds).
    dw: Vec<f64>,
    dw_abs: Vec<f64>,
    db: Vec<f64>,
    db_abs: Vec<f64>,
    /// The SGD update of the weights from the GPU's state before the step and its dL/dw.
    w_after: Vec<f64>,
    vw_after: Vec<f64>,
}

/// One step and what it computed (the GPU's f32 values widened, or the f64 trainer's).
struct Record {
    source: &'static str,
    /// The step's index (0-based, as the loss curve counts).
    step: u64,
    shape: ConvShape,
    x: Vec<f64>,
    loss: f64,
    y: Vec<f64>,
    dz: Vec<f64>,
    dw: Vec<f64>,
    db: Vec<f64>,
    w_before: Vec<f64>,
    vw_before: Vec<f64>,
    w_after: Vec<f64>,
    vw_after: Vec<f64>,
    sgd: Sgd,
    twin: Option<Twin>,
}

thread_local! {
    static RECORD: RefCell<Option<Record>> = const { RefCell::new(None) };
}

fn widen(v: &[f32]) -> Vec<f64> {
    cpu::widen(v)
}

fn narrow(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&a| a as f32).collect()
}

#[derive(Serialize)]
struct StepJson {
    first_step: u64,
    losses: Vec<f64>,
    w: Vec<f32>,
    b: Vec<f32>,
    steps_done: u64,
    ms: f64,
}

/// Runs one step of the training session (as `train_steps(1)`) and keeps what it computed for
/// [`grad_explain`]. Resolves to the same JSON as `train_steps`.
#[wasm_bindgen]
pub async fn grad_step() -> Result<String, JsError> {
    let mut session = take_session()?;
    let started = now_ms();
    let result = recorded_step(&mut session).await;
    let ms = now_ms() - started;
    put_session(session);
    let (record, w, b, steps_done) = result?;
    let json = StepJson {
        first_step: record.step,
        losses: vec![record.loss],
        w,
        b,
        steps_done,
        ms,
    };
    RECORD.with(|r| *r.borrow_mut() = Some(record));
    serde_json::to_string(&json).map_err(js)
}

type Recorded = (Record, Vec<f32>, Vec<f32>, u64);

async fn recorded_step(session: &mut Session) -> Result<Recorded, JsError> {
    match session {
        Session::Gpu(trainer, offset) => {
            let _ = gpu()?;
            let shape = *trainer.shape();
            let sgd = *trainer.sgd();
            let x = TASK.with(|t| t.borrow().as_ref().map(|t| (widen(&t.x.data), t.t.clone())));
            let Some((x, t)) = x else {
                return Err(JsError::new("no training task"));
            };
            let before = trainer.read_state_async().await.map_err(js)?;
            let step = *offset + trainer.steps_done();
            let mut loss = f32::NAN;
            trainer.run_async(1, |_, l| loss = l[0]).await.map_err(js)?;
            let (y, dz) = trainer.read_output_and_dz_async().await.map_err(js)?;
            let (dw, db) = trainer.read_grads_async().await.map_err(js)?;
            let after = trainer.read_state_async().await.map_err(js)?;

            // The twins, kernel by kernel, from what each GPU kernel read.
            let fwd =
                cpu::conv2d_bias_relu_fwd(&shape, &x, &widen(&before.w.data), &widen(&before.b));
            let z_bound = fwd
                .abs_sum
                .iter()
                .map(|&a| forward_bound(&shape, a))
                .collect();
            let lref = cpu::loss_mse_relu_bwd(&y.data, &t.data);
            let gref = cpu::conv2d_bwd_weight(&shape, &x, &widen(&dz.data));
            let mut w_after = widen(&before.w.data);
            let mut vw_after = widen(&before.w_momentum);
            cpu::sgd_update(&mut w_after, &widen(&dw.data), &mut vw_after, &sgd);
            let twin = Twin {
                z: fwd.z,
                z_bound,
                loss: lref.loss,
                loss_bound: loss_bound(shape.output_len(), lref.loss),
                dw: gref.dw,
                dw_abs: gref.dw_abs,
                db: gref.db,
                db_abs: gref.db_abs,
                w_after,
                vw_after,
            };
            let record = Record {
                source: "gpu",
                step,
                shape,
                x,
                loss: f64::from(loss),
                y: widen(&y.data),
                dz: widen(&dz.data),
                dw: widen(&dw.data),
                db: widen(&db),
                w_before: widen(&before.w.data),
                vw_before: widen(&before.w_momentum),
                w_after: widen(&after.w.data),
                vw_after: widen(&after.w_momentum),
                sgd,
                twin: Some(twin),
            };
            let steps_done = *offset + trainer.steps_done();
            Ok((record, after.w.data, after.b, steps_done))
        }
        Session::Cpu(s) => {
            // The f64 trainer's step (train.rs's `run`), its intermediate values kept.
            let (w_before, vw_before) = (s.w.clone(), s.w_buf.clone());
            let fwd = cpu::conv2d_bias_relu_fwd(&s.shape, &s.x, &s.w, &s.b);
            let loss = cpu::loss_mse_relu_bwd(&fwd.y, &s.t);
            let grads = cpu::conv2d_bwd_weight(&s.shape, &s.x, &loss.dz);
            cpu::sgd_update(&mut s.w, &grads.dw, &mut s.w_buf, &s.sgd);
            cpu::sgd_update(&mut s.b, &grads.db, &mut s.b_buf, &s.sgd);
            let step = s.steps_done;
            s.steps_done += 1;
            let record = Record {
                source: "cpu",
                step,
                shape: s.shape,
                x: s.x.clone(),
                loss: loss.loss,
                y: fwd.y,
                dz: loss.dz,
                dw: grads.dw,
                db: grads.db,
                w_before,
                vw_before,
                w_after: s.w.clone(),
                vw_after: s.w_buf.clone(),
                sgd: s.sgd,
                twin: None,
            };
            Ok((record, narrow(&s.w), narrow(&s.b), s.steps_done))
        }
    }
}

/// One term dz¹ₙ,p,q · xₙ,p+i−1,q+j−1 of the sum (0-based n, p, q here; the page adds 1).
#[derive(Serialize, Clone, Copy)]
struct Term {
    n: usize,
    p: usize,
    q: usize,
    dz: f64,
    x: f64,
    term: f64,
}

#[derive(Serialize)]
struct ExplainJson {
    source: &'static str,
    step: u64,
    /// The weight w[k, 0, i, j] (0-based).
    k: usize,
    i: usize,
    j: usize,
    n: usize,
    p: usize,
    q: usize,
    loss: f64,
    /// The step's dL/dz of filter k, y of filter k (its ReLU mask: y > 0 exactly where z > 0),
    /// and the twin's z with each element's bound; (n, p, q) row-major.
    dz: Vec<f64>,
    y: Vec<f64>,
    /// The shifted window: x[n, p + i, q + j] (stride 1, no padding: the notebook's layer).
    window: Vec<f64>,
    /// The largest |terms|, how many terms in all and how many are 0 where the ReLU cut.
    top: Vec<Term>,
    terms: usize,
    cut: usize,
    dw: f64,
    db: f64,
    lr: f64,
    momentum: f64,
    weight_decay: f64,
    nesterov: bool,
    w_before: f64,
    v_before: f64,
    v_after: f64,
    w_after: f64,
    twin: Option<TwinJson>,
}

#[derive(Serialize)]
struct TwinJson {
    z: Vec<f64>,
    z_bound: Vec<f64>,
    loss: f64,
    loss_bound: f64,
    dw: f64,
    dw_abs: f64,
    dw_bound: f64,
    db: f64,
    db_abs: f64,
    db_bound: f64,
    w_after: f64,
    w_bound: f64,
    v_after: f64,
    v_bound: f64,
}

/// How many of the largest |terms| the page spells out.
const TOP: usize = 5;

/// The explanation of ∂L/∂w[k, 0, i, j] (0-based) from the last [`grad_step`], as JSON.
#[wasm_bindgen]
pub fn grad_explain(k: usize, i: usize, j: usize) -> Result<String, JsError> {
    RECORD.with(|r| {
        let r = r.borrow();
        let r = r
            .as_ref()
            .ok_or_else(|| JsError::new("no step has been explained yet"))?;
        let s = &r.shape;
        let [n_, k_, p_, q_] = [s.n, s.k, s.p(), s.q()].map(|d| d as usize);
        let (h_, w_, r_, s_) = (s.h as usize, s.w as usize, s.r as usize, s.s as usize);
        if k >= k_ || i >= r_ || j >= s_ {
            return Err(JsError::new(&format!(
                "no weight ({k}, {i}, {j}) in filters of {k_} × {r_} × {s_}"
            )));
        }
        let out = |n: usize, p: usize, q: usize| ((n * k_ + k) * p_ + p) * q_ + q;
        let mut dz = Vec::with_capacity(n_ * p_ * q_);
        let mut y = Vec::with_capacity(n_ * p_ * q_);
        let mut window = Vec::with_capacity(n_ * p_ * q_);
        let mut all = Vec::with_capacity(n_ * p_ * q_);
        for n in 0..n_ {
            for p in 0..p_ {
                for q in 0..q_ {
                    let o = out(n, p, q);
                    // One input channel, stride 1, no padding: the notebook's layer.
                    let x = r.x[(n * h_ + p + i) * w_ + q + j];
                    dz.push(r.dz[o]);
                    y.push(r.y[o]);
                    window.push(x);
                    all.push(Term {
                        n,
                        p,
                        q,
                        dz: r.dz[o],
                        x,
                        term: r.dz[o] * x,
                    });
                }
            }
        }
        let cut = y.iter().filter(|&&v| v <= 0.0).count();
        all.sort_by(|a, b| b.term.abs().total_cmp(&a.term.abs()));
        let top = all.iter().take(TOP).copied().collect();
        let wi = (k * r_ + i) * s_ + j; // one input channel
        let sgd = &r.sgd;
        let twin = r.twin.as_ref().map(|t| {
            let (zs, ze) = (k * p_ * q_, (k + 1) * p_ * q_);
            let per_k = |v: &[f64]| -> Vec<f64> {
                (0..n_)
                    .flat_map(|n| v[n * k_ * p_ * q_ + zs..n * k_ * p_ * q_ + ze].to_vec())
                    .collect()
            };
            // The bounds, as the crate's step check holds its kernels to them: dL/dw and dL/db
            // are f32 sums of N·P·Q = 1600 terms, and an f32 sum of n terms errs by at most
            // γₙ·Σ|terms| ≈ n·2⁻²⁴·Σ|terms| in any order (Higham §3.1); `sum_bound` allows
            // twice that, n·2⁻²³·Σ|terms|, plus n·2⁻¹²⁶ for flushed subnormal products (n + 1:
            // the tiled kernel's last partial sum adds one more rounding).
            let npq = u64::from(s.n) * u64::from(s.p()) * u64::from(s.q());
            let (lr, mom, wd) = (
                f64::from(sgd.lr),
                f64::from(sgd.momentum),
                f64::from(sgd.weight_decay),
            );
            let (p_old, v_old, g) = (r.w_before[wi].abs(), r.vw_before[wi].abs(), r.dw[wi].abs());
            // The update's roundings, each relative to the magnitude it rounds
            // (`compare::sgd_bound`): v ← μ·v + g, then w ← w − lr·v.
            let w_scale = p_old + lr * (g + wd * p_old + mom * (v_old + t.vw_after[wi].abs()));
            let v_scale = mom * v_old + g + wd * p_old;
            TwinJson {
                z: per_k(&t.z),
                z_bound: per_k(&t.z_bound),
                loss: t.loss,
                loss_bound: t.loss_bound,
                dw: t.dw[wi],
                dw_abs: t.dw_abs[wi],
                dw_bound: sum_bound(npq + 1, t.dw_abs[wi]),
                db: t.db[k],
                db_abs: t.db_abs[k],
                db_bound: sum_bound(npq + 1, t.db_abs[k]),
                w_after: t.w_after[wi],
                w_bound: sgd_bound(w_scale),
                v_after: t.vw_after[wi],
                v_bound: sgd_bound(v_scale),
            }
        });
        serde_json::to_string(&ExplainJson {
            source: r.source,
            step: r.step,
            k,
            i,
            j,
            n: n_,
            p: p_,
            q: q_,
            loss: r.loss,
            dz,
            y,
            window,
            top,
            terms: all.len(),
            cut,
            dw: r.dw[wi],
            db: r.db[k],
            lr: f64::from(sgd.lr),
            momentum: f64::from(sgd.momentum),
            weight_decay: f64::from(sgd.weight_decay),
            nesterov: sgd.nesterov,
            w_before: r.w_before[wi],
            v_before: r.vw_before[wi],
            v_after: r.vw_after[wi],
            w_after: r.w_after[wi],
            twin,
        })
        .map_err(js)
    })
}
