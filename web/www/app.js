// The page: it draws and listens; every number it shows comes from wgconv compiled to wasm
// (pkg/wgconv_web.js): the GPU kernels through WebGPU, or the f64 CPU reference without it.
import init, * as wg from './pkg/wgconv_web.js';
import { t, show, onLangChange, applyStatic, setLang, wasmMessage, lang } from './i18n.js';
import { setupGrad } from './grad.js';
import { setupDigits, redrawDigits } from './digits.js';

const H = 24, W = 24;
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const t0 = performance.now();

const state = {
  gpu: false,            // a WebGPU device is open
  x: new Float32Array(H * W),
  kernel: 5, stride: 1, padding: 0,
  w: new Float32Array(50),
  b: [-0.1, -0.1],
  last: null,            // the last forward response
  sel: { k: 0, p: 0, q: 0 },
  cursor: { i: 0, j: 0 },
  seed: 1,
};
// What the tests read.
window.wgconv = { firstMapsMs: null, firstGpuMapsMs: null, forwards: 0, ready: false, errors: [], timings: { t0 } };

// An exception's message (wgconv's, through wasm-bindgen, or the browser's), in the page's language.
const errText = (e) => wasmMessage(e && e.message ? e.message : e);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function fail(whereId, e) {
  const raw = e && e.message ? e.message : String(e);
  console.error(`${whereId}: ${raw}`);
  window.wgconv.errors.push(`${whereId}: ${raw}`);
  show($('status'), () => t('fail', { where: t(whereId), msg: wasmMessage(raw) }));
}

// ---------- numbers and colours ----------
const fmt = (v, d = 6) => (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(d);
const fmtPlain = (v, d = 4) => (v < 0 ? '−' : '') + Math.abs(v).toFixed(d);
const sci = (v) => (v === 0 ? '0' : v.toExponential(2).replace('-', '−'));

// Diverging: blue < 0 < red, white at 0, full colour at ±m.
function diverging(v, m) {
  const a = m > 0 ? Math.max(-1, Math.min(1, v / m)) : 0;
  if (a >= 0) return [255, Math.round(255 * (1 - a)), Math.round(255 * (1 - a))];
  return [Math.round(255 * (1 + a)), Math.round(255 * (1 + a)), 255];
}
const gray = (v, m) => { const g = Math.round(255 * (m > 0 ? Math.max(0, Math.min(1, v / m)) : 0)); return [g, g, g]; };

// Paints a rows×cols grid of colours onto a canvas of cell×cell pixels per value.
function paint(canvas, rows, cols, colour, cell) {
  canvas.width = cols * cell; canvas.height = rows * cell;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(cols, rows);
  for (let i = 0; i < rows * cols; i++) {
    const [r, g, b] = colour(i);
    img.data.set([r, g, b, 255], 4 * i);
  }
  const off = new OffscreenCanvas(cols, rows);
  off.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, cols * cell, rows * cell);
  return ctx;
}

// ---------- input ----------
const INPUT_CELL = 11;
function drawInput() {
  const canvas = $('input');
  const ctx = paint(canvas, H, W, (i) => gray(state.x[i], 1), INPUT_CELL);
  // The window of the selected output element (figure 3.9), clipped to the image.
  const { p, q } = state.sel;
  const r0 = p * state.stride - state.padding, c0 = q * state.stride - state.padding;
  ctx.lineWidth = 3;
  ctx.strokeStyle = '#ff8c00';
  ctx.strokeRect(c0 * INPUT_CELL + 1.5, r0 * INPUT_CELL + 1.5, state.kernel * INPUT_CELL - 3, state.kernel * INPUT_CELL - 3);
  if (document.activeElement === canvas) {
    ctx.lineWidth = 2; ctx.strokeStyle = '#1b5fbf';
    ctx.strokeRect(state.cursor.j * INPUT_CELL + 1, state.cursor.i * INPUT_CELL + 1, INPUT_CELL - 2, INPUT_CELL - 2);
  }
}

function setInput(values) {
  state.x.set(values);
  drawInput();
  update();
}

const presets = {
  builtin: () => wg.notebook_image(),
  clear: () => new Float32Array(H * W),
  noise: () => { const v = new Float32Array(H * W); for (let i = 0; i < v.length; i++) v[i] = Math.random(); return v; },
  // A hand-drawn-looking "2": a polyline stamped with a soft brush.
  stroke: () => {
    const v = new Float32Array(H * W);
    const pts = [[6, 6], [4, 10], [4.5, 15], [7, 18], [10, 17.5], [13, 13], [16, 9], [19, 6], [19.5, 11], [19.5, 17]];
    for (let s = 0; s + 1 < pts.length; s++) {
      const [a, b] = [pts[s], pts[s + 1]];
      for (let t = 0; t <= 1; t += 0.05) stamp(v, a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, 1);
    }
    return v;
  },
};

// Paints (or erases, value 0) around (i, j) in image coordinates with a 1.6-pixel soft brush.
function stamp(v, i, j, value) {
  for (let a = Math.floor(i - 2); a <= Math.ceil(i + 2); a++) {
    for (let b = Math.floor(j - 2); b <= Math.ceil(j + 2); b++) {
      if (a < 0 || a >= H || b < 0 || b >= W) continue;
      const d = Math.hypot(a - i, b - j);
      const s = Math.max(0, Math.min(1, 1.6 - d));
      if (s <= 0) continue;
      const k = a * W + b;
      v[k] = value > 0 ? Math.max(v[k], s) : v[k] * (1 - s);
    }
  }
}

function setupInput() {
  const canvas = $('input');
  let drawing = false;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientY - r.top) / r.height) * H - 0.5, ((e.clientX - r.left) / r.width) * W - 0.5];
  };
  const paintAt = (e) => {
    const [i, j] = at(e);
    stamp(state.x, i, j, e.shiftKey || $('erase').checked ? 0 : 1);
    drawInput();
    update();
  };
  canvas.addEventListener('pointerdown', (e) => { drawing = true; canvas.setPointerCapture(e.pointerId); paintAt(e); });
  canvas.addEventListener('pointermove', (e) => { if (drawing) paintAt(e); });
  const stop = () => { drawing = false; };
  canvas.addEventListener('pointerup', stop);
  canvas.addEventListener('pointercancel', stop);
  canvas.addEventListener('keydown', (e) => {
    const c = state.cursor;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[e.key]) {
      c.i = Math.max(0, Math.min(H - 1, c.i + moves[e.key][0]));
      c.j = Math.max(0, Math.min(W - 1, c.j + moves[e.key][1]));
    } else if (e.key === ' ' || e.key === 'Delete' || e.key === 'Backspace') {
      state.x[c.i * W + c.j] = e.key === ' ' ? 1 : 0;
      update();
    } else return;
    e.preventDefault();
    drawInput();
  });
  canvas.addEventListener('focus', drawInput);
  canvas.addEventListener('blur', drawInput);
  document.querySelectorAll('[data-input]').forEach((b) =>
    b.addEventListener('click', () => setInput(presets[b.dataset.input]())));
  $('upload').addEventListener('change', async (e) => {
    const file = e.target.files && e.target.files[0];
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      const off = new OffscreenCanvas(W, H);
      const ctx = off.getContext('2d');
      ctx.drawImage(bitmap, 0, 0, W, H);
      const d = ctx.getImageData(0, 0, W, H).data;
      const v = new Float32Array(H * W);
      for (let i = 0; i < v.length; i++) v[i] = (0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2]) / 255;
      show($('upload-name'), () => t('input.uploaded', { name: file.name }));
      setInput(v);
    } catch (err) {
      fail('fail.picture', err);
    }
  });
}

// ---------- filters ----------
// Edge filters of any size: the notebook's for 5×5; otherwise a binomial-smoothed derivative,
// the same construction (w¹ brighter to the right, w² brighter downwards).
function edgeFilters(r) {
  if (r === 5) return wg.notebook_filters();
  const binom = [1]; for (let i = 1; i < r; i++) binom.push(binom[i - 1] * (r - i) / i);
  const s = binom.reduce((a, b) => a + b, 0);
  const c = (r - 1) / 2;
  const deriv = [...Array(r).keys()].map((j) => Math.sign(j - c) * (c + 1 - Math.abs(j - c)) * (j === c ? 0 : 1));
  const dn = deriv.reduce((a, b) => a + Math.abs(b), 0) || 1;
  const w = new Float32Array(2 * r * r);
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
    w[i * r + j] = (binom[i] / s) * (deriv[j] / dn) * 2;
    w[r * r + i * r + j] = (binom[j] / s) * (deriv[i] / dn) * 2;
  }
  return w;
}

function filterScale() { let m = 0; for (const v of state.w) m = Math.max(m, Math.abs(v)); return m || 1; }

function buildFilters() {
  const r = state.kernel;
  const box = $('filters');
  box.textContent = '';
  for (let k = 0; k < 2; k++) {
    const table = document.createElement('table');
    const cap = document.createElement('caption');
    cap.textContent = `w${k ? '²' : '¹'} (${r}×${r})`;
    table.appendChild(cap);
    for (let i = 0; i < r; i++) {
      const tr = document.createElement('tr');
      for (let j = 0; j < r; j++) {
        const td = document.createElement('td');
        const inp = document.createElement('input');
        inp.type = 'text'; inp.inputMode = 'decimal';
        inp.id = `w-${k}-${i}-${j}`;
        inp.setAttribute('aria-label', t('filters.cell', { w: `w${k ? '²' : '¹'}`, i: i + 1, j: j + 1 }));
        inp.addEventListener('change', () => {
          const v = Number(inp.value.replace('−', '-'));
          if (!Number.isFinite(v) || inp.value.trim() === '') { inp.setAttribute('aria-invalid', 'true'); return; }
          inp.removeAttribute('aria-invalid');
          state.w[(k * r + i) * r + j] = v;
          colourFilters();
          update();
        });
        td.appendChild(inp); tr.appendChild(td);
      }
      table.appendChild(tr);
    }
    box.appendChild(table);
  }
  fillFilters();
}

function fillFilters() {
  const r = state.kernel;
  for (let k = 0; k < 2; k++) for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
    const inp = $(`w-${k}-${i}-${j}`);
    inp.value = state.w[(k * r + i) * r + j].toFixed(4);
    inp.removeAttribute('aria-invalid');
  }
  colourFilters();
}

function colourFilters() {
  const r = state.kernel, m = filterScale();
  for (let k = 0; k < 2; k++) for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
    const v = state.w[(k * r + i) * r + j];
    const [R, G, B] = diverging(v, m);
    const inp = $(`w-${k}-${i}-${j}`);
    inp.style.background = `rgb(${R},${G},${B})`;
    inp.style.color = Math.abs(v) > 0.6 * m ? '#fff' : '#1b1b1f';
  }
}

function setFilters(kind) {
  const r = state.kernel;
  if (kind === 'edges') state.w = Float32Array.from(edgeFilters(r));
  else if (kind === 'random') state.w = Float32Array.from(wg.random_filters(2, r, BigInt(state.seed++)));
  else state.w = new Float32Array(2 * r * r);
  fillFilters();
  update();
}

function setupFilters() {
  document.querySelectorAll('[data-filters]').forEach((b) => b.addEventListener('click', () => setFilters(b.dataset.filters)));
  for (const k of [0, 1]) {
    const s = $(`b${k + 1}`);
    s.addEventListener('input', () => {
      state.b[k] = Number(s.value);
      $(`b${k + 1}v`).textContent = fmtPlain(state.b[k], 2);
      update();
    });
  }
  $('kernel').addEventListener('change', () => {
    state.kernel = Number($('kernel').value);
    state.w = Float32Array.from(edgeFilters(state.kernel));
    state.sel = { k: 0, p: 0, q: 0 };
    buildFilters();
    update();
  });
  for (const id of ['stride', 'padding']) {
    $(id).addEventListener('change', () => { state[id] = Number($(id).value); state.sel = { k: 0, p: 0, q: 0 }; update(); });
  }
}

function showFormula() {
  const { kernel: r, stride: s, padding: p } = state;
  const inner = H + 2 * p - r;
  const P = Math.floor(inner / s) + 1;
  show($('formula'), () => (inner < 0 ? t('formula.nofit', { p, r }) : t('formula.size', { p, r, s, P })));
  show($('params'), () => t('formula.params', { r, n: r * r * 2 }));
}

// ---------- forward ----------
let busy = false, again = false;
async function update() {
  showFormula();
  if (busy) { again = true; return; }
  busy = true;
  try {
    do { again = false; await forwardOnce(); } while (again);
  } finally { busy = false; }
}

function request() {
  return JSON.stringify({
    x: Array.from(state.x), h: H, w: W, weights: Array.from(state.w),
    kernel: state.kernel, stride: state.stride, padding: state.padding,
    bias: state.b, use_gpu: state.gpu,
  });
}

async function forwardOnce() {
  let res;
  try {
    res = JSON.parse(await wg.forward(request()));
  } catch (e) {
    show($('source'), () => '');
    show($('timing'), () => t('timing.failed', { msg: errText(e) }));
    return;
  }
  state.last = res;
  window.wgconv.lastP = res.p; window.wgconv.lastQ = res.q;
  drawMaps(res);
  window.wgconv.forwards++;
  const since = performance.now() - t0;
  if (window.wgconv.firstMapsMs === null) window.wgconv.firstMapsMs = since;
  if (res.source === 'gpu' && window.wgconv.firstGpuMapsMs === null) window.wgconv.firstGpuMapsMs = since;
  const sourceId = res.source === 'gpu' ? 'source.gpu' : (state.opening ? 'source.opening' : 'source.cpu');
  show($('source'), () => t(sourceId));
  const wc = window.wgconv;
  const times = { gpu: res.gpu_ms !== null ? res.gpu_ms.toFixed(1) : null, cpu: res.cpu_ms.toFixed(1),
    first: wc.firstMapsMs.toFixed(0), firstGpu: wc.firstGpuMapsMs !== null ? wc.firstGpuMapsMs.toFixed(0) : null };
  show($('timing'), () => t('timing', times));
  const { p, q } = state.sel;
  if (p >= res.p || q >= res.q) state.sel = { k: state.sel.k, p: 0, q: 0 };
  explainSelected();
  drawInput();
}

const MAP_PX = 200;
function drawMaps(res) {
  const n = res.p * res.q;
  let zmax = 0;
  for (const v of res.z) zmax = Math.max(zmax, Math.abs(v));
  const cell = Math.max(1, Math.floor(MAP_PX / Math.max(res.p, res.q)));
  for (let k = 0; k < 2; k++) {
    const z = res.z.slice(k * n, (k + 1) * n), y = res.y.slice(k * n, (k + 1) * n);
    let ymax = 0; for (const v of y) ymax = Math.max(ymax, v);
    paint($(`map-z${k}`), res.p, res.q, (i) => diverging(z[i], zmax), cell);
    paint($(`map-y${k}`), res.p, res.q, (i) => gray(y[i], ymax), cell);
    $(`scale-z${k}`).textContent = t('maps.scale.z', { m: zmax.toFixed(3) });
    $(`scale-y${k}`).textContent = t('maps.scale.y', { m: ymax.toFixed(3) });
    for (const m of ['z', 'y']) {
      $(`map-${m}${k}`).setAttribute('aria-label', t(`maps.label.${m}`, { sup: SUP[k], p: res.p, q: res.q }));
    }
  }
  markSelected();
}

function markSelected() {
  const res = state.last; if (!res) return;
  const { k, p, q } = state.sel;
  for (const m of ['z', 'y']) {
    const c = $(`map-${m}${k}`);
    const cell = c.width / res.q;
    const ctx = c.getContext('2d');
    ctx.lineWidth = 2; ctx.strokeStyle = '#ff8c00';
    ctx.strokeRect(q * cell + 1, p * cell + 1, Math.max(2, cell - 2), Math.max(2, cell - 2));
  }
}

// ---------- one element explained ----------
function select(k, p, q) {
  const res = state.last; if (!res) return;
  if (p < 0 || q < 0 || p >= res.p || q >= res.q) return;
  const same = state.sel.k === k && state.sel.p === p && state.sel.q === q;
  state.sel = { k, p, q };
  if (same) return;
  drawMaps(res);
  explainSelected();
  drawInput();
}

function setupMaps() {
  document.querySelectorAll('canvas.map').forEach((c) => {
    const k = Number(c.dataset.k);
    const pick = (e) => {
      const res = state.last; if (!res) return;
      const r = c.getBoundingClientRect();
      const q = Math.floor(((e.clientX - r.left) / r.width) * res.q);
      const p = Math.floor(((e.clientY - r.top) / r.height) * res.p);
      select(k, p, q);
    };
    c.addEventListener('pointermove', pick);
    c.addEventListener('pointerdown', pick);
    c.addEventListener('keydown', (e) => {
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (!moves[e.key] || !state.last) return;
      e.preventDefault();
      const { p, q } = state.sel;
      const res = state.last;
      select(k, Math.max(0, Math.min(res.p - 1, p + moves[e.key][0])), Math.max(0, Math.min(res.q - 1, q + moves[e.key][1])));
    });
    c.addEventListener('focus', () => select(k, state.sel.p, state.sel.q));
  });
}

const SUP = ['¹', '²'], SUB = (n) => String(n).split('').map((d) => '₀₁₂₃₄₅₆₇₈₉'[d]).join('');

function explainSelected() {
  let ex;
  try { ex = JSON.parse(wg.explain(state.sel.k, state.sel.p, state.sel.q)); } catch (e) { return; }
  const box = $('explanation');
  const name = `c${SUP[ex.k]}${SUB(ex.p + 1)},${SUB(ex.q + 1)}`;
  const r = state.kernel;
  const rows = [];
  for (let i = 0; i < r; i++) {
    const cells = [];
    for (let j = 0; j < r; j++) {
      const e = ex.terms[i * r + j];
      const title = e.padding ? t('explain.padding', { row: e.row, col: e.col })
        : `x${SUB(e.row)},${SUB(e.col)} = ${e.x.toFixed(4)} × w = ${e.w.toFixed(4)}`;
      cells.push(`<td class="${e.padding ? 'pad' : ''}" title="${title}">${fmt(e.product, 4)}</td>`);
    }
    rows.push(`<tr>${cells.join('')}</tr>`);
  }
  const first = ex.terms[0], last = ex.terms[r * r - 1];
  const terms = `<table class="terms" id="ex-terms" aria-label="${t('explain.terms', { n: r * r })}">
    <caption>${t('explain.caption', { sup: SUP[ex.k], r0: first.row, r1: last.row, c0: first.col, c1: last.col })}</caption>${rows.join('')}</table>`;
  const gpu = ex.gpu_z !== null;
  const ratio = gpu ? Math.max(ex.ratio_z, ex.ratio_y) : null;
  const lines = [
    `${name} = f(Σᵢ Σⱼ w${SUP[ex.k]}ᵢ,ⱼ · xᵢ,ⱼ + b${SUB(ex.k + 1)}), f = ReLU`,
    `${t('explain.sum', { n: r * r })} = <span id="ex-sum" data-value="${ex.sum}">${fmt(ex.sum)}</span>`,
    `+ b${SUB(ex.k + 1)} (<span id="ex-bias" data-value="${ex.bias}">${fmt(ex.bias, 4)}</span>) = <span id="ex-zcpu" data-value="${ex.cpu_z}">${fmt(ex.cpu_z)}</span>`,
    `ReLU: max(0, ${fmt(ex.cpu_z)}) = <span id="ex-ycpu" data-value="${ex.cpu_y}">${ex.cpu_y.toFixed(6)}</span>`,
    gpu ? `GPU: z = <span id="ex-zgpu" data-value="${ex.gpu_z}">${fmt(ex.gpu_z)}</span>, ${name} = <span id="ex-ygpu" data-value="${ex.gpu_y}">${ex.gpu_y.toFixed(6)}</span>    CPU (f64): z = ${fmt(ex.cpu_z)}, ${name} = ${ex.cpu_y.toFixed(6)}`
      : t('explain.cpuonly'),
    gpu ? t('explain.error', { n: r * r, bound: sci(ex.bound),
      ratio: `<span id="ex-ratio" data-value="${ratio}" class="${ratio <= 1 ? 'ok' : 'bad'}">${t('explain.ratio', { r: sci(ratio) })}</span>` }) : '',
  ];
  box.innerHTML = `<div class="explain-grid">${terms}<p class="sum" id="ex-lines">${lines.filter(Boolean).join('\n')}</p></div>`;
  box.dataset.k = ex.k; box.dataset.p = ex.p; box.dataset.q = ex.q;
  box.dataset.products = JSON.stringify(ex.terms.map((e) => e.product));
}

// ---------- check ----------
async function check() {
  const out = $('check-result');
  if (!state.gpu) {
    show(out, () => t('check.nogpu'));
    return;
  }
  show(out, () => t('check.running'));
  let res;
  try { res = JSON.parse(await wg.forward(request())); } catch (e) { show(out, () => t('check.failed', { msg: errText(e) })); return; }
  const c = res.check;
  const w = c.worst;
  const where = () => (w ? t('check.where', { map: w.index[1] ? 'z²/c²' : 'z¹/c¹', p: w.index[2] + 1, q: w.index[3] + 1,
    gpu: w.gpu.toPrecision(9), cpu: w.cpu.toPrecision(12), ratio: sci(w.ratio), bound: sci(w.bound) }) : t('check.nothing'));
  show(out, () => `<span class="${c.over === 0 ? 'ok' : 'bad'}" id="check-over" data-over="${c.over}" data-checked="${c.checked}">${t('check.result', c)}</span>`
    + t('check.worst', { where: where() }), true);
}

// ---------- learning ----------
const train = { running: false, losses: [], steps: 0, teacher: null, init: null, busy: false, ms: 0, wallStart: 0, wallSteps: 0, sgdDirty: false };
const CHUNK = 25;
window.wgconv.train = train;

function drawFilterCanvas(canvas, w, r, m) {
  paint(canvas, r, r, (i) => diverging(w[i], m), Math.floor(100 / r));
}

function drawStudent(w, b) {
  const m = Math.max(...train.init.teacher_w.map(Math.abs), ...Array.from(w, Math.abs));
  for (let k = 0; k < 2; k++) {
    drawFilterCanvas($(`student${k}`), w.slice(k * 25, (k + 1) * 25), 5, m);
    drawFilterCanvas($(`teacher${k}`), train.init.teacher_w.slice(k * 25, (k + 1) * 25), 5, m);
  }
  let dw = 0; train.init.teacher_w.forEach((v, i) => { dw = Math.max(dw, Math.abs(v - w[i])); });
  let db = 0; train.init.teacher_b.forEach((v, i) => { db = Math.max(db, Math.abs(v - b[i])); });
  train.paramError = [dw, db];
  if (train.onStudent) train.onStudent(w, b);
}

function drawLoss() {
  const c = $('loss'), ctx = c.getContext('2d');
  const Wc = c.width, Hc = c.height, L = 58, R = 12, T = 24, B = 34;
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, Wc, Hc);
  const ls = train.losses.filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.max(1e-16, Math.min(1e-6, ...ls))));
  const hi = Math.ceil(Math.log10(Math.max(1e-5, ...ls)));
  const n = Math.max(train.losses.length, 100);
  const X = (s) => L + (s / n) * (Wc - L - R);
  const Y = (v) => T + ((hi - Math.log10(v)) / (hi - lo)) * (Hc - T - B);
  ctx.strokeStyle = '#ddd'; ctx.fillStyle = '#555'; ctx.font = '11px system-ui, sans-serif'; ctx.lineWidth = 1;
  const every = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let d = lo; d <= hi; d += every) {
    ctx.beginPath(); ctx.moveTo(L, Y(10 ** d)); ctx.lineTo(Wc - R, Y(10 ** d)); ctx.stroke();
    ctx.fillText(`1e${d}`, 8, Y(10 ** d) + 4);
  }
  const xs = n <= 200 ? 50 : n <= 1000 ? 200 : 10 ** Math.floor(Math.log10(n / 2));
  for (let s = 0; s <= n; s += xs) { ctx.fillText(String(s), X(s) - 6, Hc - B + 16); }
  ctx.fillText(t('learn.axis'), Wc / 2, Hc - 4);
  // The target of the test: 1e-6.
  ctx.strokeStyle = '#d9a400'; ctx.setLineDash([4, 4]);
  ctx.beginPath(); ctx.moveTo(L, Y(1e-6)); ctx.lineTo(Wc - R, Y(1e-6)); ctx.stroke(); ctx.setLineDash([]);
  ctx.strokeStyle = '#1b5fbf'; ctx.lineWidth = 2; ctx.beginPath();
  train.losses.forEach((v, s) => { const y = Y(Math.max(v, 10 ** lo)); if (s === 0) ctx.moveTo(X(s), y); else ctx.lineTo(X(s), y); });
  ctx.stroke();
  ctx.strokeStyle = '#888'; ctx.lineWidth = 1; ctx.strokeRect(L, T, Wc - L - R, Hc - T - B);
  ctx.fillStyle = '#1b1b1f'; ctx.fillText(t('learn.legend'), L, T - 8);
}

function showTrainStatus() {
  const last = train.losses[train.losses.length - 1];
  const sps = train.ms > 0 ? (train.wallSteps / (train.ms / 1000)) : 0;
  const el = $('train-status');
  el.dataset.steps = train.steps;
  el.dataset.loss = last === undefined ? '' : String(last);
  el.dataset.stepsPerS = sps.toFixed(1);
  const [dw, db] = train.paramError || [NaN, NaN];
  const sourceId = train.init.source === 'gpu' ? (train.init.fused_loop ? 'learn.source.fused' : 'learn.source.gpu') : 'learn.source.cpu';
  const args = { steps: train.steps, loss: last === undefined ? null : last.toExponential(3), sps: sps.toFixed(0),
    dw: dw.toExponential(2), db: db.toExponential(2) };
  show(el, () => t('learn.status', { ...args, source: t(sourceId) }));
}

async function trainInit() {
  train.running = false; showRunButton();
  while (train.busy) await new Promise((r) => setTimeout(r, 10));
  train.busy = true;
  try {
    const lr = Number($('lr').value), m = Number($('momentum').value);
    train.init = JSON.parse(await wg.train_init(state.gpu, lr, m, 0n));
    train.losses = []; train.steps = 0; train.ms = 0; train.wallSteps = 0; train.sgdDirty = false;
    drawStudent(train.init.student_w, train.init.student_b);
    drawLoss();
    showTrainStatus();
  } catch (e) {
    show($('train-status'), () => t('learn.nostart', { msg: errText(e) }));
  } finally { train.busy = false; }
}

// run: what runs the steps (section 2b's grad.js passes wg.grad_step, which keeps its values).
async function trainSteps(n, run = (m) => wg.train_steps(m)) {
  if (train.busy || !train.init) return false;
  train.busy = true;
  try {
    if (train.sgdDirty) {
      train.sgdDirty = false;
      await wg.train_set_sgd(Number($('lr').value), Number($('momentum').value));
    }
    const r = JSON.parse(await run(n));
    train.losses.push(...r.losses);
    train.steps = r.steps_done;
    train.ms += r.ms; train.wallSteps += r.losses.length;
    drawStudent(r.w, r.b);
    drawLoss();
    showTrainStatus();
    return true;
  } catch (e) {
    train.running = false;
    showRunButton();
    show($('train-status'), () => t('learn.stopped', { msg: errText(e) }));
    return false;
  } finally { train.busy = false; }
}

async function runLoop() {
  while (train.running) {
    const ok = await trainSteps(state.gpu ? CHUNK : 5);
    if (!ok) break;
    await new Promise((r) => requestAnimationFrame(() => r()));
  }
}

function showRunButton() {
  show($('run-btn'), () => t(train.running ? 'learn.pause' : 'learn.run'));
  $('run-btn').setAttribute('aria-pressed', String(train.running));
}

function setupTraining() {
  showRunButton();
  $('run-btn').addEventListener('click', () => {
    train.running = !train.running;
    showRunButton();
    if (train.running) runLoop();
  });
  $('step-btn').addEventListener('click', () => trainSteps(1));
  $('reset-btn').addEventListener('click', trainInit);
  for (const id of ['lr', 'momentum']) {
    $(id).addEventListener('change', () => {
      const lr = Number($('lr').value), m = Number($('momentum').value);
      if (!(lr > 0) || !(m >= 0 && m < 1)) {
        show($('train-status'), () => t('learn.badsgd'));
        $(id).setAttribute('aria-invalid', 'true');
        return;
      }
      $('lr').removeAttribute('aria-invalid'); $('momentum').removeAttribute('aria-invalid');
      train.sgdDirty = true;
    });
  }
}

// ---------- start ----------
// reason: a function giving the banner's first line as markup, in the page's language.
function noGpu(reason) {
  const b = $('nogpu');
  b.hidden = false;
  show(b, () => t('nogpu', { reason: reason() }), true);
}

async function openGpu() {
  if (params.has('cpu')) { noGpu(() => t('nogpu.cpu')); return false; }
  if (!('gpu' in navigator)) { noGpu(() => t('nogpu.nonavigator')); return false; }
  try {
    // What the browser says of its adapter (wgpu's AdapterInfo has no name for it on the web).
    const a = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!a) throw Object.assign(new Error('navigator.gpu.requestAdapter() returned null'), { i18n: 'nogpu.null' });
    const bi = a.info || {};
    const browser = { vendor: bi.vendor || '', architecture: bi.architecture || '', device: bi.device || '',
      description: bi.description || '', is_fallback_adapter: !!bi.isFallbackAdapter,
      max_storage_buffers_per_shader_stage: a.limits.maxStorageBuffersPerShaderStage };
    const info = JSON.parse(await wg.open_gpu());
    info.browser = browser;
    // A software adapter (SwiftShader) runs invocations on the CPU: its own kernel versions.
    info.cpu_rules = browser.is_fallback_adapter || /swiftshader/i.test(`${browser.architecture} ${browser.description}`);
    if (info.cpu_rules) wg.set_cpu_rules(true);
    state.gpu = true;
    window.wgconv.adapter = info;
    const name = [browser.vendor, browser.architecture, browser.description].filter(Boolean).join(' ') || info.name || null;
    show($('status'), () => t('status.gpu', { name: name || t('status.unnamed'), fallback: browser.is_fallback_adapter })
      + (info.fused_loop ? t('status.fused')
        : t('status.unfused', { need: info.fused_loop_storage_buffers, have: browser.max_storage_buffers_per_shader_stage })));
    return true;
  } catch (e) {
    noGpu(() => t('nogpu.nodevice', { msg: e.i18n ? t(e.i18n) : esc(errText(e)) }));
    return false;
  }
}

async function runSelftest() {
  const pre = $('selftest');
  const sum = $('selftest-summary');
  show(sum, () => t('selftest.running'));
  // The JSON is for programs (and the tests): English keys and messages, behind a disclosure.
  let result, message = null;
  if (!state.gpu) {
    result = { pass: false, error: t('selftest.nogpu', {}, 'en'), reason: $('nogpu').textContent.trim() };
    message = () => t('selftest.nogpu');
  } else {
    try {
      result = JSON.parse(await wg.selftest());
    } catch (e) {
      result = { pass: false, error: String(e.message || e) };
      message = () => errText(e);
    }
    if (result.adapter) result.adapter.browser = window.wgconv.adapter.browser;
  }
  pre.textContent = JSON.stringify(result, null, 1);
  $('selftest-details').hidden = false;
  sum.className = result.pass ? 'ok' : 'bad';
  const r = result;
  show(sum, () => (message ? t('selftest.failed', { msg: message() })
    : t('selftest.summary', { pass: r.pass, total: r.cases_total, shapes: r.random_shapes, versions: r.versions,
      failed: r.cases_failed, worst: sci(r.worst_ratio), steps: r.train.steps, first: r.train.first_loss.toExponential(2),
      final: r.train.final_loss.toExponential(2), sps: r.train.steps_per_s.toFixed(0) })));
  document.title = result.pass ? 'selftest: pass' : 'selftest: fail';
  $('selftest-section').scrollIntoView();
}

// The language: every text from i18n.js; the switch changes it in place (and in the address).
function setupLanguage() {
  applyStatic();
  // The self-test link keeps a language chosen in the address.
  const selftestHref = () => '?selftest' + (new URLSearchParams(location.search).has('lang') ? `&lang=${lang}` : '');
  show($('selftest-help'), () => t('selftest.help', { href: selftestHref() }), true);
  document.querySelectorAll('[data-lang]').forEach((a) => a.addEventListener('click', (e) => {
    e.preventDefault();
    setLang(a.dataset.lang);
  }));
  onLangChange(() => {
    if (state.last) drawMaps(state.last);
    explainSelected();
    if (train.init) drawLoss();
    if (state.w.length) buildFilters();
    redrawDigits();
  });
}

async function main() {
  setupLanguage();
  try {
    await init();
  } catch (e) {
    fail('fail.wasm', e);
    return;
  }
  window.wgconv.timings.wasmMs = performance.now() - t0;
  setupInput(); setupFilters(); setupMaps(); setupTraining();
  setupGrad({ train, trainSteps });
  $('check-btn').addEventListener('click', check);
  state.x.set(wg.notebook_image());
  state.w = Float32Array.from(wg.notebook_filters());
  buildFilters();
  drawInput();
  // The reference's maps first (milliseconds), the GPU's once its kernels are compiled.
  state.opening = true;
  show($('status'), () => t('status.opening'));
  await update();
  const opened = performance.now();
  await openGpu();
  window.wgconv.timings.gpuOpenMs = performance.now() - opened;
  state.opening = false;
  if (!state.gpu) show($('status'), () => t('status.cpu'));
  await update();
  // The GPU's first maps came with the forward kernel alone compiled: the rest now, behind them.
  if (state.gpu) {
    const compiling = performance.now();
    try { wg.compile_kernels(); } catch (e) { window.wgconv.errors.push(errText(e)); }
    window.wgconv.timings.compileCallMs = performance.now() - compiling;
  }
  await trainInit();
  // Section 5 (web/www/digits.js), with this file's drawing of filters and maps.
  await setupDigits(wg, { paint, diverging, gray, drawFilterCanvas, errText, notebookFilters: () => wg.notebook_filters() }, state.gpu);
  window.wgconv.ready = true;
  document.body.dataset.ready = 'true';
  if (params.has('selftest')) await runSelftest();
}

main();
