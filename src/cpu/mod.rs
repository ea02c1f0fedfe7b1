//! The f64 CPU reference: one plain-loop function per GPU kernel, named after it.
//!
//! Inputs are the same f32 tensors the GPU reads, widened to f64 (exactly), so any difference
//! from the GPU is the GPU's f32 rounding.

use crate::shape::ConvShape;
use crate::tensor::Tensor4;

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
pub fn conv2d_bias_relu_fwd(shape: &ConvShape, x: &[f32], w: &[f32], b: &[f32]) -> ForwardRef {
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
                    let mut sum = f64::from(b[k]);
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
                                let term = f64::from(wv) * f64::from(xv);
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

/// [`conv2d_bias_relu_fwd`] on tensors.
pub fn conv2d_bias_relu_fwd_tensors(
    shape: &ConvShape,
    x: &Tensor4,
    w: &Tensor4,
    b: &[f32],
) -> ForwardRef {
    conv2d_bias_relu_fwd(shape, &x.data, &w.data, b)
}
