//! The f64 CPU reference: one plain-loop function per GPU kernel, named after it.
//!
//! Inputs are the same f32 tensors the GPU reads, widened to f64 (exactly), so any difference
//! from the GPU is the GPU's f32 rounding.

use crate::shape::ConvShape;

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

/// Twin of `shaders/conv2d_bias_relu_fwd.wgsl`:
/// c[n,k,p,q] = f(Σ_c Σ_r Σ_s w[k,c,r,s] · x[n,c,p·sh+r−ph, q·sw+s−pw] + b[k]), f = ReLU,
/// where x reads 0 outside the image (zero padding).
///
/// x is (N,C,H,W), w is (K,C,R,S), b is (K); the result is (N,K,P,Q).
pub fn conv2d_bias_relu_fwd<T: Copy + Into<f64>>(
    shape: &ConvShape,
    x: &[T],
    w: &[T],
    b: &[T],
) -> ForwardRef {
    let (n_, c_, h_, w_) = (
        shape.n as usize,
        shape.c as usize,
        shape.h as i64,
        shape.w as i64,
    );
    let (k_, r_, s_) = (shape.k as usize, shape.r as usize, shape.s as usize);
    let (p_, q_) = (shape.p() as usize, shape.q() as usize);
    let (sh, sw) = (shape.stride.0 as i64, shape.stride.1 as i64);
    let (ph, pw) = (shape.padding.0 as i64, shape.padding.1 as i64);
    let len = shape.output_len() as usize;
    let mut out = ForwardRef {
        z: Vec::with_capacity(len),
        y: Vec::with_capacity(len),
        abs_sum: Vec::with_capacity(len),
    };
    for n in 0..n_ {
        for k in 0..k_ {
            for p in 0..p_ {
                for q in 0..q_ {
                    let mut sum: f64 = b[k].into();
                    let mut abs = sum.abs();
                    for c in 0..c_ {
                        for r in 0..r_ {
                            let hi = p as i64 * sh + r as i64 - ph;
                            if hi < 0 || hi >= h_ {
                                continue; // padding row: x reads 0
                            }
                            for s in 0..s_ {
                                let wi = q as i64 * sw + s as i64 - pw;
                                if wi < 0 || wi >= w_ {
                                    continue; // padding column
                                }
                                let xv = x[((n * c_ + c) * h_ as usize + hi as usize)
                                    * w_ as usize
                                    + wi as usize];
                                let wv = w[((k * c_ + c) * r_ + r) * s_ + s];
                                let term = wv.into() * xv.into();
                                sum += term;
                                abs += term.abs();
                            }
                        }
                    }
                    out.z.push(sum);
                    out.y.push(sum.max(0.0));
                    out.abs_sum.push(abs);
                }
            }
        }
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
/// dw[k,c,r,s] = Σ_{n,p,q} dz[n,k,p,q] · x[n, c, p·sh + r − ph, q·sw + s − pw] (padding reads 0),
/// db[k] = Σ_{n,p,q} dz[n,k,p,q]. x is (N,C,H,W), dz is (N,K,P,Q).
pub fn conv2d_bwd_weight<T: Copy + Into<f64>>(
    shape: &ConvShape,
    x: &[T],
    dz: &[T],
) -> BwdWeightRef {
    let (n_, c_, h_, w_) = (
        shape.n as usize,
        shape.c as usize,
        shape.h as i64,
        shape.w as i64,
    );
    let (k_, r_, s_) = (shape.k as usize, shape.r as usize, shape.s as usize);
    let (p_, q_) = (shape.p() as usize, shape.q() as usize);
    let (sh, sw) = (shape.stride.0 as i64, shape.stride.1 as i64);
    let (ph, pw) = (shape.padding.0 as i64, shape.padding.1 as i64);
    let mut out = BwdWeightRef {
        dw: vec![0.0; k_ * c_ * r_ * s_],
        db: vec![0.0; k_],
        dw_abs: vec![0.0; k_ * c_ * r_ * s_],
        db_abs: vec![0.0; k_],
    };
    for n in 0..n_ {
        for k in 0..k_ {
            for p in 0..p_ {
                for q in 0..q_ {
                    let g: f64 = dz[((n * k_ + k) * p_ + p) * q_ + q].into();
                    out.db[k] += g;
                    out.db_abs[k] += g.abs();
                    for c in 0..c_ {
                        for r in 0..r_ {
                            let hi = p as i64 * sh + r as i64 - ph;
                            if hi < 0 || hi >= h_ {
                                continue;
                            }
                            for s in 0..s_ {
                                let wi = q as i64 * sw + s as i64 - pw;
                                if wi < 0 || wi >= w_ {
                                    continue;
                                }
                                let xv: f64 = x[((n * c_ + c) * h_ as usize + hi as usize)
                                    * w_ as usize
                                    + wi as usize]
                                    .into();
                                let i = ((k * c_ + c) * r_ + r) * s_ + s;
                                out.dw[i] += g * xv;
                                out.dw_abs[i] += (g * xv).abs();
                            }
                        }
                    }
                }
            }
        }
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
}

/// Twin of `shaders/conv2d_bwd_input.wgsl`: dx[n,c,h,w] = Σ dz[n,k,p,q] · w[k,c,r,s] over every
/// (k, r, s, p, q) with h = p·sh + r − ph and w = q·sw + s − pw. w is (K,C,R,S), dz (N,K,P,Q).
pub fn conv2d_bwd_input<T: Copy + Into<f64>>(shape: &ConvShape, w: &[T], dz: &[T]) -> BwdInputRef {
    let (n_, c_, h_, w_) = (
        shape.n as usize,
        shape.c as usize,
        shape.h as i64,
        shape.w as i64,
    );
    let (k_, r_, s_) = (shape.k as usize, shape.r as usize, shape.s as usize);
    let (p_, q_) = (shape.p() as usize, shape.q() as usize);
    let (sh, sw) = (shape.stride.0 as i64, shape.stride.1 as i64);
    let (ph, pw) = (shape.padding.0 as i64, shape.padding.1 as i64);
    let len = n_ * c_ * h_ as usize * w_ as usize;
    let mut out = BwdInputRef {
        dx: vec![0.0; len],
        dx_abs: vec![0.0; len],
    };
    // Scatter form of the same sum: every (n,k,p,q,c,r,s) adds to the input it read.
    for n in 0..n_ {
        for k in 0..k_ {
            for p in 0..p_ {
                for q in 0..q_ {
                    let g: f64 = dz[((n * k_ + k) * p_ + p) * q_ + q].into();
                    for c in 0..c_ {
                        for r in 0..r_ {
                            let hi = p as i64 * sh + r as i64 - ph;
                            if hi < 0 || hi >= h_ {
                                continue;
                            }
                            for s in 0..s_ {
                                let wi = q as i64 * sw + s as i64 - pw;
                                if wi < 0 || wi >= w_ {
                                    continue;
                                }
                                let wv: f64 = w[((k * c_ + c) * r_ + r) * s_ + s].into();
                                let i = ((n * c_ + c) * h_ as usize + hi as usize) * w_ as usize
                                    + wi as usize;
                                out.dx[i] += g * wv;
                                out.dx_abs[i] += (g * wv).abs();
                            }
                        }
                    }
                }
            }
        }
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
