//! Twins of `shaders/max_pool2d_fwd.wgsl` and `shaders/max_pool2d_bwd.wgsl`.

/// A max pooling problem: x (N, C, H, W), a kh × kw window moved by (sh, sw), −∞ padding
/// (ph, pw) on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShape {
    pub x_dims: [usize; 4],
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
}

impl PoolShape {
    /// (P, Q) = (⌊(H + 2·ph − kh)/sh⌋ + 1, …).
    pub fn out_hw(&self) -> (usize, usize) {
        let [_, _, h, w] = self.x_dims;
        let axis = |len: usize, k: usize, s: usize, p: usize| (len + 2 * p - k) / s + 1;
        (
            axis(h, self.kernel.0, self.stride.0, self.padding.0),
            axis(w, self.kernel.1, self.stride.1, self.padding.1),
        )
    }
}

/// y (N, C, P, Q) and each output's winner h·W + w in its plane: rows then columns of the
/// window clipped to the image, the first maximum kept, a NaN taken wherever it appears.
pub fn max_pool2d_fwd(shape: &PoolShape, x: &[f64]) -> (Vec<f64>, Vec<u32>) {
    let [n_, c_, h_, w_] = shape.x_dims;
    let (p_, q_) = shape.out_hw();
    let (mut y, mut at) = (Vec::new(), Vec::new());
    for plane in 0..n_ * c_ {
        for p in 0..p_ {
            for q in 0..q_ {
                let h0 = (p * shape.stride.0) as i64 - shape.padding.0 as i64;
                let w0 = (q * shape.stride.1) as i64 - shape.padding.1 as i64;
                let (hl, wl) = (h0.max(0) as usize, w0.max(0) as usize);
                let hh = ((h0 + shape.kernel.0 as i64) as usize).min(h_);
                let wh = ((w0 + shape.kernel.1 as i64) as usize).min(w_);
                let (mut best, mut best_at) = (f64::NEG_INFINITY, hl * w_ + wl);
                for h in hl..hh {
                    for w in wl..wh {
                        let v = x[plane * h_ * w_ + h * w_ + w];
                        if v > best || v.is_nan() {
                            (best, best_at) = (v, h * w_ + w);
                        }
                    }
                }
                y.push(best);
                at.push(best_at as u32);
            }
        }
    }
    (y, at)
}

/// dx (N, C, H, W): each output's dy added to its winner, in output order. Exact in f64 for the
/// values tested (at most ⌈kh/sh⌉·⌈kw/sw⌉ terms reach one pixel).
pub fn max_pool2d_bwd(shape: &PoolShape, argmax: &[u32], dy: &[f64]) -> Vec<f64> {
    let [n_, c_, h_, w_] = shape.x_dims;
    let (p_, q_) = shape.out_hw();
    let mut dx = vec![0.0; n_ * c_ * h_ * w_];
    for plane in 0..n_ * c_ {
        for o in 0..p_ * q_ {
            let i = plane * p_ * q_ + o;
            dx[plane * h_ * w_ + argmax[i] as usize] += dy[i];
        }
    }
    dx
}
