// train_tiny.wgsl — a whole training loop for a tiny layer (like the notebook's) in one dispatch
// of one workgroup: `steps` full-batch steps of forward, MSE loss through the ReLU, dW and db, and
// torch.optim.SGD, with the weights, their gradients, momentum, x and dz in workgroup memory.
// One launch replaces five per step; barriers separate the phases.
//
// Bindings (group 0):
//   0  params      uniform             TinyParams (mirrors `gpu::params::TinyParams`)
//   1  x           storage, read       input (N, C, H, W)
//   2  t           storage, read       target (N, K, P, Q)
//   3  w           storage, read_write weights (K, C, R, S), updated
//   4  b           storage, read_write bias (K), updated
//   5  w_momentum  storage, read_write momentum buffer of w
//   6  b_momentum  storage, read_write momentum buffer of b
//   7  log        storage, read_write LossLog: count, then the loss of each step
//   8  dw          storage, read_write dL/dw of the last step (before its update)
//   9  db          storage, read_write dL/db of the last step
//  10  y           storage, read_write y of the last step (N, K, P, Q)
//  11  dz          storage, read_write dL/dz of the last step
//
// Per step (all invocations, barriers between phases):
//   1. each invocation computes outputs i = lid, lid + 256, ...: z = b + Σ w·x in (c, r, s) order,
//      y = max(0, z), dz = 2(y − t)/M where y > 0 else 0, and sums (y − t)²; a fixed tree adds
//      the 256 partial sums and invocation 0 appends L = sum / M to the log;
//   2. gradient element e (K·C·R·S weights, then K biases) is summed over N·P·Q by `lanes`
//      invocations (terms lane, lane + lanes, ...), combined in a fixed tree;
//   3. the SGD update of every parameter, as sgd_update.wgsl.
// Deterministic: fixed orders everywhere, no atomics. Limits (checked by the host): K·C·R·S ≤
// 512, K ≤ 32, N·K·P·Q ≤ 2048, N·C·H·W ≤ 2048.
//
// CPU twins: `cpu::conv2d_bias_relu_fwd`, `cpu::loss_mse_relu_bwd`, `cpu::conv2d_bwd_weight`,
// `cpu::sgd_update` (one step of the loop is their composition).

struct TinyParams {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    k: u32,
    r: u32,
    s: u32,
    p: u32,
    q: u32,
    stride_h: u32,
    stride_w: u32,
    pad_h: u32,
    pad_w: u32,
    steps: u32,
    lanes: u32,
    nesterov: u32,
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    scale: f32,
}

struct LossLog {
    count: u32,
    values: array<f32>,
}

const WG: u32 = 256u;
const MAX_W: u32 = 512u;
const MAX_K: u32 = 32u;
const MAX_OUT: u32 = 2048u;
const MAX_IN: u32 = 2048u;

@group(0) @binding(0) var<uniform> params: TinyParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> w_momentum: array<f32>;
@group(0) @binding(6) var<storage, read_write> b_momentum: array<f32>;
@group(0) @binding(7) var<storage, read_write> log: LossLog;
@group(0) @binding(8) var<storage, read_write> dw: array<f32>;
@group(0) @binding(9) var<storage, read_write> db: array<f32>;
@group(0) @binding(10) var<storage, read_write> y: array<f32>;
@group(0) @binding(11) var<storage, read_write> dz: array<f32>;

var<workgroup> ws: array<f32, MAX_W>;
var<workgroup> wm: array<f32, MAX_W>;
var<workgroup> wg: array<f32, MAX_W>;
var<workgroup> bs: array<f32, MAX_K>;
var<workgroup> bm: array<f32, MAX_K>;
var<workgroup> bg: array<f32, MAX_K>;
var<workgroup> xs: array<f32, MAX_IN>;
var<workgroup> dzs: array<f32, MAX_OUT>;
var<workgroup> red: array<f32, WG>;
var<workgroup> log_slot: u32;

// One SGD update of parameter p with gradient g and momentum buffer m; returns (p', m').
fn sgd(p: f32, g0: f32, m: f32) -> vec2<f32> {
    var g = g0 + params.weight_decay * p;
    var buf = m;
    if (params.momentum != 0.0) {
        buf = params.momentum * m + g;
        if (params.nesterov == 1u) {
            g = g + params.momentum * buf;
        } else {
            g = buf;
        }
    }
    return vec2<f32>(p - params.lr * g, buf);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
    let pq = params.p * params.q;
    let outputs = params.n * params.k * pq;
    let inputs = params.n * params.c * params.h * params.w;
    let rs = params.r * params.s;
    let crs = params.c * rs;
    let weights = params.k * crs;
    let grads = weights + params.k;
    let terms = params.n * pq;
    let lanes = params.lanes;

    for (var i = lid; i < weights; i += WG) {
        ws[i] = w[i];
        wm[i] = w_momentum[i];
    }
    for (var i = lid; i < params.k; i += WG) {
        bs[i] = b[i];
        bm[i] = b_momentum[i];
    }
    for (var i = lid; i < inputs; i += WG) {
        xs[i] = x[i];
    }
    if (lid == 0u) {
        log_slot = log.count;
    }
    workgroupBarrier();

    for (var step = 0u; step < params.steps; step++) {
        let last = step + 1u == params.steps;
        // 1. Forward, dz and the loss.
        var sq = 0.0;
        for (var i = lid; i < outputs; i += WG) {
            let q = i % params.q;
            let p = (i / params.q) % params.p;
            let k = (i / pq) % params.k;
            let n = i / (pq * params.k);
            let h0 = i32(p * params.stride_h) - i32(params.pad_h);
            let w0 = i32(q * params.stride_w) - i32(params.pad_w);
            var acc = bs[k];
            for (var c = 0u; c < params.c; c++) {
                for (var r = 0u; r < params.r; r++) {
                    let hi = h0 + i32(r);
                    if (hi < 0 || hi >= i32(params.h)) {
                        continue;
                    }
                    let x_row = ((n * params.c + c) * params.h + u32(hi)) * params.w;
                    let w_row = (k * params.c + c) * rs + r * params.s;
                    for (var s = 0u; s < params.s; s++) {
                        let wi = w0 + i32(s);
                        if (wi < 0 || wi >= i32(params.w)) {
                            continue;
                        }
                        acc += ws[w_row + s] * xs[x_row + u32(wi)];
                    }
                }
            }
            let yv = max(acc, 0.0);
            let d = yv - t[i];
            let g = select(0.0, d * params.scale, yv > 0.0);
            dzs[i] = g;
            sq += d * d;
            if (last) {
                y[i] = yv;
                dz[i] = g;
            }
        }
        red[lid] = sq;
        workgroupBarrier();
        for (var half = WG / 2u; half > 0u; half = half / 2u) {
            if (lid < half) {
                red[lid] = red[lid] + red[lid + half];
            }
            workgroupBarrier();
        }
        if (lid == 0u) {
            if (log_slot < arrayLength(&log.values)) {
                log.values[log_slot] = red[0] / f32(outputs);
            }
            log_slot = log_slot + 1u;
        }
        workgroupBarrier();

        // 2. dW and db: `lanes` invocations per gradient element.
        for (var e0 = 0u; e0 < grads; e0 += WG / lanes) {
            let e = e0 + lid / lanes;
            let lane = lid % lanes;
            var acc = 0.0;
            if (e < weights) {
                let k = e / crs;
                let c = (e / rs) % params.c;
                let r = (e / params.s) % params.r;
                let s = e % params.s;
                for (var j = lane; j < terms; j += lanes) {
                    let n = j / pq;
                    let p = (j / params.q) % params.p;
                    let q = j % params.q;
                    let hi = i32(p * params.stride_h + r) - i32(params.pad_h);
                    let wi = i32(q * params.stride_w + s) - i32(params.pad_w);
                    if (hi >= 0 && hi < i32(params.h) && wi >= 0 && wi < i32(params.w)) {
                        let xv = xs[((n * params.c + c) * params.h + u32(hi)) * params.w + u32(wi)];
                        acc += dzs[(n * params.k + k) * pq + p * params.q + q] * xv;
                    }
                }
            } else if (e < grads) {
                let k = e - weights;
                for (var j = lane; j < terms; j += lanes) {
                    acc += dzs[((j / pq) * params.k + k) * pq + j % pq];
                }
            }
            red[lid] = acc;
            workgroupBarrier();
            for (var half = lanes / 2u; half > 0u; half = half / 2u) {
                if (lane < half) {
                    red[lid] = red[lid] + red[lid + half];
                }
                workgroupBarrier();
            }
            if (lane == 0u) {
                if (e < weights) {
                    wg[e] = red[lid];
                } else if (e < grads) {
                    bg[e - weights] = red[lid];
                }
            }
            workgroupBarrier();
        }

        // 3. SGD.
        for (var i = lid; i < weights; i += WG) {
            let u = sgd(ws[i], wg[i], wm[i]);
            ws[i] = u.x;
            wm[i] = u.y;
        }
        for (var i = lid; i < params.k; i += WG) {
            let u = sgd(bs[i], bg[i], bm[i]);
            bs[i] = u.x;
            bm[i] = u.y;
        }
        workgroupBarrier();
    }

    for (var i = lid; i < weights; i += WG) {
        w[i] = ws[i];
        w_momentum[i] = wm[i];
        dw[i] = wg[i];
    }
    for (var i = lid; i < params.k; i += WG) {
        b[i] = bs[i];
        b_momentum[i] = bm[i];
        db[i] = bg[i];
    }
    if (lid == 0u) {
        log.count = log_slot;
    }
}
