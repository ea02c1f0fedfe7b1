//! The live forward pass: the current input, filters and biases through wgconv's `Conv2d` on
//! the GPU and through the f64 reference `cpu::conv2d_bias_relu_fwd`, compared element by
//! element with `compare::forward_bound`; and one output element explained.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wgconv::compare::{compare, forward_bound, Comparison};
use wgconv::cpu::{self, ForwardRef};
use wgconv::{Conv2d, Conv2dConfig, ConvShape, DeviceTensor, ForwardOptions, Tensor4};

use crate::{download_together, gpu, js, now_ms};

/// What the page sends: one image (1, 1, h, w), two filters (2, 1, r, r), their biases.
#[derive(Deserialize)]
struct Request {
    x: Vec<f32>,
    h: usize,
    w: usize,
    weights: Vec<f32>,
    kernel: u32,
    stride: u32,
    padding: u32,
    bias: Vec<f32>,
    /// false: the CPU reference alone (no WebGPU).
    use_gpu: bool,
}

/// The last forward pass, kept for [`explain`].
struct Last {
    shape: ConvShape,
    stride: u32,
    padding: u32,
    x: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
    /// The GPU's (z, y), when it ran.
    gpu: Option<(Vec<f32>, Vec<f32>)>,
    reference: ForwardRef,
}

thread_local! {
    static LAST: RefCell<Option<Last>> = const { RefCell::new(None) };
}

#[derive(Serialize)]
pub(crate) struct WorstJson {
    /// (n, k, p, q), 0-based.
    pub index: [usize; 4],
    pub gpu: f32,
    pub cpu: f64,
    pub bound: f64,
    pub ratio: f64,
}

#[derive(Serialize)]
pub(crate) struct CheckJson {
    pub checked: usize,
    pub over: usize,
    pub worst: Option<WorstJson>,
}

impl CheckJson {
    /// y's and z's comparisons as one: elements and failures added, the worser worst.
    pub(crate) fn of(y: Comparison, z: Comparison) -> Self {
        let both = y.merge(z);
        CheckJson {
            checked: both.checked,
            over: both.over,
            worst: both.worst.map(|w| WorstJson {
                index: w.index,
                gpu: w.gpu,
                cpu: w.reference,
                bound: w.bound,
                ratio: w.ratio(),
            }),
        }
    }
}

#[derive(Serialize)]
struct Response {
    p: u32,
    q: u32,
    /// The maps the page draws: the GPU's, or the reference's (rounded to f32) without one.
    z: Vec<f32>,
    y: Vec<f32>,
    source: &'static str,
    /// GPU against the f64 reference (None without a GPU).
    check: Option<CheckJson>,
    gpu_ms: Option<f64>,
    cpu_ms: f64,
}

fn shape_of(r: &Request) -> Result<(Conv2dConfig, ConvShape), JsError> {
    let config = Conv2dConfig::new(1, 2, (r.kernel, r.kernel))
        .with_stride((r.stride, r.stride))
        .with_padding((r.padding, r.padding));
    let shape = config.shape_for([1, 1, r.h, r.w]).map_err(js)?;
    Ok((config, shape))
}

/// The layer of the last GPU forward pass, kept on the device between calls (each pointer move
/// while drawing is one call): its input tensor is overwritten with the new image, its filters
/// and biases only when they changed; a change of kernel size, stride, padding or image size
/// builds a new one.
struct Live {
    key: (u32, u32, u32, usize, usize),
    layer: Conv2d,
    x: DeviceTensor,
    w: Vec<f32>,
    b: Vec<f32>,
}

thread_local! {
    /// None before the first GPU pass, and while a call holds it (across its await).
    static LIVE: RefCell<Option<Live>> = const { RefCell::new(None) };
}

/// The live layer for `r`, with `x`, `w` and `b` on the device.
fn live_layer(
    r: &Request,
    config: Conv2dConfig,
    x: &Tensor4,
    w: &Tensor4,
) -> Result<Live, JsError> {
    let ctx = gpu()?;
    let key = (r.kernel, r.stride, r.padding, r.h, r.w);
    let kept = LIVE.with(|l| l.borrow_mut().take());
    match kept {
        Some(live) if live.key == key => {
            live.x.write(ctx, x).map_err(js)?;
            if live.w != r.weights {
                live.layer.weight().write(ctx, w).map_err(js)?;
            }
            if live.b != r.bias {
                let b = Tensor4::new("b", [r.bias.len(), 1, 1, 1], r.bias.clone()).map_err(js)?;
                match live.layer.bias() {
                    Some(d) => d.write(ctx, &b).map_err(js)?,
                    None => return Err(JsError::new("the live layer has no bias")),
                }
            }
            Ok(Live {
                w: r.weights.clone(),
                b: r.bias.clone(),
                ..live
            })
        }
        _ => Ok(Live {
            key,
            layer: Conv2d::from_weights(ctx, config, w, Some(&r.bias)).map_err(js)?,
            x: DeviceTensor::upload(ctx, "x", x).map_err(js)?,
            w: r.weights.clone(),
            b: r.bias.clone(),
        }),
    }
}

/// The GPU's (z, y) for `r`, on the live layer; both read back together (both are drawn).
async fn gpu_forward(
    r: &Request,
    config: Conv2dConfig,
    x: &Tensor4,
    w: &Tensor4,
) -> Result<(Vec<f32>, Vec<f32>), JsError> {
    let live = live_layer(r, config, x, w)?;
    let out = live
        .layer
        .forward_with(
            &live.x,
            ForwardOptions {
                want_z: true,
                kernel: None,
            },
        )
        .map_err(js)?;
    let Some(z) = &out.z else {
        return Err(JsError::new("the forward pass kept no z"));
    };
    let got = download_together(&[z, &out.y]).await;
    LIVE.with(|l| *l.borrow_mut() = Some(live));
    let [z, y]: [Vec<f32>; 2] = got?
        .try_into()
        .map_err(|_| JsError::new("a download did not finish"))?;
    Ok((z, y))
}

/// Runs the layer the page describes (JSON [`Request`]) and returns the maps and the
/// GPU-vs-CPU check as JSON.
#[wasm_bindgen]
pub async fn forward(request: String) -> Result<String, JsError> {
    let r: Request = serde_json::from_str(&request).map_err(js)?;
    let (config, shape) = shape_of(&r)?;
    let x = Tensor4::new("x", [1, 1, r.h, r.w], r.x.clone()).map_err(js)?;
    let k = r.kernel as usize;
    let w = Tensor4::new("w", [2, 1, k, k], r.weights.clone()).map_err(js)?;
    wgconv::gpu::check_forward_inputs(&shape, &x, &w, &r.bias).map_err(js)?;

    let gpu_out = if r.use_gpu {
        let started = now_ms();
        let (z, y) = gpu_forward(&r, config, &x, &w).await?;
        Some((z, y, now_ms() - started))
    } else {
        None
    };

    let started = now_ms();
    let reference = cpu::conv2d_bias_relu_fwd(&shape, &r.x, &r.weights, &r.bias);
    let cpu_ms = now_ms() - started;
    let dims = [1, 2, shape.p() as usize, shape.q() as usize];
    let bound = |i: usize| forward_bound(&shape, reference.abs_sum[i]);
    let (z, y, source, check, gpu_ms) = match gpu_out {
        Some((z, y, ms)) => {
            let check = CheckJson::of(
                compare(&y, &reference.y, bound, dims),
                compare(&z, &reference.z, bound, dims),
            );
            (z, y, "gpu", Some(check), Some(ms))
        }
        None => {
            let narrow = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
            (
                narrow(&reference.z),
                narrow(&reference.y),
                "cpu",
                None,
                None,
            )
        }
    };
    let response = Response {
        p: shape.p(),
        q: shape.q(),
        z: z.clone(),
        y: y.clone(),
        source,
        check,
        gpu_ms,
        cpu_ms,
    };
    let gpu_maps = (source == "gpu").then_some((z, y));
    LAST.with(|l| {
        *l.borrow_mut() = Some(Last {
            shape,
            stride: r.stride,
            padding: r.padding,
            x: r.x,
            w: r.weights,
            b: r.bias,
            gpu: gpu_maps,
            reference,
        })
    });
    serde_json::to_string(&response).map_err(js)
}

#[derive(Serialize)]
struct Term {
    /// Input row and column, 1-based as the notebook counts (outside 1..=H: padding).
    row: i64,
    col: i64,
    x: f32,
    w: f32,
    /// w·x in f64 (exact: a product of two f32).
    product: f64,
    padding: bool,
}

#[derive(Serialize)]
struct Explanation {
    k: usize,
    p: usize,
    q: usize,
    terms: Vec<Term>,
    /// Σ w·x over the window, in f64.
    sum: f64,
    bias: f32,
    /// The reference's z and y = max(0, z).
    cpu_z: f64,
    cpu_y: f64,
    /// The GPU's z and y (None when the page runs on the CPU).
    gpu_z: Option<f32>,
    gpu_y: Option<f32>,
    /// The element's bound (`compare::forward_bound`) and |gpu − cpu| / bound for z and y.
    bound: f64,
    ratio_z: Option<f64>,
    ratio_y: Option<f64>,
}

/// Output element (k, p, q) (0-based) of the last forward pass, step by step: its window's
/// terms, their sum, + b, the ReLU; the GPU's value beside the reference's and the error as a
/// fraction of its bound. JSON.
#[wasm_bindgen]
pub fn explain(k: usize, p: usize, q: usize) -> Result<String, JsError> {
    LAST.with(|l| {
        let l = l.borrow();
        let last = l
            .as_ref()
            .ok_or_else(|| JsError::new("no forward pass has run yet"))?;
        let s = &last.shape;
        let (pp, qq) = (s.p() as usize, s.q() as usize);
        if k >= s.k as usize || p >= pp || q >= qq {
            return Err(JsError::new(&format!(
                "no output element ({k}, {p}, {q}) in maps of 2 × {pp} × {qq}"
            )));
        }
        let (h, w) = (i64::from(s.h), i64::from(s.w));
        let (r_, s_) = (s.r as usize, s.s as usize);
        let mut terms = Vec::with_capacity(r_ * s_);
        let mut sum = 0.0;
        for r in 0..r_ {
            for c in 0..s_ {
                let (st, pad) = (i64::from(last.stride), i64::from(last.padding));
                let hi = p as i64 * st + r as i64 - pad;
                let wi = q as i64 * st + c as i64 - pad;
                let padding = hi < 0 || hi >= h || wi < 0 || wi >= w;
                let x = match padding {
                    true => 0.0,
                    false => last.x[(hi * w + wi) as usize],
                };
                let wv = last.w[(k * r_ + r) * s_ + c];
                let product = f64::from(wv) * f64::from(x);
                sum += product;
                terms.push(Term {
                    row: hi + 1,
                    col: wi + 1,
                    x,
                    w: wv,
                    product,
                    padding,
                });
            }
        }
        let i = (k * pp + p) * qq + q;
        let bound = forward_bound(s, last.reference.abs_sum[i]);
        let (cpu_z, cpu_y) = (last.reference.z[i], last.reference.y[i]);
        let gpu = last.gpu.as_ref().map(|(z, y)| (z[i], y[i]));
        let ratio = |g: f32, c: f64| (f64::from(g) - c).abs() / bound;
        serde_json::to_string(&Explanation {
            k,
            p,
            q,
            terms,
            sum,
            bias: last.b[k],
            cpu_z,
            cpu_y,
            gpu_z: gpu.map(|g| g.0),
            gpu_y: gpu.map(|g| g.1),
            bound,
            ratio_z: gpu.map(|g| ratio(g.0, cpu_z)),
            ratio_y: gpu.map(|g| ratio(g.1, cpu_y)),
        })
        .map_err(js)
    })
}
