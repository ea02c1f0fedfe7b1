// Section 5, the digits, live: the notebook's network (conv 5×5 + ReLU → max-pool 2 → linear)
// trained on the GPU in the page on digits.png (web/tools/digits_subset.py cut it from the
// crate's MNIST file), its test accuracy after every few steps, its filters beside the
// notebook's, and a 28×28 canvas to draw a digit on: the ten probabilities and the maps after
// the conv and after the pooling. Every number comes from wasm (web/src/digits.rs).
import { t, show } from './i18n.js';

// digits.png's layout (web/tools/digits_subset.py): per digit 0–9, TRAIN of its training
// samples, then per digit TEST of its test samples; GRID samples of 28×28 per row.
export const DATA = { file: 'digits.png', train: 400, test: 100, grid: 50, side: 28 };
const SIDE = 28, CELL = 9;
// Steps per update (one readback of the last loss, the test logits and the filters). On
// SwiftShader classifying the 1,000 test digits costs about as much as 10 steps (K = 4).
const EVERY = 20;

const $ = (id) => document.getElementById(id);
const d = {
  ready: false, running: false, busy: false, init: null, steps: 0, epoch: 0,
  curve: [], // { step, acc, loss }
  trainMs: 0, startedAt: null, msTo90: null, stepsTo90: null,
  pixels: null, labels: null, picture: new Float32Array(SIDE * SIDE), last: null, classified: 0,
};

let wg, h; // the wasm module; app.js's drawing helpers { paint, diverging, gray, drawFilterCanvas, errText, notebookFilters }

// The PNG's bytes as the file holds them: no colour conversion, no premultiplication. (Exported
// for web/bench, which fetches it from another folder.)
export async function loadDigits(url = DATA.file) {
  const blob = await (await fetch(url)).blob();
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const off = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = off.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const n = 10 * (DATA.train + DATA.test);
  const pixels = new Uint8Array(n * SIDE * SIDE), labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const gr = Math.floor(i / DATA.grid), gc = i % DATA.grid;
    for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) {
      pixels[(i * SIDE + r) * SIDE + c] = rgba[4 * ((gr * SIDE + r) * bitmap.width + gc * SIDE + c)];
    }
    labels[i] = i < 10 * DATA.train ? Math.floor(i / DATA.train) : Math.floor((i - 10 * DATA.train) / DATA.test);
  }
  return { pixels, labels };
}

// The session in wasm is held by one call at a time: its calls run one after another.
let chain = Promise.resolve();
function exclusive(fn) {
  const p = chain.then(fn);
  chain = p.catch(() => {});
  return p;
}

// The data's value of a byte, as the crate reads it: k/255 rounded to three decimals.
const value = (k) => Math.round((k * 1000) / 255) / 1000;

async function init() {
  d.running = false; showButton();
  while (d.busy) await new Promise((r) => setTimeout(r, 10));
  d.busy = true;
  try {
    if (!d.pixels) Object.assign(d, await loadDigits());
    const k = Number($('digits-k').value), batch = Number($('digits-batch').value), lr = Number($('digits-lr').value), m = Number($('digits-momentum').value);
    d.init = JSON.parse(await exclusive(() => wg.digits_init(d.pixels, d.labels, 10 * DATA.train, k, 0n, lr, m, batch)));
    d.batch = batch;
    Object.assign(d, { steps: 0, seen: 0, epoch: 0, curve: [], trainMs: 0, startedAt: null, msTo90: null, stepsTo90: null, last: null, ready: true });
    drawFilters(d.init.w, d.init.b);
    drawCurve();
    showStatus();
    // A test digit to start with, until the reader draws.
    if (!d.picture.some((v) => v > 0)) { const label = testDigit(7); show($('digits-sample-label'), () => t('digits.label', { label })); }
    await classify();
  } catch (e) {
    d.ready = false;
    show($('digits-status'), () => t('digits.nostart', { msg: h.errText(e) }));
  } finally { d.busy = false; }
}

async function update() {
  if (d.busy || !d.ready) return false;
  d.busy = true;
  try {
    const r = JSON.parse(await exclusive(() => wg.digits_steps(EVERY)));
    d.steps = r.steps_done; d.epoch = r.epoch; d.seen = r.seen;
    const acc = r.correct / r.test;
    d.curve.push({ step: r.steps_done, acc, loss: r.loss });
    d.trainMs += r.steps_ms + r.eval_ms;
    d.lastTimes = { steps: r.steps_ms, eval: r.eval_ms };
    if (d.msTo90 === null && acc >= 0.9 && d.startedAt !== null) {
      d.msTo90 = performance.now() - d.startedAt;
      d.stepsTo90 = r.steps_done;
    }
    drawFilters(r.w, r.b);
    drawCurve();
    showStatus();
    await classify();
    return true;
  } catch (e) {
    d.running = false; showButton();
    show($('digits-status'), () => t('digits.stopped', { msg: h.errText(e) }));
    return false;
  } finally { d.busy = false; }
}

async function loop() {
  if (d.startedAt === null) d.startedAt = performance.now();
  while (d.running) {
    if (!(await update())) break;
    await new Promise((r) => requestAnimationFrame(() => r()));
  }
}

function showButton() {
  show($('digits-run'), () => t(d.running ? 'learn.pause' : 'digits.train'));
  $('digits-run').setAttribute('aria-pressed', String(d.running));
}

function showStatus() {
  const el = $('digits-status');
  const last = d.curve[d.curve.length - 1];
  el.dataset.steps = d.steps;
  el.dataset.acc = last ? String(last.acc) : '';
  el.dataset.msTo90 = d.msTo90 === null ? '' : d.msTo90.toFixed(0);
  el.dataset.stepsTo90 = d.stepsTo90 === null ? '' : String(d.stepsTo90);
  const ms = d.steps ? d.trainMs / d.steps : 0;
  const args = { steps: d.steps, epoch: d.epoch, digits: d.seen, acc: last ? (100 * last.acc).toFixed(1) : null,
    loss: last ? last.loss.toFixed(3) : null, ms: ms.toFixed(0), to90: d.msTo90 === null ? null : (d.msTo90 / 1000).toFixed(1),
    steps90: d.stepsTo90, test: 10 * DATA.test };
  show(el, () => t('digits.status', args));
}

// ---------- drawing ----------
function filterScale(w) { let m = 0; for (const v of w) m = Math.max(m, Math.abs(v)); return m || 1; }

function drawFilters(w, b) {
  const k = d.init.k, box = $('digits-filters');
  if (box.childElementCount !== k) {
    box.textContent = '';
    for (let i = 0; i < k; i++) {
      const fig = document.createElement('figure');
      fig.innerHTML = `<canvas class="filter" id="digits-w${i}"></canvas><figcaption>w${String(i + 1).split('').map((q) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[q]).join('')} <span class="scale" id="digits-b${i}"></span></figcaption>`;
      box.appendChild(fig);
    }
  }
  const m = filterScale(w);
  for (let i = 0; i < k; i++) {
    h.drawFilterCanvas($(`digits-w${i}`), w.slice(i * 25, (i + 1) * 25), 5, m);
    $(`digits-b${i}`).textContent = `b${'₁₂₃₄₅₆₇₈₉'[i] || ''} = ${b[i].toFixed(3)}`;
  }
  const nb = h.notebookFilters();
  const mn = filterScale(nb);
  for (let i = 0; i < 2; i++) h.drawFilterCanvas($(`digits-nb${i}`), nb.slice(i * 25, (i + 1) * 25), 5, mn);
}

function drawCurve() {
  const c = $('digits-curve'), ctx = c.getContext('2d');
  const Wc = c.width, Hc = c.height, L = 44, R = 12, T = 24, B = 34;
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, Wc, Hc);
  const n = Math.max(200, d.steps);
  const X = (s) => L + (s / n) * (Wc - L - R);
  const Y = (a) => T + (1 - a) * (Hc - T - B); // accuracy 0..1
  ctx.font = '11px system-ui, sans-serif'; ctx.lineWidth = 1;
  for (let a = 0; a <= 1.0001; a += 0.2) {
    ctx.strokeStyle = '#ddd'; ctx.beginPath(); ctx.moveTo(L, Y(a)); ctx.lineTo(Wc - R, Y(a)); ctx.stroke();
    ctx.fillStyle = '#555'; ctx.fillText(`${Math.round(a * 100)} %`, 6, Y(a) + 4);
  }
  const xs = n <= 400 ? 50 : n <= 2000 ? 250 : 1000;
  for (let s = 0; s <= n; s += xs) ctx.fillText(String(s), Math.min(X(s) - 6, Wc - R - 8 * String(s).length), Hc - B + 16);
  ctx.fillText(t('learn.axis'), Wc / 2, Hc - 4);
  // The target: 90 %.
  ctx.strokeStyle = '#d9a400'; ctx.setLineDash([4, 4]);
  ctx.beginPath(); ctx.moveTo(L, Y(0.9)); ctx.lineTo(Wc - R, Y(0.9)); ctx.stroke(); ctx.setLineDash([]);
  ctx.strokeStyle = '#1b5fbf'; ctx.lineWidth = 2; ctx.beginPath();
  ctx.moveTo(X(0), Y(0.1));
  for (const p of d.curve) ctx.lineTo(X(p.step), Y(p.acc));
  ctx.stroke();
  ctx.strokeStyle = '#888'; ctx.lineWidth = 1; ctx.strokeRect(L, T, Wc - L - R, Hc - T - B);
  ctx.fillStyle = '#1b1b1f'; ctx.fillText(t('digits.legend', { test: 10 * DATA.test }), L, T - 8);
}

function drawPicture() {
  h.paint($('digits-draw'), SIDE, SIDE, (i) => h.gray(d.picture[i], 1), CELL);
  // The 24×24 crop the network sees.
  const ctx = $('digits-draw').getContext('2d');
  ctx.strokeStyle = '#ff8c00'; ctx.lineWidth = 1; ctx.setLineDash([3, 3]);
  ctx.strokeRect(2 * CELL + 0.5, 2 * CELL + 0.5, 24 * CELL - 1, 24 * CELL - 1); ctx.setLineDash([]);
}

function drawResult(r) {
  const k = d.init.k;
  // The ten probabilities.
  const c = $('digits-probs'), ctx = c.getContext('2d');
  const Wc = c.width, Hc = c.height, T = 18, B = 22, bw = Wc / 10;
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, Wc, Hc);
  ctx.font = '12px system-ui, sans-serif'; ctx.textAlign = 'center';
  r.probs.forEach((p, i) => {
    const hgt = p * (Hc - T - B);
    ctx.fillStyle = i === r.prediction ? '#1b5fbf' : '#9db7de';
    ctx.fillRect(i * bw + 4, Hc - B - hgt, bw - 8, hgt);
    ctx.fillStyle = '#1b1b1f';
    ctx.fillText(String(i), i * bw + bw / 2, Hc - 6);
    ctx.fillText(p >= 0.995 ? '1.00' : p.toFixed(2).replace(/^0/, ''), i * bw + bw / 2, Hc - B - hgt - 4);
  });
  ctx.textAlign = 'start';
  // The maps: after the conv (20×20) and after the pooling (10×10), black 0 … white at each map's max.
  const box = $('digits-maps');
  if (box.childElementCount !== 2 * k) {
    box.textContent = '';
    for (const [kind, n] of [['conv', 20], ['pool', 10]]) {
      for (let i = 0; i < k; i++) {
        const fig = document.createElement('figure');
        fig.innerHTML = `<canvas class="dmap" id="digits-${kind}${i}" role="img"></canvas><figcaption id="digits-${kind}${i}-cap"></figcaption>`;
        box.appendChild(fig);
        fig.dataset.n = n;
      }
    }
  }
  for (const [kind, n, cell] of [['conv', 20, 6], ['pool', 10, 12]]) {
    for (let i = 0; i < k; i++) {
      const v = r[kind].slice(i * n * n, (i + 1) * n * n);
      let m = 0; for (const x of v) m = Math.max(m, x);
      h.paint($(`digits-${kind}${i}`), n, n, (j) => h.gray(v[j], m), cell);
      const sup = String(i + 1).split('').map((q) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[q]).join('');
      show($(`digits-${kind}${i}-cap`), () => t(`digits.${kind}`, { sup, n, m: m.toFixed(2) }));
      $(`digits-${kind}${i}`).setAttribute('aria-label', t(`digits.${kind}`, { sup, n, m: m.toFixed(2) }));
    }
  }
  const el = $('digits-prediction');
  el.dataset.prediction = r.prediction;
  el.dataset.probs = JSON.stringify(r.probs);
  show(el, () => t('digits.prediction', { digit: r.prediction, p: (100 * r.probs[r.prediction]).toFixed(1) }));
}

let pending = false, again = false;
async function classify() {
  if (!d.ready) return;
  if (pending) { again = true; return; }
  pending = true;
  try {
    do {
      again = false;
      const r = JSON.parse(await exclusive(() => wg.digits_classify(d.picture)));
      d.last = r; d.classified++;
      drawResult(r);
    } while (again);
  } catch (e) {
    show($('digits-prediction'), () => t('digits.noclassify', { msg: h.errText(e) }));
  } finally { pending = false; }
}

// While training, the drawing is classified between updates (exclusive() queues it).
async function classifySoon() {
  if (!d.ready) return; // initialising: init() classifies when done
  await classify();
}

// A soft 28×28 brush, about as wide as MNIST's strokes.
function stamp(i, j, erase) {
  for (let a = Math.floor(i - 2); a <= Math.ceil(i + 2); a++) {
    for (let b = Math.floor(j - 2); b <= Math.ceil(j + 2); b++) {
      if (a < 0 || a >= SIDE || b < 0 || b >= SIDE) continue;
      const s = Math.max(0, Math.min(1, 1.8 - Math.hypot(a - i, b - j)));
      if (s <= 0) continue;
      const k = a * SIDE + b;
      d.picture[k] = erase ? d.picture[k] * (1 - s) : Math.max(d.picture[k], s);
    }
  }
}

// A test digit of the data onto the canvas (its bytes' values, as the data holds them).
function testDigit(index) {
  const i = 10 * DATA.train + index;
  for (let j = 0; j < SIDE * SIDE; j++) d.picture[j] = value(d.pixels[i * SIDE * SIDE + j]);
  d.pictureLabel = d.labels[i];
  drawPicture();
  return d.labels[i];
}

function setupCanvas() {
  const c = $('digits-draw');
  let down = false, prev = null;
  const at = (e) => {
    const r = c.getBoundingClientRect();
    return [((e.clientY - r.top) / r.height) * SIDE - 0.5, ((e.clientX - r.left) / r.width) * SIDE - 0.5];
  };
  const paintTo = (e) => {
    const p = at(e);
    // Fill the gap since the last event, so that a fast stroke stays a line.
    const from = prev || p, steps = Math.max(1, Math.ceil(Math.hypot(p[0] - from[0], p[1] - from[1]) / 0.5));
    for (let s = 1; s <= steps; s++) stamp(from[0] + ((p[0] - from[0]) * s) / steps, from[1] + ((p[1] - from[1]) * s) / steps, e.shiftKey);
    prev = p;
    d.pictureLabel = null;
    drawPicture();
    classifySoon();
  };
  c.addEventListener('pointerdown', (e) => { down = true; prev = null; c.setPointerCapture(e.pointerId); paintTo(e); });
  c.addEventListener('pointermove', (e) => { if (down) paintTo(e); });
  const stop = () => { down = false; prev = null; };
  c.addEventListener('pointerup', stop);
  c.addEventListener('pointercancel', stop);
  $('digits-clear').addEventListener('click', () => { d.picture.fill(0); d.pictureLabel = null; drawPicture(); classifySoon(); });
  $('digits-sample').addEventListener('click', () => {
    if (!d.pixels) return;
    const label = testDigit(Math.floor(Math.random() * 10 * DATA.test));
    show($('digits-sample-label'), () => t('digits.label', { label }));
    classifySoon();
  });
}

// Called by app.js once the GPU is open (gpu false: the section says it needs WebGPU).
export async function setupDigits(module, helpers, gpu) {
  wg = module; h = helpers;
  window.wgconv.digits = d;
  // For the tests: puts test digit `index` (0-based among the page's test digits) on the
  // canvas, classifies it, and gives its label.
  window.wgconv.digitsTestDigit = async (index) => {
    const label = testDigit(index);
    const n = d.classified;
    await classify();
    while (pending || d.classified === n) await new Promise((r) => setTimeout(r, 20));
    return label;
  };
  showButton();
  drawPicture();
  show($('digits-data'), () => t('digits.data', { train: 10 * DATA.train, test: 10 * DATA.test, per: DATA.train, perTest: DATA.test }));
  if (!gpu) {
    for (const id of ['digits-run', 'digits-reset', 'digits-sample', 'digits-clear']) $(id).disabled = true;
    show($('digits-status'), () => t('digits.nogpu'));
    return;
  }
  setupCanvas();
  $('digits-run').addEventListener('click', () => {
    if (!d.ready) return;
    d.running = !d.running;
    showButton();
    if (d.running) loop();
  });
  $('digits-reset').addEventListener('click', init);
  for (const id of ['digits-k', 'digits-batch', 'digits-lr', 'digits-momentum']) $(id).addEventListener('change', init);
  await init();
}

// The language changed: redraw what holds text.
export function redrawDigits() {
  if (d.init) drawCurve();
}

