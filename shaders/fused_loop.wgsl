// fused_loop.wgsl — a whole training loop for a tiny layer (like the notebook's) in one dispatch
// of one workgroup: `steps` full-batch steps of forward, MSE loss through the ReLU, dW and db, and
// torch.optim.SGD, with the weights, their gradients, momentum, x and dz in workgroup memory.
// One launch replaces five per step; barriers separate the phases.
//
// Composed with (src/gpu/table.rs): WORKGROUP_SIZE, MAX_WEIGHTS, MAX_FILTERS, MAX_OUTPUTS,
// MAX_INPUTS, the FusedLoopParams struct generated from `gpu::params::FusedLoopParams`,
// common/reduce.wgsl, common/loss_log.wgsl, common/sgd.wgsl, common/padding.wgsl,
// common/weight_tap.wgsl, and common/bias_train.wgsl (or common/no_bias.wgsl for a layer without
// bias).
//
// Bindings (group 0):
//   0  params      uniform             FusedLoopParams
//   1  x           storage, read       input (N, C, H, W)
//   2  t           storage, read       target (N, K, P, Q)
//   3  w           storage, read_write weights (K, C/G, R, S), updated
//   4  w_momentum  storage, read_write momentum buffer of w
//   5  log         storage, read_write LossLog: count, then the loss of each step
//   6  dw          storage, read_write dL/dw of the last step (before its update)
//   7  last_step   storage, read_write y (N, K, P, Q) then dL/dz of the last step, in one
//                                     buffer (the host copies them out), so that the kernel
//                                     binds 10 storage buffers: WebGPU's usual limit
//   8  b           storage, read_write bias (K), updated        } common/bias_train.wgsl;
//   9  b_momentum  storage, read_write momentum buffer of b     } absent without bias
//  10  db          storage, read_write dL/db of the last step   }
//
// Groups, dilation, padding and padding modes as conv2d_bias_relu_fwd.wgsl and
// conv2d_bwd_weight.wgsl.
//
// Per step (all invocations, barriers between phases):
//   1. each invocation computes outputs i = lid, lid + 256, ...: z = b + Σ w·x in (c, r, s) order,
//      y = max(0, z), dz = 2(y − t)/M where y > 0 else 0, and sums (y − t)²; a fixed tree
//      (common/reduce.wgsl) adds the 256 partial sums and invocation 0 appends L = sum / M to
//      the log;
//   2. gradient element e (K·(C/G)·R·S weights, then K biases if any) is summed over N·P·Q by `lanes`
//      invocations (terms lane, lane + lanes, ...), combined in a fixed tree;
//   3. the SGD update of every parameter (common/sgd.wgsl, as sgd_update.wgsl).
// Deterministic: fixed orders everywhere, no atomics. Limits (checked by the host,
// `gpu::versions::fits_fused_loop`): K·(C/G)·R·S ≤ MAX_WEIGHTS, K ≤ MAX_FILTERS, N·K·P·Q ≤ MAX_OUTPUTS,
// N·C·H·W ≤ MAX_INPUTS.
//
// CPU twins: `cpu::conv2d_bias_relu_fwd`, `cpu::loss_mse_relu_bwd`, `cpu::conv2d_bwd_weight`,
// `cpu::sgd_update` (one step of the loop is their composition).

@group(0) @binding(0) var<uniform> params: FusedLoopParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> w_momentum: array<f32>;
@group(0) @binding(5) var<storage, read_write> log: LossLog;
@group(0) @binding(6) var<storage, read_write> dw: array<f32>;
@group(0) @binding(7) var<storage, read_write> last_step: array<f32>;

var<workgroup> ws: array<f32, MAX_WEIGHTS>;
var<workgroup> wm: array<f32, MAX_WEIGHTS>;
var<workgroup> wg: array<f32, MAX_WEIGHTS>;
var<workgroup> bs: array<f32, MAX_FILTERS>;
var<workgroup> bm: array<f32, MAX_FILTERS>;
var<workgroup> bg: array<f32, MAX_FILTERS>;
var<workgroup> xs: array<f32, MAX_INPUTS>;
var<workgroup> dzs: array<f32, MAX_OUTPUTS>;
var<workgroup> log_slot: u32;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
    let pq = params.p * params.q;
    let outputs = params.n * params.k * pq;
    let inputs = params.n * params.c * params.h * params.w;
    let rs = params.r * params.s;
    let cg = params.c / params.conv_groups;
    let kg = params.k / params.conv_groups;
    let crs = cg * rs;
    let weights = params.k * crs;
    let biases = select(0u, params.k, HAS_BIAS);
    let grads = weights + biases;
    let terms = params.n * pq;
    let lanes = params.lanes;

    for (var i = lid; i < weights; i += WORKGROUP_SIZE) {
        ws[i] = w[i];
        wm[i] = w_momentum[i];
    }
    for (var i = lid; i < params.k; i += WORKGROUP_SIZE) {
        let bias = load_bias(i);
        bs[i] = bias.x;
        bm[i] = bias.y;
    }
    for (var i = lid; i < inputs; i += WORKGROUP_SIZE) {
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
        for (var i = lid; i < outputs; i += WORKGROUP_SIZE) {
            let q = i % params.q;
            let p = (i / params.q) % params.p;
            let k = (i / pq) % params.k;
            let n = i / (pq * params.k);
            let h0 = i32(p * params.stride_h) - i32(params.pad_top);
            let w0 = i32(q * params.stride_w) - i32(params.pad_left);
            let c0 = (k / kg) * cg;
            var acc = bs[k];
            for (var ci = 0u; ci < cg; ci++) {
                for (var r = 0u; r < params.r; r++) {
                    let hi = padded_source(h0 + i32(r * params.dilation_h), i32(params.h), params.pad_mode);
                    if (hi < 0) {
                        continue;
                    }
                    let x_row = ((n * params.c + c0 + ci) * params.h + u32(hi)) * params.w;
                    let w_row = (k * cg + ci) * rs + r * params.s;
                    for (var s = 0u; s < params.s; s++) {
                        let wi = padded_source(w0 + i32(s * params.dilation_w), i32(params.w), params.pad_mode);
                        if (wi < 0) {
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
                last_step[i] = yv;
                last_step[outputs + i] = g;
            }
        }
        let loss_sum = tree_sum(sq, lid, lid, WORKGROUP_SIZE);
        if (lid == 0u) {
            if (log_slot < arrayLength(&log.values)) {
                log.values[log_slot] = loss_sum / f32(outputs);
            }
            log_slot = log_slot + 1u;
        }
        workgroupBarrier();

        // 2. dW and db: `lanes` invocations per gradient element.
        for (var e0 = 0u; e0 < grads; e0 += WORKGROUP_SIZE / lanes) {
            let e = e0 + lid / lanes;
            let lane = lid % lanes;
            var acc = 0.0;
            if (e < weights) {
                let k = e / crs;
                let c = (k / kg) * cg + (e / rs) % cg;
                let r = (e / params.s) % params.r;
                let s = e % params.s;
                for (var j = lane; j < terms; j += lanes) {
                    let tap = weight_tap(j, k, c, r, s);
                    if (tap.inside) {
                        acc += dzs[tap.dz] * xs[tap.x];
                    }
                }
            } else if (e < grads) {
                let k = e - weights;
                for (var j = lane; j < terms; j += lanes) {
                    acc += dzs[((j / pq) * params.k + k) * pq + j % pq];
                }
            }
            let sum = tree_sum(acc, lid, lane, lanes);
            if (lane == 0u) {
                if (e < weights) {
                    wg[e] = sum;
                } else if (e < grads) {
                    bg[e - weights] = sum;
                }
            }
            workgroupBarrier();
        }

        // 3. SGD.
        for (var i = lid; i < weights; i += WORKGROUP_SIZE) {
            let u = sgd_step(ws[i], wg[i], wm[i]);
            ws[i] = u.x;
            wm[i] = u.y;
        }
        for (var i = lid; i < biases; i += WORKGROUP_SIZE) {
            let u = sgd_step(bs[i], bg[i], bm[i]);
            bs[i] = u.x;
            bm[i] = u.y;
        }
        workgroupBarrier();
    }

    for (var i = lid; i < weights; i += WORKGROUP_SIZE) {
        w[i] = ws[i];
        w_momentum[i] = wm[i];
        dw[i] = wg[i];
    }
    for (var i = lid; i < biases; i += WORKGROUP_SIZE) {
        store_bias(i, bs[i], bm[i], bg[i]);
    }
    if (lid == 0u) {
        log.count = log_slot;
    }
}
