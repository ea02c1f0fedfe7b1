//! The f64 CPU reference: one plain-loop function per GPU kernel, named after it.
//!
//! Inputs are the same f32 tensors the GPU reads, widened to f64 (exactly), so any difference
//! from the GPU is the GPU's f32 rounding.

use crate::shape::ConvShape;

mod gather;
mod loss;
mod pack;
mod pool;
mod relu;

pub use gather::gather_rows;
pub use loss::{cross_entropy, cross_entropy_rows, mse_loss, LossGrad};
pub use pack::{
    pack_input_rows, pack_input_weights, pack_output_grad, pack_output_grad_rows, pack_weights,
};
pub use pool::{max_pool2d_bwd, max_pool2d_fwd, PoolShape};
pub use relu::{relu, relu_bwd};

/// What the forward reference computes for every output element (all (N, K, P, Q), flat).
#[derive(Debug, Clone)]
pub struct ForwardRef {
    /// Pre-activation z = Σ w·x + b.
    pub z: Vec<f64>,
    /// Output y = max(0, z).
    pub y: Vec<f64>,
    /// Σ|w·x| + |b|: the scale of the terms summed, for the error bound.
    pub abs_sum: Vec<f64>,
}

/// Calls `f(w_index, x_index)` for every product of output (n, k, p, q)'s sum, in (c', r, s)
/// order: the weight w[k, c', r, s] (w is (K, C/G, R, S)) and the input pixel
/// x[n, g·C/G + c', src(p·sh + r·dh − top), src(q·sw + s·dw − left)] it multiplies, where g is
/// k's group and src maps a padded coordinate to the pixel it copies (`PaddingMode::source`);
/// taps that read zero padding are skipped.
fn for_each_tap(shape: &ConvShape, [n, k, p, q]: [usize; 4], mut f: impl FnMut(usize, usize)) {
    let (c_, h_, w_) = (shape.c as usize, shape.h as i64, shape.w as i64);
    let (r_, s_) = (shape.r as usize, shape.s as usize);
    let cg = shape.channels_per_group() as usize;
    let g = k / shape.filters_per_group() as usize;
    let (sh, sw) = (shape.stride.0 as i64, shape.stride.1 as i64);
    let (dh, dw) = (shape.dilation.0 as i64, shape.dilation.1 as i64);
    let (top, left) = (shape.padding.top as i64, shape.padding.left as i64);
    let mode = shape.padding_mode;
    for ci in 0..cg {
        let c = g * cg + ci;
        for r in 0..r_ {
            let Some(hi) = mode.source(p as i64 * sh + r as i64 * dh - top, h_) else {
                continue; // a zero-padding row
            };
            for s in 0..s_ {
                let Some(wi) = mode.source(q as i64 * sw + s as i64 * dw - left, w_) else {
                    continue; // a zero-padding column
                };
                let x_index =
                    ((n * c_ + c) * h_ as usize + hi as usize) * w_ as usize + wi as usize;
                f(((k * cg + ci) * r_ + r) * s_ + s, x_index);
            }
        }
    }
}

/// Every output index (n, k, p, q) of `shape`, in flat order.
fn outputs(shape: &ConvShape) -> impl Iterator<Item = [usize; 4]> {
    let [n_, k_, p_, q_] = [shape.n, shape.k, shape.p(), shape.q()].map(|d| d as usize);
    (0..n_ * k_ * p_ * q_).map(move |i| {
        [
            i / (k_ * p_ * q_),
            (i / (p_ * q_)) % k_,
            (i / q_) % p_,
            i % q_,
        ]
    })
}

/// Twin of `shaders/conv2d_bias_relu_fwd.wgsl`:
/// c\[n,k,p,q\] = f(b\[k\] + Σ_c' Σ_r Σ_s w\[k,c',r,s\] · x\[n, g·C/G + c', p·sh + r·dh − top,
/// q·sw + s·dw − left\]), f = ReLU, g = k's group, where a padded coordinate reads what the
/// padding mode says (`for_each_tap`).
///
/// x is (N,C,H,W), w is (K,C/G,R,S), b is (K) (empty without bias); the result is (N,K,P,Q).
pub fn conv2d_bias_relu_fwd<T: Copy + Into<f64>>(
    shape: &ConvShape,
    x: &[T],
    w: &[T],
    b: &[T],
) -> ForwardRef {
    let len = shape.output_len() as usize;
    let mut out = ForwardRef {
        z: Vec::with_capacity(len),
        y: Vec::with_capacity(len),
        abs_sum: Vec::with_capacity(len),
    };
    for index in outputs(shape) {
        let mut sum: f64 = if shape.bias { b[index[1]].into() } else { 0.0 };
        let mut abs = sum.abs();
        for_each_tap(shape, index, |wi, xi| {
            let term = w[wi].into() * x[xi].into();
            sum += term;
            abs += term.abs();
        });
        out.z.push(sum);
        out.y.push(sum.max(0.0));
        out.abs_sum.push(abs);
    }
    out
}

/// f32 values widened to f64 (exactly).
pub fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// What the loss reference computes.
#[derive(Debug, Clone)]
pub struct LossRef {
    /// L = Σ (y − t)² / M.
    pub loss: f64,
    /// dL/dz = 2(y − t)/M where y > 0, else 0.
    pub dz: Vec<f64>,
}

/// Twin of `shaders/loss_mse_relu_bwd.wgsl` and `shaders/loss_reduce.wgsl`: the MSE loss of the
/// forward output y (N, K, P, Q) against the target t, and its gradient through the ReLU.
/// y > 0 exactly where z > 0, so the mask is read off y (0 at z = 0, as PyTorch).
pub fn loss_mse_relu_bwd<T: Copy + Into<f64>>(y: &[T], t: &[T]) -> LossRef {
    let m = y.len() as f64;
    let mut loss = 0.0;
    let mut dz = Vec::with_capacity(y.len());
    for (&yv, &tv) in y.iter().zip(t) {
        let (yv, tv): (f64, f64) = (yv.into(), tv.into());
        let d = yv - tv;
        loss += d * d;
        dz.push(if yv > 0.0 { 2.0 * d / m } else { 0.0 });
    }
    LossRef { loss: loss / m, dz }
}

/// What the weight-gradient reference computes.
#[derive(Debug, Clone)]
pub struct BwdWeightRef {
    /// dL/dw (K, C, R, S).
    pub dw: Vec<f64>,
    /// dL/db (K).
    pub db: Vec<f64>,
    /// Σ|dz·x| per weight and Σ|dz| per bias: the scales for the error bounds.
    pub dw_abs: Vec<f64>,
    pub db_abs: Vec<f64>,
}

/// Twin of `shaders/conv2d_bwd_weight.wgsl`:
/// dw\[k,c',r,s\] = Σ_{n,p,q} dz\[n,k,p,q\] · (the x that w\[k,c',r,s\] multiplied for (n,k,p,q)),
/// db\[k\] = Σ_{n,p,q} dz\[n,k,p,q\] (empty without bias). x is (N,C,H,W), dz is (N,K,P,Q).
pub fn conv2d_bwd_weight<T: Copy + Into<f64>>(
    shape: &ConvShape,
    x: &[T],
    dz: &[T],
) -> BwdWeightRef {
    let weights = shape.weight_len() as usize;
    let biases = shape.bias_len() as usize;
    let mut out = BwdWeightRef {
        dw: vec![0.0; weights],
        db: vec![0.0; biases],
        dw_abs: vec![0.0; weights],
        db_abs: vec![0.0; biases],
    };
    for (o, index) in outputs(shape).enumerate() {
        let g: f64 = dz[o].into();
        if shape.bias {
            out.db[index[1]] += g;
            out.db_abs[index[1]] += g.abs();
        }
        for_each_tap(shape, index, |wi, xi| {
            let term = g * x[xi].into();
            out.dw[wi] += term;
            out.dw_abs[wi] += term.abs();
        });
    }
    out
}

/// What the input-gradient reference computes.
#[derive(Debug, Clone)]
pub struct BwdInputRef {
    /// dL/dx (N, C, H, W).
    pub dx: Vec<f64>,
    /// Σ|dz·w| per element: the scale for the error bound.
    pub dx_abs: Vec<f64>,
    /// Products summed into each element (with reflect, replicate or circular padding a pixel
    /// also receives the products of the border positions that copy it).
    pub dx_terms: Vec<u64>,
}

/// Twin of `shaders/conv2d_bwd_input.wgsl` (and, for padding other than zeros, of
/// `conv2d_bwd_input_fold.wgsl` after it): dx\[n,c,h,w\] = Σ dz\[n,k,p,q\] · w\[k,c',r,s\] over
/// every product of the forward sums that read pixel (n, c, h, w) — directly or through a padded
/// position that copies it. w is (K,C/G,R,S), dz (N,K,P,Q).
pub fn conv2d_bwd_input<T: Copy + Into<f64>>(shape: &ConvShape, w: &[T], dz: &[T]) -> BwdInputRef {
    let len = shape.input_len() as usize;
    let mut out = BwdInputRef {
        dx: vec![0.0; len],
        dx_abs: vec![0.0; len],
        dx_terms: vec![0; len],
    };
    // Scatter form of the same sum: every product adds to the input it read.
    for (o, index) in outputs(shape).enumerate() {
        let g: f64 = dz[o].into();
        for_each_tap(shape, index, |wi, xi| {
            let term = g * w[wi].into();
            out.dx[xi] += term;
            out.dx_abs[xi] += term.abs();
            out.dx_terms[xi] += 1;
        });
    }
    out
}

/// Twin of `shaders/sgd_update.wgsl`, torch.optim.SGD with dampening 0: g = grad + wd·param;
/// with momentum buf = momentum·buf + g (buf starts at 0) and g = buf (or g + momentum·buf,
/// Nesterov); param −= lr·g. Updates `param` and `buf` in place.
pub fn sgd_update(param: &mut [f64], grad: &[f64], buf: &mut [f64], sgd: &crate::sgd::Sgd) {
    let (lr, m, wd) = (
        f64::from(sgd.lr),
        f64::from(sgd.momentum),
        f64::from(sgd.weight_decay),
    );
    for i in 0..param.len() {
        let mut g = grad[i] + wd * param[i];
        if m != 0.0 {
            buf[i] = m * buf[i] + g;
            g = if sgd.nesterov { g + m * buf[i] } else { buf[i] };
        }
        param[i] -= lr * g;
    }
}
