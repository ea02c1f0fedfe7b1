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

// A term's (n, p, q), j = (n·P + p)·Q + q.
struct Term {
    n: u32,
    p: u32,
    q: u32,
}

fn term_of(j: u32) -> Term {
    return Term(j / (params.p * params.q), (j / params.q) % params.p, j % params.q);
}

// The term `step` after t, where d = term_of(step): adds with carries in place of term_of's
// divisions (on a CPU adapter those cost more than the product itself). d.q < Q and d.p < P,
// so one carry per place is enough.
fn term_after(t: Term, d: Term) -> Term {
    var q = t.q + d.q;
    var p = t.p + d.p;
    var n = t.n + d.n;
    if (q >= params.q) {
        q -= params.q;
        p += 1u;
    }
    if (p >= params.p) {
        p -= params.p;
        n += 1u;
    }
    return Term(n, p, q);
}

fn weight_tap_at(t: Term, k: u32, c: u32, r: u32, s: u32) -> Tap {
    let hp = i32(t.p * params.stride_h + r * params.dilation_h) - i32(params.pad_top);
    let wp = i32(t.q * params.stride_w + s * params.dilation_w) - i32(params.pad_left);
    let hi = padded_source(hp, i32(params.h), params.pad_mode);
    let wi = padded_source(wp, i32(params.w), params.pad_mode);
    return Tap(
        ((t.n * params.c + c) * params.h + u32(hi)) * params.w + u32(wi),
        ((t.n * params.k + k) * params.p + t.p) * params.q + t.q,
        hi >= 0 && wi >= 0,
    );
}

fn weight_tap(j: u32, k: u32, c: u32, r: u32, s: u32) -> Tap {
    return weight_tap_at(term_of(j), k, c, r, s);
}
