// Section 2b, one weight's gradient explained: pick a weight of the student (section 4's
// teacher/student task), press Step, and the step's own values spell out ∂L/∂w¹ᵢ,ⱼ. Every
// number comes from web/src/grad.rs (grad_step runs the step and reads the trainer's buffers
// back; grad_explain spells out one weight of that step). app.js calls setupGrad once.
import * as wg from './pkg/wgconv_web.js';
import { t, show, onLangChange, wasmMessage } from './i18n.js';

const $ = (id) => document.getElementById(id);
const SUP = ['¹', '²'];
const SUB = (n) => String(n).split('').map((d) => '₀₁₂₃₄₅₆₇₈₉'[d]).join('');
const minus = (s) => s.replace(/-/g, '−');
// Gradients are small: 6 significant digits in scientific notation.
const g6 = (v) => (v === 0 ? '0' : minus(v.toExponential(5)));
const e2 = (v) => (v === 0 ? '0' : minus(v.toExponential(2)));
const f6 = (v) => (v < 0 ? '−' : '') + Math.abs(v).toFixed(6);
// A value in parentheses when negative, for the sums spelled out: + (−1.2e−3).
const paren = (s, v) => (v < 0 ? `(${s})` : s);
// An f32 setting (lr, μ) as typed: 0.9, not 0.8999999761581421.
const f32 = (v) => String(Number(v.toPrecision(7)));

// The colour of a cut element (z ≤ 0, so dz = 0 by the ReLU): the tests read it back.
export const CUT_RGB = [176, 176, 176];
const CELL = 7;

function diverging(v, m) {
  const a = m > 0 ? Math.max(-1, Math.min(1, v / m)) : 0;
  if (a >= 0) return [255, Math.round(255 * (1 - a)), Math.round(255 * (1 - a))];
  return [Math.round(255 * (1 + a)), Math.round(255 * (1 + a)), 255];
}

function paint(canvas, rows, cols, colour) {
  canvas.width = cols * CELL; canvas.height = rows * CELL;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(cols, rows);
  for (let i = 0; i < rows * cols; i++) img.data.set([...colour(i), 255], 4 * i);
  const off = new OffscreenCanvas(cols, rows);
  off.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, cols * CELL, rows * CELL);
  return ctx;
}

const g = {
  sel: { k: 0, i: 0, j: 0 },
  w: null,          // the student's weights as last shown (50)
  stepped: false,   // a step of this section has been recorded
  ex: null,         // the explanation shown (grad_explain's JSON)
  error: null,
};

let ctx = null; // { train, trainSteps } from app.js

// The student's two 5×5 filters as buttons: a click picks the weight.
function buildGrid() {
  const box = $('grad-filters');
  box.replaceChildren();
  const w = g.w || new Float32Array(50);
  for (let k = 0; k < 2; k++) {
    const table = document.createElement('table');
    const cap = table.createCaption();
    cap.textContent = t('grad.grid', { sup: SUP[k] });
    for (let i = 0; i < 5; i++) {
      const tr = table.insertRow();
      for (let j = 0; j < 5; j++) {
        const td = tr.insertCell();
        const b = document.createElement('button');
        b.type = 'button';
        const v = w[k * 25 + i * 5 + j];
        b.textContent = (v < 0 ? '−' : '+') + Math.abs(v).toFixed(3);
        b.dataset.k = k; b.dataset.i = i; b.dataset.j = j;
        b.id = `grad-w-${k}-${i}-${j}`;
        const on = g.sel.k === k && g.sel.i === i && g.sel.j === j;
        b.setAttribute('aria-pressed', String(on));
        b.setAttribute('aria-label', t('grad.cell', { sup: SUP[k], i: i + 1, j: j + 1, v: b.textContent }));
        b.addEventListener('click', () => pick(k, i, j));
        td.append(b);
      }
    }
    box.append(table);
  }
}

function pick(k, i, j) {
  g.sel = { k, i, j };
  for (const b of document.querySelectorAll('#grad-filters button')) {
    b.setAttribute('aria-pressed', String(b.id === `grad-w-${k}-${i}-${j}`));
  }
  explain();
}

async function step() {
  if (!ctx || !ctx.train.init) return;
  const btn = $('grad-step-btn');
  btn.disabled = true;
  show($('grad-status'), () => t('grad.running'));
  // A run of section 4 holds the trainer a chunk at a time: this step goes in between two chunks.
  for (let waited = 0; ctx.train.busy && waited < 10000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  try {
    const ok = await ctx.trainSteps(1, () => wg.grad_step());
    if (ok) { g.stepped = true; g.error = null; }
  } finally { btn.disabled = false; }
  explain();
}

// The student's weights changed (a step, a reset): the grid shows them.
// The grid's buttons are updated in place (a run of section 4 calls this every chunk; focus stays).
function onStudent(w) {
  g.w = Float32Array.from(w);
  const buttons = document.querySelectorAll('#grad-filters button');
  if (buttons.length !== 50) { buildGrid(); } else {
    for (const b of buttons) {
      const [k, i, j] = [b.dataset.k, b.dataset.i, b.dataset.j].map(Number);
      const v = g.w[k * 25 + i * 5 + j];
      b.textContent = (v < 0 ? '−' : '+') + Math.abs(v).toFixed(3);
      b.setAttribute('aria-label', t('grad.cell', { sup: SUP[k], i: i + 1, j: j + 1, v: b.textContent }));
    }
  }
  if (g.ex) showStepOf(g.ex);
}

function showStepOf(ex) {
  show($('grad-status'), () => t('grad.stepof', { step: ex.step + 1, now: ctx.train.steps,
    source: t(ex.source === 'gpu' ? 'grad.source.gpu' : 'grad.source.cpu') }));
}

function explain() {
  const box = $('grad-explanation');
  const status = $('grad-status');
  if (!g.stepped) {
    g.ex = null; window.wgconv.grad = null;
    show(status, () => t('grad.none'));
    box.replaceChildren();
    return;
  }
  let ex;
  try {
    ex = JSON.parse(wg.grad_explain(g.sel.k, g.sel.i, g.sel.j));
  } catch (e) {
    const msg = e && e.message ? e.message : String(e);
    show(status, () => wasmMessage(msg));
    return;
  }
  g.ex = ex;
  window.wgconv.grad = ex;
  render(ex);
}

function render(ex) {
  const box = $('grad-explanation');
  const { k, i, j } = ex;
  const sup = SUP[k], I = i + 1, J = j + 1;
  const wname = `w${sup}${SUB(I)},${SUB(J)}`;
  const tw = ex.twin;
  showStepOf(ex);

  // The maps: dz of filter k and the window of x, one pair per image of the batch.
  const npq = ex.p * ex.q;
  let m = 0; for (const v of ex.dz) m = Math.max(m, Math.abs(v));
  let xm = 0; for (const v of ex.window) xm = Math.max(xm, Math.abs(v));
  const figs = [];
  for (let n = 0; n < ex.n; n++) {
    figs.push(`<figure><canvas id="grad-dz-${n}" class="gmap"></canvas><canvas id="grad-x-${n}" class="gmap"></canvas>`
      + `<figcaption>${t('grad.img', { n: n + 1 })}</figcaption></figure>`);
  }
  const top = ex.top.map((e) => `<tr><td>${e.n + 1}</td><td>${e.p + 1}</td><td>${e.q + 1}</td><td>${g6(e.dz)}</td>`
    + `<td>${(e.x < 0 ? '−' : '') + Math.abs(e.x).toFixed(4)}</td><td>${g6(e.term)}</td></tr>`).join('');
  const more = ex.terms - ex.top.length;
  const spelled = ex.top.map((e, a) => (a === 0 ? g6(e.term) : `+ ${paren(g6(e.term), e.term)}`)).join(' ');
  const vs = (what, gpu, twin, bound, abs) => {
    if (!tw) return '';
    const err = Math.abs(gpu - twin), ratio = bound > 0 ? err / bound : Infinity;
    return t('grad.vs', { what, gpu: g6(gpu), twin: minus(twin.toExponential(9)), err: e2(err), bound: e2(bound), abs: e2(abs),
      ratio: `<span class="${ratio <= 1 ? 'ok' : 'bad'}">${t('explain.ratio', { r: e2(ratio) })}</span>` });
  };
  const lossLine = t('grad.loss', { l: minus(ex.loss.toExponential(6)) })
    + (tw ? ' ' + t('grad.loss.twin', { twin: minus(tw.loss.toExponential(9)), err: e2(Math.abs(ex.loss - tw.loss)), bound: e2(tw.loss_bound) }) : '');
  // The update: with momentum v ← μ·v + g, w ← w − lr·v (torch.optim.SGD); without, w ← w − lr·g.
  const mom = ex.momentum !== 0;
  const sgd = [];
  sgd.push(`lr = ${f32(ex.lr)}` + (mom ? `, μ = ${f32(ex.momentum)}` : '') + (ex.weight_decay ? `, λ = ${f32(ex.weight_decay)}` : ''));
  const gname = `g = ∂L/∂${wname}`;
  if (mom) {
    sgd.push(`v ← μ·v + g = ${f32(ex.momentum)}·${paren(g6(ex.v_before), ex.v_before)} + ${paren(g6(ex.dw), ex.dw)} = <span id="grad-v-after">${g6(ex.v_after)}</span>`);
    sgd.push(`${wname} ← ${wname} − lr·v = ${f6(ex.w_before)} − ${f32(ex.lr)}·${paren(g6(ex.v_after), ex.v_after)} = <span id="grad-w-after">${f6(ex.w_after)}</span>`);
  } else {
    sgd.push(`${wname} ← ${wname} − lr·g = ${f6(ex.w_before)} − ${f32(ex.lr)}·${paren(g6(ex.dw), ex.dw)} = <span id="grad-w-after">${f6(ex.w_after)}</span>`);
  }
  if (tw) {
    const err = Math.abs(ex.w_after - tw.w_after), ratio = err / tw.w_bound;
    sgd.push(t('grad.sgd.twin', { twin: minus(tw.w_after.toFixed(9)), err: e2(err), bound: e2(tw.w_bound),
      ratio: `<span class="${ratio <= 1 ? 'ok' : 'bad'}">${t('explain.ratio', { r: e2(ratio) })}</span>` }));
  }
  box.innerHTML = `
    <p class="sum" id="grad-loss">${lossLine}</p>
    <p class="help">${t('grad.maps', { sup, i: I, j: J, i1: I + ex.p - 1, j1: J + ex.q - 1 })}</p>
    <div class="gmaps">${figs.join('')}</div>
    <p class="sum" id="grad-formula">∂L/∂${wname} = Σₙ Σ_p Σ_q dz${sup}ₙ,p,q · xₙ,p+${I - 1},q+${J - 1}
  = ${spelled}
  ${t('grad.more', { n: more, cut: ex.cut })}
  = <span id="grad-dw" data-value="${ex.dw}">${g6(ex.dw)}</span> ${t(ex.source === 'gpu' ? 'grad.gpu.gpu' : 'grad.gpu.cpu')}</p>
    <table class="terms" id="grad-top"><caption>${t('grad.top', { n: ex.top.length, total: ex.terms })}</caption>
      <tr><th>n</th><th>p</th><th>q</th><th>dz${sup}ₙ,p,q</th><th>xₙ,p+${I - 1},q+${J - 1}</th><th>${t('grad.term')}</th></tr>${top}</table>
    <p class="sum">${tw ? vs(`∂L/∂${wname}`, ex.dw, tw.dw, tw.dw_bound, tw.dw_abs) : t('grad.cpuonly')}
∂L/∂b${SUB(k + 1)} = Σₙ Σ_p Σ_q dz${sup}ₙ,p,q = <span id="grad-db">${g6(ex.db)}</span>${tw ? '\n' + vs(`∂L/∂b${SUB(k + 1)}`, ex.db, tw.db, tw.db_bound, tw.db_abs) : ''}</p>
    ${tw ? `<p class="help">${t('grad.twin.note')}</p>` : ''}
    <h3>${t('grad.sgd.h', { w: wname })}</h3>
    <p class="sum" id="grad-sgd">${gname} = ${g6(ex.dw)}\n${sgd.join('\n')}</p>`;
  // Paint the maps; the top terms outlined on dz.
  for (let n = 0; n < ex.n; n++) {
    const off = n * npq;
    const dctx = paint($(`grad-dz-${n}`), ex.p, ex.q, (c) => (ex.y[off + c] <= 0 ? CUT_RGB : diverging(ex.dz[off + c], m)));
    dctx.lineWidth = 2; dctx.strokeStyle = '#1b1b1f';
    for (const e of ex.top) if (e.n === n) dctx.strokeRect(e.q * CELL + 1, e.p * CELL + 1, CELL - 2, CELL - 2);
    paint($(`grad-x-${n}`), ex.p, ex.q, (c) => diverging(ex.window[off + c], xm));
    $(`grad-dz-${n}`).setAttribute('aria-label', t('grad.dz.label', { sup, n: n + 1 }));
    $(`grad-x-${n}`).setAttribute('aria-label', t('grad.x.label', { n: n + 1, i: I, j: J }));
    $(`grad-dz-${n}`).setAttribute('role', 'img');
    $(`grad-x-${n}`).setAttribute('role', 'img');
  }
  box.dataset.k = k; box.dataset.i = i; box.dataset.j = j; box.dataset.step = ex.step;
}

export function setupGrad(c) {
  ctx = c;
  ctx.train.onStudent = onStudent;
  $('grad-step-btn').addEventListener('click', step);
  buildGrid();
  explain();
  onLangChange(() => { buildGrid(); explain(); });
}
