// web/bench.sh's measurements, in the page (bench.mjs calls them through window.bench):
//   - the live forward as the page's section 1 calls it (wg.forward with its JSON, one pixel of
//     the 24×24 image changed per call, as a stroke does), against tfjs-webgpu 4.22 on the same
//     image and filters: tf.fused.conv2d (bias, ReLU) and its readback, and conv2d + bias → z,
//     ReLU → y with both read back (what the page draws);
//   - the digits network's training step (conv 1→K 5×5 + ReLU → max-pool 2 → linear 100·K→10,
//     softmax cross-entropy, SGD momentum 0.9, lr 0.05, batch 64, the page's 4000 training
//     digits) in wgconv (web/src/digits.rs, as section 5 runs it) and in tfjs.
// Every timing is wall time (performance.now) around work that ends in a readback, so the GPU's
// work is inside it.
import init, * as wg from '../dist/pkg/wgconv_web.js';
import { DATA, loadDigits } from '../dist/digits.js';

const tf = window.tf;
const H = 24, W = 24, R = 5;
const BIAS = [-0.1, -0.1];
const median = (a) => { const s = [...a].sort((p, q) => p - q); return s[Math.floor(s.length / 2)]; };

async function timeCalls(n, warm, call) {
  for (let i = 0; i < warm; i++) await call(i);
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call(warm + i);
    ms.push(performance.now() - t);
  }
  return { mean: ms.reduce((a, b) => a + b, 0) / n, median: median(ms), n };
}

// A stroke: pixel i of a diagonal walk set to 1 (every call changes the image).
function stroke(x, i) {
  const k = i % (H * W);
  x[(Math.floor(k / W) * 7 + k) % (H * W)] = (i % 2) ? 1 : 0.5;
}

async function forwardOurs(n, warm) {
  const x = Float32Array.from(wg.notebook_image());
  const w = Array.from(wg.notebook_filters());
  let last;
  const r = await timeCalls(n, warm, async (i) => {
    stroke(x, i);
    const req = JSON.stringify({ x: Array.from(x), h: H, w: W, weights: w, kernel: R, stride: 1, padding: 0, bias: BIAS, use_gpu: true });
    last = JSON.parse(await wg.forward(req));
  });
  return { ...r, source: last.source, over: last.check.over, gpu_ms: last.gpu_ms };
}

// (2, 1, 5, 5) → tfjs's (5, 5, 1, 2).
function tfFilter(wk) {
  const hwio = new Float32Array(R * R * 2);
  for (let k = 0; k < 2; k++) for (let i = 0; i < R * R; i++) hwio[i * 2 + k] = wk[k * R * R + i];
  return tf.tensor4d(hwio, [R, R, 1, 2]);
}

async function forwardTf(n, warm, both) {
  const x0 = Float32Array.from(wg.notebook_image());
  const filter = tfFilter(wg.notebook_filters());
  const bias = tf.tensor1d(BIAS);
  const r = await timeCalls(n, warm, async (i) => {
    stroke(x0, i);
    const x = tf.tensor4d(x0, [1, H, W, 1]);
    if (both) {
      const z = tf.add(tf.conv2d(x, filter, 1, 'valid'), bias);
      const y = tf.relu(z);
      await Promise.all([z.data(), y.data()]);
      tf.dispose([x, z, y]);
    } else {
      const y = tf.fused.conv2d({ x, filter, strides: 1, pad: 'valid', bias, activation: 'relu' });
      await y.data();
      tf.dispose([x, y]);
    }
  });
  tf.dispose([filter, bias]);
  return r;
}

// ---------- the digits ----------
const value = (k) => Math.round((k * 1000) / 255) / 1000;
let digits = null;
async function data() {
  if (!digits) digits = await loadDigits('../dist/' + DATA.file);
  return digits;
}

// Wall time of `digits_steps(n)` (n steps, then the page's test evaluation and readbacks), the
// least of `reps` (the least disturbed by whatever else the machine runs).
async function oursSteps(n, reps) {
  const ms = [];
  let last;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    last = JSON.parse(await wg.digits_steps(n));
    ms.push(performance.now() - t);
  }
  return { ms: Math.min(...ms), last };
}

async function digitsOurs(k, specialize) {
  const { pixels, labels } = await data();
  if (specialize !== null) wg.digits_specialize(specialize);
  const t = performance.now();
  JSON.parse(await wg.digits_init(pixels, labels, 10 * DATA.train, k, 0n, 0.05, 0.9, 64));
  const initMs = performance.now() - t;
  const first = await oursSteps(10, 1);
  const a = await oursSteps(10, 5), b = await oursSteps(60, 3);
  const step = (b.ms - a.ms) / 50;
  return { initMs, firstMs: first.ms, step, per10: a.ms, evalMs: a.ms - 10 * step, acc: b.last.correct / b.last.test,
    stepsMs10: a.last.steps_ms, evalMs10: a.last.eval_ms };
}

async function digitsTf(k) {
  const { pixels, labels } = await data();
  const n = 10 * DATA.train, S = 28, C = 24;
  const xs = new Float32Array(n * C * C), ys = new Float32Array(n * 10);
  for (let s = 0; s < n; s++) {
    for (let r = 0; r < C; r++) for (let c = 0; c < C; c++) {
      xs[(s * C + r) * C + c] = (value(pixels[(s * S + r + 2) * S + c + 2]) - 0.1307) / 0.3081;
    }
    ys[s * 10 + labels[s]] = 1;
  }
  const trainX = tf.tensor4d(xs, [n, C, C, 1]), trainY = tf.tensor2d(ys, [n, 10]);
  const u = (shape, bound) => tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', 1));
  const w1 = u([5, 5, 1, k], 1 / 5), b1 = u([k], 1 / 5);
  const w2 = u([100 * k, 10], 1 / Math.sqrt(100 * k)), b2 = u([10], 1 / Math.sqrt(100 * k));
  const opt = tf.train.momentum(0.05, 0.9);
  let at = n, order = null;
  const step = () => {
    if (at + 64 > n) {
      order = Int32Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
      at = 0;
    }
    const idx = tf.tensor1d(order.subarray(at, at + 64), 'int32');
    at += 64;
    const x = tf.gather(trainX, idx), y = tf.gather(trainY, idx);
    const loss = opt.minimize(() => {
      const c = tf.relu(tf.add(tf.conv2d(x, w1, 1, 'valid'), b1));
      const p = tf.maxPool(c, 2, 2, 'valid');
      const logits = tf.add(tf.matMul(tf.reshape(p, [64, 100 * k]), w2), b2);
      return tf.losses.softmaxCrossEntropy(y, logits);
    }, true);
    tf.dispose([idx, x, y]);
    return loss;
  };
  const run = async (m) => {
    const t = performance.now();
    let loss = null;
    for (let i = 0; i < m; i++) { if (loss) loss.dispose(); loss = step(); }
    const v = (await loss.data())[0];
    loss.dispose();
    return { ms: performance.now() - t, loss: v };
  };
  const first = await run(10);
  const a = [], b = [];
  for (let i = 0; i < 5; i++) a.push((await run(10)).ms);
  let lastLoss;
  for (let i = 0; i < 3; i++) { const r = await run(60); b.push(r.ms); lastLoss = r.loss; }
  const stepMs = (Math.min(...b) - Math.min(...a)) / 50;
  tf.dispose([trainX, trainY, w1, b1, w2, b2]);
  opt.dispose();
  return { firstMs: first.ms, step: stepMs, per10: Math.min(...a), loss: lastLoss };
}

async function main() {
  await init();
  const adapter = JSON.parse(await wg.open_gpu());
  await tf.setBackend('webgpu');
  await tf.ready();
  window.bench = {
    adapter, tfBackend: tf.getBackend(), tfVersion: tf.version.tfjs,
    forwardOurs, forwardTf, digitsOurs, digitsTf,
  };
  document.title = 'bench: ready';
}

main().catch((e) => { window.benchError = String(e && e.stack || e); document.title = 'bench: error'; });
