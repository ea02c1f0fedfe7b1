// common/weight_tap.wgsl — one term of a weight-gradient sum (conv2d_bwd_weight*.wgsl,
// fused_loop.wgsl). Needs `params` with the layer's shape fields, and common/padding.wgsl.

// Term j = (n, p, q) of the N·P·Q sum of weight (k, ·, r, s) reading input channel c: the
// indices of dz[n, k, p, q] and of the x[n, c, src(p·sh + r·dh − top), src(q·sw + s·dw − left)]
// it multiplies; `inside` false (and `x` meaningless) where x is zero padding.
struct Tap {
    x: u32,
    dz: u32,
    inside: bool,
}

fn weight_tap(j: u32, k: u32, c: u32, r: u32, s: u32) -> Tap {
    let pq = params.p * params.q;
    let n = j / pq;
    let p = (j / params.q) % params.p;
    let q = j % params.q;
    let hp = i32(p * params.stride_h + r * params.dilation_h) - i32(params.pad_top);
    let wp = i32(q * params.stride_w + s * params.dilation_w) - i32(params.pad_left);
    let hi = padded_source(hp, i32(params.h), params.pad_mode);
    let wi = padded_source(wp, i32(params.w), params.pad_mode);
    return Tap(
        ((n * params.c + c) * params.h + u32(hi)) * params.w + u32(wi),
        (n * params.k + k) * pq + p * params.q + q,
        hi >= 0 && wi >= 0,
    );
}
