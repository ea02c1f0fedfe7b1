//! Learning, live: `wgconv train`'s teacher/student task (`teacher_student::make_inputs`,
//! `student_init`, `TEACHER_BIAS`, the notebook's filters as the teacher) trained by wgconv's
//! `Trainer` on the GPU (the fused loop where the adapter runs it), or, without WebGPU, by the
//! f64 reference kernels (`cpu::conv2d_bias_relu_fwd`, `loss_mse_relu_bwd`, `conv2d_bwd_weight`,
//! `sgd_update`) step by step.

use std::cell::RefCell;

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wgconv::teacher_student::{make_inputs, student_init, Data, TEACHER_BIAS};
use wgconv::{cpu, Conv2d, Conv2dConfig, ConvShape, DeviceTensor, Sgd, Tensor4, Trainer};
use wgconv::{notebook, TrainerOptions};

use crate::{gpu, js, now_ms};

/// `wgconv train`'s defaults: batch 4 of random centred images.
pub(crate) const BATCH: u32 = 4;
/// Steps per submission (`wgconv train --log-every`'s default).
const LOG_EVERY: u32 = 50;

/// The f64 reference trainer: parameters and momentum buffers in f64.
pub(crate) struct CpuSession {
    pub(crate) shape: ConvShape,
    pub(crate) x: Vec<f64>,
    pub(crate) t: Vec<f64>,
    pub(crate) w: Vec<f64>,
    pub(crate) b: Vec<f64>,
    pub(crate) w_buf: Vec<f64>,
    pub(crate) b_buf: Vec<f64>,
    pub(crate) sgd: Sgd,
    pub(crate) steps_done: u64,
}

pub(crate) enum Session {
    /// The trainer, and the steps run by trainers it replaced (new learning rate or momentum).
    Gpu(Box<Trainer>, u64),
    Cpu(Box<CpuSession>),
}

/// Inputs and target kept to rebuild the GPU trainer when the learning rate or momentum change.
pub(crate) struct Task {
    pub(crate) x: Tensor4,
    pub(crate) t: Tensor4,
}

thread_local! {
    /// None while a call holds the session (across an await) or before `train_init`.
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
    pub(crate) static TASK: RefCell<Option<Task>> = const { RefCell::new(None) };
}

pub(crate) fn take_session() -> Result<Session, JsError> {
    SESSION
        .with(|s| s.borrow_mut().take())
        .ok_or_else(|| JsError::new("no training session (start one, or wait for the last call)"))
}

pub(crate) fn put_session(s: Session) {
    SESSION.with(|slot| *slot.borrow_mut() = Some(s));
}

fn sgd(lr: f32, momentum: f32) -> Result<Sgd, JsError> {
    let sgd = Sgd {
        momentum,
        ..Sgd::new(lr)
    };
    sgd.validate().map_err(js)?;
    Ok(sgd)
}

#[derive(Serialize)]
struct InitJson {
    batch: u32,
    teacher_w: Vec<f32>,
    teacher_b: Vec<f32>,
    student_w: Vec<f32>,
    student_b: Vec<f32>,
    source: &'static str,
    /// Whether the GPU trainer runs the fused loop.
    fused_loop: bool,
}

async fn gpu_trainer(
    x: &Tensor4,
    t: &Tensor4,
    w: &Tensor4,
    b: &[f32],
    sgd: Sgd,
) -> Result<Trainer, JsError> {
    let ctx = gpu()?;
    let student = Conv2d::from_weights(ctx, Conv2dConfig::NOTEBOOK, w, Some(b)).map_err(js)?;
    let options = TrainerOptions::new(sgd).with_log_capacity(LOG_EVERY);
    Trainer::new(student, x, t, options).map_err(js)
}

/// Starts `wgconv train --seed seed --lr lr --momentum momentum`'s task: on the GPU when
/// `use_gpu`, else on the f64 reference. JSON [`InitJson`].
#[wasm_bindgen]
pub async fn train_init(
    use_gpu: bool,
    lr: f32,
    momentum: f32,
    seed: u64,
) -> Result<String, JsError> {
    let sgd = sgd(lr, momentum)?;
    SESSION.with(|s| s.borrow_mut().take());
    let x = make_inputs(&Data::Random, BATCH, seed).map_err(js)?;
    let teacher_w = notebook::filters();
    let teacher_b = TEACHER_BIAS.to_vec();
    let (w0, b0) = student_init(seed);
    let shape = Conv2dConfig::NOTEBOOK.shape_for(x.dims).map_err(js)?;
    let (session, t) = if use_gpu {
        // The target from the teacher on the GPU, as `wgconv train` makes it.
        let ctx = gpu()?;
        let teacher =
            Conv2d::from_weights(ctx, Conv2dConfig::NOTEBOOK, &teacher_w, Some(&teacher_b))
                .map_err(js)?;
        let xd = DeviceTensor::upload(ctx, "x", &x).map_err(js)?;
        let t = crate::forward_y(&teacher, &xd)?
            .download_async(ctx)
            .await
            .map_err(js)?;
        let trainer = gpu_trainer(&x, &t, &w0, &b0, sgd).await?;
        (Session::Gpu(Box::new(trainer), 0), t)
    } else {
        let reference = cpu::conv2d_bias_relu_fwd(&shape, &x.data, &teacher_w.data, &teacher_b);
        let t = Tensor4::new(
            "t",
            [BATCH as usize, 2, 20, 20],
            reference.y.iter().map(|&v| v as f32).collect(),
        )
        .map_err(js)?;
        let session = CpuSession {
            shape,
            x: cpu::widen(&x.data),
            t: cpu::widen(&t.data),
            w: cpu::widen(&w0.data),
            b: cpu::widen(&b0),
            w_buf: vec![0.0; w0.data.len()],
            b_buf: vec![0.0; b0.len()],
            sgd,
            steps_done: 0,
        };
        (Session::Cpu(Box::new(session)), t)
    };
    let (source, fused_loop) = match &session {
        Session::Gpu(tr, _) => ("gpu", tr.versions().fused_loop),
        Session::Cpu(_) => ("cpu", false),
    };
    put_session(session);
    TASK.with(|task| *task.borrow_mut() = Some(Task { x, t }));
    serde_json::to_string(&InitJson {
        batch: BATCH,
        teacher_w: teacher_w.data,
        teacher_b,
        student_w: w0.data,
        student_b: b0,
        source,
        fused_loop,
    })
    .map_err(js)
}

#[derive(Serialize)]
struct StepsJson {
    first_step: u64,
    /// The loss before each step's update.
    losses: Vec<f64>,
    /// The student after the steps.
    w: Vec<f32>,
    b: Vec<f32>,
    steps_done: u64,
    /// Wall time of the steps and of reading the losses and weights back.
    ms: f64,
}

/// Runs `n` more steps and returns their losses and the student's weights (JSON).
#[wasm_bindgen]
pub async fn train_steps(n: u32) -> Result<String, JsError> {
    let mut session = take_session()?;
    let started = now_ms();
    let result = run(&mut session, n).await;
    let ms = now_ms() - started;
    put_session(session);
    let (first_step, losses, w, b, steps_done) = result?;
    serde_json::to_string(&StepsJson {
        first_step,
        losses,
        w,
        b,
        steps_done,
        ms,
    })
    .map_err(js)
}

type Steps = (u64, Vec<f64>, Vec<f32>, Vec<f32>, u64);

async fn run(session: &mut Session, n: u32) -> Result<Steps, JsError> {
    match session {
        Session::Gpu(trainer, offset) => {
            let first = *offset + trainer.steps_done();
            let mut losses = Vec::with_capacity(n as usize);
            trainer
                .run_async(u64::from(n), |_, l| {
                    losses.extend(l.iter().map(|&v| f64::from(v)))
                })
                .await
                .map_err(js)?;
            let ctx = gpu()?;
            let layer = trainer.layer();
            let w = layer.weight().download_async(ctx).await.map_err(js)?.data;
            let b = match layer.bias() {
                Some(b) => b.download_async(ctx).await.map_err(js)?.data,
                None => Vec::new(),
            };
            Ok((first, losses, w, b, *offset + trainer.steps_done()))
        }
        Session::Cpu(s) => {
            let first = s.steps_done;
            let mut losses = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let fwd = cpu::conv2d_bias_relu_fwd(&s.shape, &s.x, &s.w, &s.b);
                let loss = cpu::loss_mse_relu_bwd(&fwd.y, &s.t);
                let grads = cpu::conv2d_bwd_weight(&s.shape, &s.x, &loss.dz);
                cpu::sgd_update(&mut s.w, &grads.dw, &mut s.w_buf, &s.sgd);
                cpu::sgd_update(&mut s.b, &grads.db, &mut s.b_buf, &s.sgd);
                losses.push(loss.loss);
                s.steps_done += 1;
            }
            let narrow = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
            Ok((first, losses, narrow(&s.w), narrow(&s.b), s.steps_done))
        }
    }
}

/// New learning rate and momentum from the student's current weights (the momentum buffers
/// start again from zero, as a new `torch.optim.SGD` would).
#[wasm_bindgen]
pub async fn train_set_sgd(lr: f32, momentum: f32) -> Result<(), JsError> {
    let sgd = sgd(lr, momentum)?;
    let session = take_session()?;
    let rebuilt = match session {
        Session::Cpu(mut s) => {
            s.sgd = sgd;
            s.w_buf.iter_mut().for_each(|v| *v = 0.0);
            s.b_buf.iter_mut().for_each(|v| *v = 0.0);
            Ok(Session::Cpu(s))
        }
        Session::Gpu(trainer, offset) => rebuild(trainer, offset, sgd).await,
    };
    match rebuilt {
        Ok(s) => {
            put_session(s);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

async fn rebuild(trainer: Box<Trainer>, offset: u64, sgd: Sgd) -> Result<Session, JsError> {
    let ctx = gpu()?;
    let steps = trainer.steps_done();
    let layer = trainer.into_layer();
    let w = layer.weight().download_async(ctx).await.map_err(js)?;
    let b = match layer.bias() {
        Some(b) => b.download_async(ctx).await.map_err(js)?.data,
        None => return Err(JsError::new("the student has no bias")),
    };
    let task = TASK.with(|t| t.borrow_mut().take());
    let Some(task) = task else {
        return Err(JsError::new("no training task"));
    };
    let trainer = gpu_trainer(&task.x, &task.t, &w, &b, sgd).await;
    TASK.with(|t| *t.borrow_mut() = Some(task));
    Ok(Session::Gpu(Box::new(trainer?), offset + steps))
}
