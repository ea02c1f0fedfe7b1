// Headless-Chromium tests of the page (web/test.sh runs them; see there for the set-up).
//
//   node tests/page.test.mjs --url http://127.0.0.1:PORT/ --demo DEMO.txt --shots DIR
//
// DEMO.txt is the stdout of `wgconv demo`: the explanation of c¹₁,₁ is compared with the numbers
// the CLI printed (parsed from its text, not recomputed here). Every check that fails is listed
// and the exit status is 1; a page that gets no WebGPU adapter fails, saying why.
import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { STRINGS, WASM_MESSAGES, pickLang } from '../www/i18n.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const URL_ = arg('url', 'http://127.0.0.1:8000/');
const DEMO = arg('demo');
const SHOTS = arg('shots', 'screenshots');
const CHROMIUM = arg('chromium', process.env.CHROMIUM || '/usr/bin/chromium');
fs.mkdirSync(SHOTS, { recursive: true });

const failures = [];
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s]`, ...a);
function check(ok, what, detail = '') {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` — ${detail}` : ''}`);
  if (!ok) failures.push(`${what}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

const WEBGPU_FLAGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan'];
async function launch(flags) {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...flags, '--window-size=1200,900'],
    protocolTimeout: 240000,
  });
}

async function open(browser, query = '', viewport = { width: 1200, height: 900 }) {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  // Nothing from the network: every request goes to the local server (or is a data: URL).
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(URL_) && !u.startsWith('data:')) failures.push(`a request left the local server: ${u}`);
  });
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warn') && !m.text().includes('willReadFrequently')) log(`  console.${m.type()}: ${m.text().split('\n')[0]}`);
  });
  await page.goto(URL_ + query);
  await page.waitForFunction(() => window.wgconv && (window.wgconv.ready || window.wgconv.errors.length), { timeout: 90000 });
  return page;
}

const shot = async (page, selector, name) => {
  const el = await page.$(selector);
  await el.screenshot({ path: path.join(SHOTS, name) });
};

// The four maps' pixels, as one array.
const mapPixels = (page) => page.evaluate(() => ['z0', 'z1', 'y0', 'y1'].flatMap((m) => {
  const c = document.getElementById(`map-${m}`);
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
}));
const settle = (page) => page.waitForFunction(() => {
  const w = window.wgconv; const n = w.forwards;
  return new Promise((r) => setTimeout(() => r(w.forwards === n), 400));
}, { timeout: 60000 });

// `wgconv demo`'s explanation of c¹₁,₁, from its printed text.
function parseDemo(text) {
  const num = (re) => { const m = text.match(re); if (!m) throw new Error(`wgconv demo output has no ${re}`); return Number(m[1]); };
  const products = [];
  const lines = text.split('\n');
  const head = lines.findIndex((l) => l.includes('w¹ᵢ,ⱼ · xᵢ,ⱼ') && l.includes('x (rows'));
  for (let i = head + 1; i <= head + 5; i++) {
    const cols = lines[i].trim().split(/\s+/).map(Number);
    if (cols.length !== 15) throw new Error(`wgconv demo: unexpected window row: ${lines[i]}`);
    products.push(...cols.slice(10));
  }
  return {
    sum: num(/sum of the 25 products\s*=\s*([+-][\d.]+)/),
    bias: num(/\+ b₁ \(([+-]?[\d.]+)\)/),
    zGpu: num(/GPU: z = ([+-][\d.]+)/),
    yGpu: num(/GPU: z = [+-][\d.]+, c¹₁,₁ = ([\d.]+)/),
    zCpu: num(/CPU \(f64\): z = ([+-][\d.]+)/),
    yCpu: num(/CPU \(f64\): z = [+-][\d.]+, c¹₁,₁ = ([\d.]+)/),
    products,
  };
}

// ---- the two languages: the tables, without a browser ----
// A run of 3 or more ASCII letters on the Japanese page is English left untranslated, unless it
// is one of these names (shorter runs, such as the notation x, w, b, f, ms, e-notation like
// 1.2e−3 or f64, never count). Text in <code> and <kbd> is what one types (commands, flags,
// ?selftest, key caps) and is not scanned; the adapter's own name, as the browser reports it, is
// allowed where the page prints it.
const ALLOWED = new Set([
  'WebGPU', 'GPU', 'CPU', 'WGSL', 'WebAssembly', 'wgconv', // the APIs, the processors, the tool
  'ReLU', 'max', 'SGD', // the notebook's notation f = ReLU, f(x) = max(0, x); the optimiser's name
  'English', // the language switch names each language in that language
  'Chrome', 'Edge', 'Safari', 'Firefox', 'Windows', 'Chromium', 'Linux', // the no-WebGPU banner's advice
]);
const englishWords = (text, extra = new Set()) =>
  [...new Set(text.match(/[A-Za-z]{3,}/g) || [])].filter((w) => !ALLOWED.has(w) && !extra.has(w));

function staticChecks() {
  const en = STRINGS.en, ja = STRINGS.ja;
  const missing = [...Object.keys(en).filter((k) => !(k in ja)).map((k) => `ja lacks ${k}`),
    ...Object.keys(ja).filter((k) => !(k in en)).map((k) => `en lacks ${k}`),
    ...Object.keys(en).filter((k) => k in ja && typeof en[k] !== typeof ja[k]).map((k) => `${k}: a ${typeof en[k]} in en, a ${typeof ja[k]} in ja`)];
  check(missing.length === 0, 'i18n: every text id is in both tables, of the same kind', missing.join('; '));
  // Every id the page names exists.
  const www = new URL('../www/', import.meta.url);
  const html = fs.readFileSync(new URL('index.html', www), 'utf8');
  const app = fs.readFileSync(new URL('app.js', www), 'utf8');
  const used = [...html.matchAll(/data-i18n="([^"]+)"/g)].map((m) => m[1])
    .concat([...html.matchAll(/data-i18n-attr="([^"]+)"/g)].flatMap((m) => m[1].split(';').map((p) => p.split(':')[1].trim())))
    .concat([...app.matchAll(/\bt\('([^']+)'/g)].map((m) => m[1]))
    .concat([...app.matchAll(/\b(?:sourceId|whereId)\b[^;]*/g)].flatMap((m) => [...m[0].matchAll(/'([a-z]+\.[a-z.]+)'/g)].map((x) => x[1])))
    .concat([...app.matchAll(/fail\('([^']+)'/g)].map((m) => m[1]));
  const unknown = [...new Set(used)].filter((k) => !(k in en));
  check(used.length > 60 && unknown.length === 0, 'i18n: every id used by index.html and app.js is in the tables', `${used.length} uses; unknown: ${unknown.join(', ')}`);
  // The Japanese table itself leaves no English (its markup and <code> aside).
  // Each function called with '' for the texts it embeds, 1 for its numbers.
  const sample = { name: '', msg: '', where: '', reason: '', href: '', map: 'z¹/c¹', sup: '¹', ratio: '', source: '', loss: null };
  const args = new Proxy(sample, { get: (o, k) => (k in o ? o[k] : 1) });
  const jaText = Object.values(ja).map((v) => (typeof v === 'function' ? v(args) : v)).join('\n')
    .replace(/<(code|kbd)>.*?<\/\1>/gs, '').replace(/<[^>]+>/g, '').replace(/&[a-z]+;/g, '');
  const left = englishWords(jaText);
  check(left.length === 0, 'i18n: the Japanese table has no English words', left.join(', '));
  // Every message web/src writes (JsError::new) has a Japanese pattern; the patterns' Japanese
  // leaves no English of its own.
  const src = fs.readdirSync(new URL('../src/', import.meta.url)).filter((f) => f.endsWith('.rs'))
    .map((f) => fs.readFileSync(new URL(`../src/${f}`, import.meta.url), 'utf8')).join('\n');
  const messages = [...src.matchAll(/JsError::new\(\s*(?:&format!\(\s*)?"((?:[^"\\]|\\.)*)"/g)]
    .map((m) => m[1].replace(/\{[a-z_]*\}/g, '1'));
  const untranslated = messages.filter((m) => !WASM_MESSAGES.some(([re]) => re.test(m)));
  check(messages.length >= 8 && untranslated.length === 0, 'i18n: every message web/src writes has a Japanese pattern',
    `${messages.length} messages; none for: ${untranslated.join(' | ')}`);
  const wasmJa = WASM_MESSAGES.map(([re, ja]) => ja(['', '1', '2', '3', '4', '5'])).join('\n');
  const leftWasm = englishWords(wasmJa);
  check(leftWasm.length === 0, 'i18n: the wasm messages\' Japanese has no English words', leftWasm.join(', '));
  // The language: ?lang=, else the first Japanese or English of navigator.languages, else English.
  const picks = [['?lang=ja', ['en-US'], 'ja'], ['?lang=en', ['ja-JP'], 'en'], ['', ['ja-JP', 'en'], 'ja'], ['', ['fr', 'en-GB', 'ja'], 'en'],
    ['', ['de'], 'en'], ['?lang=xx', ['ja'], 'ja'], ['?selftest&lang=ja', [], 'ja']];
  const wrong = picks.filter(([q, l, want]) => pickLang(q, l) !== want).map(([q, l, want]) => `${q} ${l} → ${pickLang(q, l)}, not ${want}`);
  check(wrong.length === 0, 'i18n: the language is chosen from ?lang=, then navigator.languages', wrong.join('; '));
}

// Every visible text node outside <code>/<kbd>, the title, and the title, aria-label, alt and
// placeholder attributes.
const pageText = (page) => page.evaluate(() => {
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || el.closest('code, kbd, script, style')) continue;
    if (!el.checkVisibility({ checkVisibilityCSS: true }) && el.tagName !== 'OPTION') continue;
    out.push(n.textContent);
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [alt], [placeholder]')) {
    for (const a of ['title', 'aria-label', 'alt', 'placeholder']) if (el.hasAttribute(a)) out.push(el.getAttribute(a));
  }
  return out.join('\n');
});
// The adapter's name as the browser gives it (the page prints it in the status line).
const adapterWords = (page) => page.evaluate(() => {
  const b = (window.wgconv.adapter || {}).browser || {};
  return [b.vendor, b.architecture, b.device, b.description].filter(Boolean).join(' ');
}).then((s) => new Set(s.match(/[A-Za-z]+/g) || []));

const SECTIONS = { forward: 'forward.h', explain: 'explain.h', check: 'check.h', learn: 'learn.h', 'selftest-section': 'selftest.h' };
// The page in `lang`: <html lang>, the title, every section with its heading in that language.
async function checkLanguage(page, lang, how) {
  const r = await page.evaluate((ids) => ({
    lang: document.documentElement.lang, title: document.title, h1: document.querySelector('h1').textContent,
    sections: Object.fromEntries(Object.keys(ids).map((id) => {
      const s = document.getElementById(id);
      const box = s && s.getBoundingClientRect();
      return [id, { h: s ? s.querySelector('h2').textContent : null, shown: !!box && box.height > 40 && s.checkVisibility() }];
    })),
    status: document.getElementById('status').textContent,
  }), SECTIONS);
  const T = STRINGS[lang];
  const bad = Object.entries(SECTIONS).filter(([id, key]) => !(r.sections[id].shown && r.sections[id].h === T[key])).map(([id]) => `${id}: ${JSON.stringify(r.sections[id])}`);
  check(r.lang === lang && r.title === T['doc.title'] && r.h1 === T.h1 && bad.length === 0,
    `${how}: the page is in ${lang === 'ja' ? 'Japanese' : 'English'}, every section shown`, `<html lang="${r.lang}">, h1 "${r.h1}"${bad.length ? `; ${bad.join('; ')}` : ''}`);
  return r;
}

// The page in each language, in the same state: GPU maps, the check run, one training step.
async function languagePage(browser, lang) {
  const page = await open(browser, `?lang=${lang}`);
  await page.waitForFunction(() => window.wgconv.firstGpuMapsMs !== null, { timeout: 60000 });
  await page.click('#check-btn');
  await page.waitForSelector('#check-over', { timeout: 30000 });
  await page.click('#step-btn');
  await page.waitForFunction(() => window.wgconv.train.steps === 1 && !window.wgconv.train.busy, { timeout: 30000 });
  await settle(page);
  await gradSection(page, lang);
  await checkLanguage(page, lang, `?lang=${lang}`);
  const words = englishWords(await pageText(page), await adapterWords(page));
  if (lang === 'ja') {
    check(words.length === 0, '?lang=ja: no English left on the page (text, title, aria-label, title attributes)', words.join(', '));
  } else {
    // The same scan finds the English page's words: it does see the page.
    check(words.length > 50, '?lang=en: the scan for English finds the English page\'s words', `${words.length} words`);
  }
  await page.screenshot({ path: path.join(SHOTS, `page_${lang}.png`), fullPage: true });
  // The header and section 1 (README's pictures).
  const bottom = await page.evaluate(() => { window.scrollTo(0, 0); return document.getElementById('forward').getBoundingClientRect().bottom + 16; });
  await page.screenshot({ path: path.join(SHOTS, `top_${lang}.png`), clip: { x: 0, y: 0, width: 1200, height: Math.ceil(bottom) } });
  await page.close();
}

// ---- section 2b, one weight's gradient (www/grad.js, src/grad.rs) ----
// Pick w¹₂,₃, press the section's Step, and check the numbers it shows against each other and
// against the f64 twin within the bounds it shows; then another weight, the same step.
const GRAD_CUT_RGB = [176, 176, 176]; // grad.js's CUT_RGB
async function gradSection(page, lang) {
  const T = STRINGS[lang];
  if (lang === 'en') {
    const src = fs.readFileSync(new URL('../www/grad.js', import.meta.url), 'utf8');
    const ids = [...new Set([...src.matchAll(/\bt\('([^']+)'/g)].map((m) => m[1]))];
    const unknown = ids.filter((k) => !(k in STRINGS.en) || !(k in STRINGS.ja));
    check(ids.length >= 20 && unknown.length === 0, 'gradient: every text id grad.js uses is in both tables', `${ids.length} ids; unknown: ${unknown.join(', ')}`);
  }
  const head = await page.evaluate(() => {
    const s = document.getElementById('grad');
    return { h: s.querySelector('h2').textContent, shown: s.checkVisibility() && s.getBoundingClientRect().height > 40,
      after: s.previousElementSibling && s.previousElementSibling.id };
  });
  check(head.h === T['grad.h'] && head.shown && head.after === 'explain', `?lang=${lang}: section 2b shown, in ${lang}, right after section 2`, JSON.stringify(head));
  const stepsBefore = await page.evaluate(() => window.wgconv.train.steps);
  await page.click('#grad-w-0-1-2');
  await page.click('#grad-step-btn');
  await page.waitForFunction((n) => window.wgconv.grad && window.wgconv.grad.step === n && window.wgconv.train.steps === n + 1
    && !window.wgconv.train.busy, { timeout: 30000 }, stepsBefore);
  const read = () => page.evaluate((cut) => {
    const ex = window.wgconv.grad;
    // Each dz map's cell centres: grey exactly where the step's y ≤ 0 (the ReLU cut).
    let greyWrong = 0, grey = 0;
    for (let n = 0; n < ex.n; n++) {
      const c = document.getElementById(`grad-dz-${n}`);
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const cell = c.width / ex.q;
      for (let p = 0; p < ex.p; p++) for (let q = 0; q < ex.q; q++) {
        const o = 4 * (Math.floor((p + 0.5) * cell) * c.width + Math.floor((q + 0.5) * cell));
        const isGrey = px[o] === cut[0] && px[o + 1] === cut[1] && px[o + 2] === cut[2];
        const isCut = ex.y[n * ex.p * ex.q + p * ex.q + q] <= 0;
        grey += isGrey; greyWrong += isGrey !== isCut;
      }
    }
    const sel = document.querySelector('#grad-filters button[aria-pressed=true]');
    return { ex, grey, greyWrong, formula: document.getElementById('grad-formula').textContent,
      text: document.getElementById('grad').textContent, loss: window.wgconv.train.losses.at(-1),
      steps: window.wgconv.train.steps, sel: sel && sel.id, selText: sel && sel.textContent,
      box: { ...document.getElementById('grad-explanation').dataset } };
  }, GRAD_CUT_RGB);
  const verify = (r, name) => {
    const { ex } = r; const tw = ex.twin;
    if (!check(ex.source === 'gpu' && tw, `${name}: the values are the GPU step's, with an f64 twin`, ex.source)) return;
    // The loss: the loss curve's last point, within its bound of the twin's.
    check(ex.loss === r.loss && Math.abs(ex.loss - tw.loss) <= tw.loss_bound && tw.loss_bound < 1e-3 * tw.loss,
      `${name}: L is the step's loss, within its bound of the f64 twin`, `L ${ex.loss}, twin ${tw.loss}, bound ${tw.loss_bound}`);
    // The sum spelled out: Σ dz·window over the maps shown is the twin's ∂L/∂w (f64, another order).
    let sum = 0, abs = 0, dbSum = 0, maxTerm = 0;
    for (let a = 0; a < ex.dz.length; a++) {
      const term = ex.dz[a] * ex.window[a];
      sum += term; abs += Math.abs(term); dbSum += ex.dz[a]; maxTerm = Math.max(maxTerm, Math.abs(term));
    }
    check(ex.dz.length === 1600 && Math.abs(sum - tw.dw) <= 1e-12 * abs && Math.abs(abs - tw.dw_abs) <= 1e-12 * abs,
      `${name}: Σ dz·x over the maps shown is the twin's ∂L/∂w`, `Σ ${sum}, twin ${tw.dw}`);
    const dwErr = Math.abs(ex.dw - tw.dw);
    check(dwErr <= tw.dw_bound && tw.dw_bound > 0 && tw.dw_bound <= 1601 * 2 ** -23 * tw.dw_abs * 1.0001 + 1e-30 && ex.dw !== 0,
      `${name}: GPU ∂L/∂w within the shown bound of the f64 twin`, `GPU ${ex.dw}, twin ${tw.dw}, error ${dwErr.toExponential(2)}, bound ${tw.dw_bound.toExponential(2)}`);
    const dbErr = Math.abs(ex.db - tw.db);
    check(Math.abs(dbSum - tw.db) <= 1e-12 * tw.db_abs && dbErr <= tw.db_bound && tw.db_bound <= 1601 * 2 ** -23 * tw.db_abs * 1.0001 + 1e-30,
      `${name}: GPU ∂L/∂b = Σ dz within the shown bound of the f64 twin`, `GPU ${ex.db}, twin ${tw.db}, Σ dz ${dbSum}, error ${dbErr.toExponential(2)}, bound ${tw.db_bound.toExponential(2)}`);
    // The ReLU: dz is 0 exactly where the step's y ≤ 0 (y > 0 exactly where z > 0), and the twin's
    // z agrees wherever |z| is over its forward bound; the map shows those zeros grey.
    let zeroWrong = 0, zWrong = 0, cut = 0;
    for (let a = 0; a < ex.dz.length; a++) {
      const isCut = ex.y[a] <= 0; cut += isCut;
      if (isCut !== (ex.dz[a] === 0)) zeroWrong++;
      if (Math.abs(tw.z[a]) > tw.z_bound[a] && (tw.z[a] > 0) === isCut) zWrong++;
    }
    check(zeroWrong === 0 && zWrong === 0 && cut === ex.cut && cut > 0 && cut < 1600,
      `${name}: dz is 0 exactly where z ≤ 0`, `${cut} cut, ${zeroWrong} dz not matching the mask, ${zWrong} against the twin's z`);
    check(r.grey === cut && r.greyWrong === 0, `${name}: the dz maps show the ReLU's zeros grey, and only those`, `${r.grey} grey cells, ${r.greyWrong} wrong`);
    // The largest terms: the 5 largest |dz·x|, each the product of the map values at its (n, p, q).
    const topOk = ex.top.length === 5 && ex.top.every((e, a) => {
      const o = e.n * 400 + e.p * 20 + e.q;
      return e.dz === ex.dz[o] && e.x === ex.window[o] && e.term === e.dz * e.x && (a === 0 || Math.abs(e.term) <= Math.abs(ex.top[a - 1].term));
    }) && Math.abs(ex.top[0].term) === maxTerm;
    check(topOk && r.formula.includes(T['grad.more']({ n: 1595, cut: ex.cut })), `${name}: the 5 largest terms spelled out, "+ 1595 more"`, JSON.stringify(ex.top[0]));
    // The update, w ← w − lr·v with v ← μ·v + g: within f32 rounding (two roundings each).
    const u = 2 ** -24;
    const v = ex.momentum ? ex.momentum * ex.v_before + ex.dw : ex.dw;
    const vOk = !ex.momentum || Math.abs(ex.v_after - v) <= 4 * u * (ex.momentum * Math.abs(ex.v_before) + Math.abs(ex.dw));
    const wAfter = ex.w_before - ex.lr * (ex.momentum ? ex.v_after : ex.dw);
    const wOk = Math.abs(ex.w_after - wAfter) <= 4 * u * (Math.abs(ex.w_before) + ex.lr * Math.abs(v));
    check(vOk && wOk && ex.w_after !== ex.w_before && ex.v_before !== 0 && Math.abs(ex.w_after - tw.w_after) <= tw.w_bound,
      `${name}: the SGD update reads w_after = w_before − lr·v, v = μ·v_before + g`,
      `w ${ex.w_before} → ${ex.w_after} (${wAfter} from the numbers shown), v ${ex.v_before} → ${ex.v_after}, lr ${ex.lr}, μ ${ex.momentum}`);
  };
  const a = await read();
  check(a.ex.k === 0 && a.ex.i === 1 && a.ex.j === 2 && a.sel === 'grad-w-0-1-2' && a.text.includes('w¹₂,₃'), `?lang=${lang}: clicking w¹₂,₃ explains it`, `${a.ex.k} ${a.ex.i} ${a.ex.j}, ${a.sel}`);
  const f3 = (w) => (w < 0 ? '−' : '+') + Math.abs(w).toFixed(3);
  check(a.selText === f3(a.ex.w_after), `?lang=${lang}: the grid shows the weight after the step`, `${a.selText} vs ${a.ex.w_after}`);
  verify(a, `?lang=${lang} w¹₂,₃`);
  // Another weight: the same step, another filter, another window.
  await page.click('#grad-w-1-3-0');
  await page.waitForFunction(() => window.wgconv.grad.k === 1, { timeout: 10000 });
  const b = await read();
  check(b.ex.step === a.ex.step && b.steps === a.steps && b.ex.i === 3 && b.ex.j === 0 && b.box.k === '1' && b.text.includes('w²₄,₁')
    && b.ex.dw !== a.ex.dw && b.ex.db !== a.ex.db && JSON.stringify(b.ex.dz) !== JSON.stringify(a.ex.dz)
    && JSON.stringify(b.ex.window) !== JSON.stringify(a.ex.window) && b.ex.loss === a.ex.loss,
  `?lang=${lang}: clicking w²₄,₁ changes the explanation (the same step)`, `∂L/∂w ${a.ex.dw} → ${b.ex.dw}`);
  verify(b, `?lang=${lang} w²₄,₁`);
  await page.click('#grad-w-0-1-2');
  await page.waitForFunction(() => window.wgconv.grad.k === 0, { timeout: 10000 });
  await shot(page, '#grad', `grad_${lang}.png`);
}

// Without WebGPU the section explains the f64 trainer's step, labelled, with no twin.
async function gradSectionCpu(page) {
  await page.click('#grad-w-1-0-4');
  await page.click('#grad-step-btn');
  await page.waitForFunction(() => window.wgconv.grad && !window.wgconv.train.busy, { timeout: 30000 });
  const r = await page.evaluate(() => ({ ex: window.wgconv.grad, text: document.getElementById('grad').textContent }));
  let sum = 0, abs = 0;
  r.ex.dz.forEach((d, a) => { sum += d * r.ex.window[a]; abs += Math.abs(d * r.ex.window[a]); });
  check(r.ex.source === 'cpu' && r.ex.twin === null && r.ex.k === 1 && r.ex.j === 4 && r.text.includes(STRINGS.en['grad.cpuonly'])
    && Math.abs(sum - r.ex.dw) <= 1e-12 * abs && r.ex.dw !== 0,
  'no WebGPU: section 2b explains the CPU reference\'s step, labelled', `source ${r.ex.source}, ∂L/∂w ${r.ex.dw}, Σ ${sum}`);
}

// ---- section 5, the digits: both languages, training to 90 %, drawing a digit ----
// The network trains with the page's defaults (K 4, batch 64, lr 0.05, momentum 0.9, seed 0:
// the same steps every run); the time to 90 % is printed and kept in digits.json. It must come
// within DIGITS_LIMIT_S of pressing Train: generous, for a loaded machine (the target, 15 s on a
// machine of its own, is measured, not asserted).
const DIGITS_LIMIT_S = 240;
async function digitsSection(browser) {
  for (const lang of ['en', 'ja']) {
    const page = await open(browser, `?lang=${lang}`);
    const r = await page.evaluate(() => ({ h: document.getElementById('h-digits').textContent,
      data: document.getElementById('digits-data').textContent, status: document.getElementById('digits-status').textContent,
      run: document.getElementById('digits-run').textContent, ready: !!(window.wgconv.digits && window.wgconv.digits.ready),
      filters: document.querySelectorAll('#digits-filters canvas').length }));
    check(r.h === STRINGS[lang]['digits.h'] && r.run === STRINGS[lang]['digits.train'] && r.ready && r.filters === 4
      && r.data.includes('4000') && r.data.includes('1000') && r.status.includes(lang === 'ja' ? 'ステップ 0' : 'step 0'),
    `digits (${lang}): the section renders, its network ready with 4 filters`, JSON.stringify(r).slice(0, 200));
    await shot(page, '#digits', `digits_${lang}.png`);
    await page.close();
  }
  const page = await open(browser, '?lang=en');
  const started = Date.now();
  await page.click('#digits-run');
  let reached = true;
  await page.waitForFunction(() => document.getElementById('digits-status').dataset.msTo90 !== '', { timeout: (DIGITS_LIMIT_S + 60) * 1000, polling: 200 })
    .catch(() => { reached = false; });
  const wall = (Date.now() - started) / 1000;
  await page.click('#digits-run');
  await page.waitForFunction(() => !window.wgconv.digits.busy && !window.wgconv.digits.running, { timeout: 60000 });
  const tr = await page.evaluate(() => { const d = window.wgconv.digits; const e = document.getElementById('digits-status');
    return { msTo90: Number(e.dataset.msTo90), stepsTo90: Number(e.dataset.stepsTo90), steps: d.steps, curve: d.curve, status: e.textContent }; });
  const best = Math.max(0, ...tr.curve.map((p) => p.acc));
  log(`digits: 90 % test accuracy ${reached ? `after ${(tr.msTo90 / 1000).toFixed(1)} s (page's clock; ${wall.toFixed(1)} s here), at step ${tr.stepsTo90} (${tr.stepsTo90 * 64} digits)` : 'not reached'}`);
  check(reached && best >= 0.9 && tr.msTo90 / 1000 <= DIGITS_LIMIT_S, `digits: the test accuracy reaches 90 % within ${DIGITS_LIMIT_S} s of pressing Train`,
    `${reached ? `${(tr.msTo90 / 1000).toFixed(1)} s, step ${tr.stepsTo90}` : `not within ${wall.toFixed(0)} s`}; best ${(100 * best).toFixed(1)} % by step ${tr.steps}`);
  fs.writeFileSync(path.join(SHOTS, 'digits.json'), JSON.stringify({ ms_to_90: tr.msTo90, steps_to_90: tr.stepsTo90, batch: 64, curve: tr.curve }));
  await shot(page, '#digits', 'digits_trained.png');
  // A "1" drawn with pointer events: ten probabilities that sum to 1, maps after conv and pool.
  await page.click('#digits-clear');
  const n = await page.evaluate(() => window.wgconv.digits.classified);
  const box = await (await page.$('#digits-draw')).boundingBox();
  await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.22);
  await page.mouse.down();
  for (let s = 1; s <= 14; s++) await page.mouse.move(box.x + box.width * (0.52 - 0.004 * s), box.y + box.height * (0.22 + 0.04 * s));
  await page.mouse.up();
  await page.waitForFunction((k) => window.wgconv.digits.classified > k && window.wgconv.digits.picture.some((v) => v > 0.9), { timeout: 30000 }, n);
  await new Promise((r) => setTimeout(r, 1500));
  const one = await page.evaluate(() => { const l = window.wgconv.digits.last; const e = document.getElementById('digits-prediction');
    return { probs: JSON.parse(e.dataset.probs), prediction: Number(e.dataset.prediction), conv: l.conv.length, pool: l.pool.length,
      convMax: Math.max(...l.conv), ink: Array.from(window.wgconv.digits.picture).filter((v) => v > 0.5).length }; });
  const sum = one.probs.reduce((a, b) => a + b, 0);
  check(one.probs.length === 10 && Math.abs(sum - 1) <= 1e-5 && one.probs.every((p) => p >= 0 && p <= 1) && one.ink > 20,
    'digits: a stroke drawn with the mouse is classified: ten probabilities summing to 1', `sum ${sum}, ${one.ink} inked pixels, prediction ${one.prediction} (p ${one.probs[one.prediction].toFixed(3)})`);
  check(one.conv === 4 * 400 && one.pool === 4 * 100 && one.convMax > 0, 'digits: the drawing\'s maps after the conv (4 × 20×20) and the pooling (4 × 10×10)', `${one.conv}, ${one.pool} values`);
  log(`digits: the drawn "1" is read as ${one.prediction} (${(100 * one.probs[one.prediction]).toFixed(1)} %)`);
  await shot(page, '#digits', 'digits_drawn.png');
  // Test digits copied onto the canvas, one of each label: the page reads most of them right,
  // and every one it is sure of (p ≥ 0.9) as its label.
  const reads = [];
  for (let i = 0; i < 10; i++) {
    const label = await page.evaluate((j) => window.wgconv.digitsTestDigit(j), i * 100 + 7);
    const r = await page.evaluate(() => { const e = document.getElementById('digits-prediction'); return { p: JSON.parse(e.dataset.probs), c: Number(e.dataset.prediction) }; });
    reads.push({ label, prediction: r.c, p: r.p[r.c] });
  }
  const right = reads.filter((r) => r.prediction === r.label).length;
  const sure = reads.filter((r) => r.p >= 0.9);
  check(right >= 7 && sure.length > 0 && sure.every((r) => r.prediction === r.label),
    'digits: test digits drawn from the data are read as their labels', `${right}/10 right; sure ones: ${sure.map((r) => `${r.label}→${r.prediction}`).join(' ')}`);
  await page.close();
}

async function main() {
  staticChecks();
  const browser = await launch(WEBGPU_FLAGS);
  try {
    // ---- 1. ?selftest ----
    {
      const page = await open(browser, '?selftest');
      const adapter = await page.evaluate(() => window.wgconv.adapter || null);
      if (!check(adapter !== null, 'the page gets a WebGPU adapter',
        adapter ? '' : `it says: ${await page.$eval('#nogpu', (e) => e.textContent.trim())} (flags: ${WEBGPU_FLAGS.join(' ')})`)) {
        return;
      }
      await page.waitForFunction(() => document.title.startsWith('selftest:'), { timeout: 180000 });
      const title = await page.title();
      const json = await page.$eval('#selftest', (e) => e.textContent);
      let r = {};
      try { r = JSON.parse(json); } catch (e) { check(false, 'the self-test writes JSON', json.slice(0, 200)); }
      check(title === 'selftest: pass' && r.pass === true, 'self-test passes',
        `title "${title}", ${r.cases_total} cases, ${r.cases_failed} failed, worst ${r.worst_ratio} of bound, final loss ${r.train && r.train.final_loss}, ${r.train && r.train.steps_per_s.toFixed(0)} steps/s${r.error ? `, error: ${r.error}` : ''}`);
      fs.writeFileSync(path.join(SHOTS, 'selftest.json'), json);
      await shot(page, '#selftest-section', 'selftest.png');
      await page.close();
    }

    // ---- 2. the page in English and in Japanese ----
    for (const lang of ['en', 'ja']) await languagePage(browser, lang);
    await digitsSection(browser);

    // ---- 3. the page, live ----
    const page = await open(browser, '?lang=en');
    await page.waitForFunction(() => window.wgconv.firstGpuMapsMs !== null, { timeout: 60000 });
    const t = await page.evaluate(() => ({ first: window.wgconv.firstMapsMs, gpu: window.wgconv.firstGpuMapsMs }));
    log(`first maps ${t.first.toFixed(0)} ms (CPU reference), first GPU maps ${t.gpu.toFixed(0)} ms`);
    check(t.first < 2000, 'first maps on screen within 2 s', `${t.first.toFixed(0)} ms (the CPU reference's, labelled; the GPU's at ${t.gpu.toFixed(0)} ms)`);
    check(await page.$eval('#source', (e) => e.textContent.includes('GPU')), 'the maps come from the GPU');
    await settle(page);
    await shot(page, '#forward', 'forward.png');

    // Drawing with synthetic pointer events changes the maps.
    const before = await mapPixels(page);
    const box = await (await page.$('#input')).boundingBox();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.75);
    await page.mouse.down();
    for (let s = 1; s <= 12; s++) await page.mouse.move(box.x + box.width * (0.2 + 0.05 * s), box.y + box.height * (0.75 - 0.03 * s));
    await page.mouse.up();
    await settle(page);
    const after = await mapPixels(page);
    let changed = 0; for (let i = 0; i < before.length; i += 4) if (before[i] !== after[i] || before[i + 1] !== after[i + 1] || before[i + 2] !== after[i + 2]) changed++;
    check(before.length === after.length && changed > 0, 'drawing on the input changes the maps', `${changed} of ${before.length / 4} map pixels changed`);
    await shot(page, '#forward', 'forward_drawn.png');

    // The keyboard draws too: focus the input, move, paint.
    {
      const n = await page.evaluate(() => window.wgconv.forwards);
      await page.focus('#input');
      for (const k of ['ArrowDown', 'ArrowDown', 'ArrowRight', 'ArrowRight', ' ']) await page.keyboard.press(k);
      await page.waitForFunction((k) => window.wgconv.forwards > k, { timeout: 30000 }, n);
      check(true, 'the keyboard paints on the input and the maps follow');
      await settle(page);
    }

    // An uploaded picture becomes the input (resized to 24×24, grayscale).
    {
      const px = await mapPixels(page);
      const n = await page.evaluate(() => window.wgconv.forwards);
      const input = await page.$('#upload');
      await input.uploadFile(new URL('../../docs/filters.png', import.meta.url).pathname);
      await page.waitForFunction((k) => window.wgconv.forwards > k, { timeout: 30000 }, n);
      await settle(page);
      const after2 = await mapPixels(page);
      check(px.some((v, i) => v !== after2[i]), 'an uploaded picture becomes the input');
    }

    // Kernel size, stride and padding: the formula, the parameter count and the maps follow.
    await page.select('#kernel', '3');
    await page.select('#stride', '2');
    await page.select('#padding', '1');
    await settle(page);
    const f = await page.evaluate(() => ({ formula: document.getElementById('formula').textContent,
      params: document.getElementById('params').textContent, p: window.wgconv.lastP, q: window.wgconv.lastQ,
      cells: document.querySelectorAll('#filters input').length }));
    check(f.formula.includes('⌊(24 + 2·1 − 3)/2⌋ + 1 = 12') && f.params.includes('3×3×2 = 18 weights + 2 biases = 20')
      && f.p === 12 && f.q === 12 && f.cells === 18, 'kernel 3, stride 2, padding 1: 12×12 maps, 20 parameters', `${f.formula} ${f.params} maps ${f.p}×${f.q}, ${f.cells} weight fields`);
    await page.click('#check-btn');
    await page.waitForFunction(() => document.getElementById('check-over') && document.getElementById('check-over').dataset.checked === '576', { timeout: 30000 });
    const c3 = await page.$eval('#check-over', (e) => Number(e.dataset.over));
    check(c3 === 0, 'kernel 3, stride 2, padding 1: GPU within bounds of the CPU', `${c3} over`);
    await shot(page, '#forward', 'forward_k3_s2_p1.png');
    await page.select('#kernel', '5');
    await page.select('#stride', '1');
    await page.select('#padding', '0');

    // Hovering c¹₁,₁ explains it with `wgconv demo`'s numbers.
    await page.click('[data-input="builtin"]');
    await page.click('[data-filters="edges"]');
    await settle(page);
    const mbox = await (await page.$('#map-y0')).boundingBox();
    await page.mouse.move(mbox.x + 3, mbox.y + 3);
    await page.waitForFunction(() => { const e = document.getElementById('explanation'); return e.dataset.k === '0' && e.dataset.p === '0' && e.dataset.q === '0' && document.getElementById('ex-zgpu'); }, { timeout: 10000 });
    const ex = await page.evaluate(() => {
      const v = (id) => Number(document.getElementById(id).dataset.value);
      return { sum: v('ex-sum'), bias: v('ex-bias'), zGpu: v('ex-zgpu'), yGpu: v('ex-ygpu'), zCpu: v('ex-zcpu'), yCpu: v('ex-ycpu'),
        ratio: v('ex-ratio'), products: JSON.parse(document.getElementById('explanation').dataset.products),
        text: document.getElementById('ex-lines').textContent };
    });
    if (DEMO) {
      const demo = parseDemo(fs.readFileSync(DEMO, 'utf8'));
      // The demo prints 6 decimals (products 4, b 4): equal within half a unit of the last
      // printed place, plus f32 rounding of values near 1 (2⁻²³).
      const close = (a, b, places) => Math.abs(a - b) <= 0.5 * 10 ** -places + 2 ** -23;
      for (const [key, places] of [['sum', 6], ['bias', 4], ['zGpu', 6], ['yGpu', 6], ['zCpu', 6], ['yCpu', 6]]) {
        check(close(ex[key], demo[key], places), `c¹₁,₁ explained: ${key} matches wgconv demo`, `page ${ex[key]}, demo ${demo[key]}`);
      }
      const bad = demo.products.map((d, i) => close(ex.products[i], d, 4) ? -1 : i).filter((i) => i >= 0);
      check(demo.products.length === 25 && ex.products.length === 25 && bad.length === 0, 'c¹₁,₁ explained: the 25 products match wgconv demo', bad.length ? `differ at ${bad}` : '');
      const printed = `sum of the 25 products = ${demo.sum >= 0 ? '+' : '−'}${Math.abs(demo.sum).toFixed(6)}`;
      check(ex.text.includes(printed), 'c¹₁,₁ explained: the sum reads as the demo prints it', printed);
    } else {
      check(false, 'c¹₁,₁ explained against wgconv demo', 'no --demo file given');
    }
    check(ex.ratio <= 1, 'c¹₁,₁: GPU within its bound of the CPU', `${ex.ratio} of the bound`);
    // Keyboard: arrow right on the focused map moves to c¹₁,₂.
    await page.focus('#map-y0');
    await page.keyboard.press('ArrowRight');
    const q = await page.$eval('#explanation', (e) => e.dataset.q);
    check(q === '1', 'the arrow keys move the explained element', `q = ${q}`);
    await page.keyboard.press('ArrowLeft');
    await shot(page, '#explain', 'explain.png');

    // The check button.
    await page.click('#check-btn');
    await page.waitForSelector('#check-over', { timeout: 30000 });
    const c = await page.$eval('#check-over', (e) => ({ over: Number(e.dataset.over), checked: Number(e.dataset.checked) }));
    check(c.over === 0 && c.checked === 1600, 'check: GPU against CPU, none over its bound', `${c.checked} compared, ${c.over} over`);
    await shot(page, '#check', 'check.png');

    // Training lowers the loss below 1e-6 within 400 steps.
    await page.click('#reset-btn');
    await page.waitForFunction(() => window.wgconv.train.steps === 0 && !window.wgconv.train.busy, { timeout: 30000 });
    const trainStart = Date.now();
    await page.click('#run-btn');
    await page.waitForFunction(() => window.wgconv.train.steps >= 400, { timeout: 120000, polling: 100 });
    await page.click('#run-btn');
    await page.waitForFunction(() => !window.wgconv.train.busy, { timeout: 30000 });
    const tr = await page.evaluate(() => ({ losses: window.wgconv.train.losses, sps: Number(document.getElementById('train-status').dataset.stepsPerS), status: document.getElementById('train-status').textContent }));
    const below = tr.losses.findIndex((l) => l < 1e-6);
    check(below >= 0 && below < 400, 'training lowers the loss below 1e-6 within 400 steps',
      `first below at step ${below}, loss ${tr.losses[0].toExponential(2)} → ${tr.losses[399].toExponential(2)}, ${tr.sps} steps/s (${((Date.now() - trainStart) / 1000).toFixed(1)} s wall)`);
    // A new learning rate continues from the student's weights.
    await page.$eval('#lr', (e) => { e.value = '0.1'; e.dispatchEvent(new Event('change')); });
    const stepsBefore = await page.evaluate(() => window.wgconv.train.steps);
    await page.click('#step-btn');
    await page.waitForFunction((n) => window.wgconv.train.steps === n + 1 && !window.wgconv.train.busy, { timeout: 30000 }, stepsBefore);
    const lrLoss = await page.evaluate(() => window.wgconv.train.losses.at(-1));
    check(lrLoss < 1e-6, 'a new learning rate continues from the trained student', `loss ${lrLoss.toExponential(2)} at step ${stepsBefore + 1}`);
    fs.writeFileSync(path.join(SHOTS, 'train.json'), JSON.stringify({ steps_per_s: tr.sps, loss_0: tr.losses[0], loss_399: tr.losses[399], first_below_1e6: below }));
    await shot(page, '#learn', 'learn.png');
    await page.screenshot({ path: path.join(SHOTS, 'page.png'), fullPage: true });
    fs.writeFileSync(path.join(SHOTS, 'timing.json'), JSON.stringify({ first_maps_ms: t.first, first_gpu_maps_ms: t.gpu }));
    await page.close();

    // Phone width: nothing wider than the screen.
    const phone = await open(browser, '', { width: 390, height: 844, isMobile: true, hasTouch: true });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, 'readable at phone width (no horizontal scrolling)', `${overflow} px too wide`);
    await phone.select('#kernel', '9');
    await settle(phone);
    const overflow9 = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow9 <= 0, 'phone width with 9×9 filters: the grids scroll inside their box, not the page', `${overflow9} px too wide`);
    await phone.select('#kernel', '5');
    await phone.screenshot({ path: path.join(SHOTS, 'phone.png'), fullPage: true });
    await phone.close();
  } finally {
    await browser.close();
  }

  // ---- 4. a browser that prefers Japanese, no ?lang ----
  const ja = await launch(['--headless=new', '--no-sandbox', '--lang=ja', '--accept-lang=ja']);
  try {
    const page = await open(ja, '?cpu');
    const langs = await page.evaluate(() => navigator.languages.join(','));
    if (check(langs.startsWith('ja'), 'Chromium with --lang=ja --accept-lang=ja prefers Japanese', `navigator.languages ${langs}`)) {
      await checkLanguage(page, 'ja', 'accept-language ja, no ?lang');
      const words = englishWords(await pageText(page));
      check(words.length === 0, 'accept-language ja, no WebGPU: no English left on the page (the banner too)', words.join(', '));
      await page.screenshot({ path: path.join(SHOTS, 'no_webgpu_ja.png'), fullPage: true });
    }
    // The switch: in place, into the address, and back.
    const texts = () => page.evaluate(() => ({ search: location.search, lang: document.documentElement.lang,
      formula: document.getElementById('formula').textContent, status: document.getElementById('status').textContent,
      train: document.getElementById('train-status').textContent, banner: document.getElementById('nogpu').textContent,
      help: document.getElementById('selftest-help').innerHTML }));
    await page.click('[data-lang="en"]');
    const en = await texts();
    check(en.search === '?cpu=&lang=en' && en.lang === 'en' && en.formula.startsWith('Output size') && en.status === STRINGS.en['status.cpu']
      && en.train.includes('step 0') && en.banner.includes('No WebGPU') && en.help.includes('?selftest&amp;lang=en'),
    'the switch to English changes the page in place and puts ?lang=en in the address', JSON.stringify(en).slice(0, 300));
    await page.click('[data-lang="ja"]');
    const back = await texts();
    check(back.search === '?cpu=&lang=ja' && back.lang === 'ja' && back.formula.startsWith('出力サイズ') && back.status === STRINGS.ja['status.cpu']
      && back.train.includes('ステップ 0'), 'and back to Japanese', JSON.stringify(back).slice(0, 300));
    await page.close();
    const asked = await open(ja, '?cpu&lang=en');
    await checkLanguage(asked, 'en', 'accept-language ja, ?lang=en');
    await asked.close();
  } finally {
    await ja.close();
  }

  // ---- 5. no WebGPU: Chromium without the flag ----
  const plain = await launch(['--headless=new', '--no-sandbox']);
  try {
    let page = await open(plain, '?lang=en');
    let how = 'Chromium without --enable-unsafe-webgpu';
    if (await page.evaluate(() => !!window.wgconv.adapter)) {
      // This Chromium has WebGPU on by default: turn it off from the page instead.
      await page.close();
      page = await open(plain, '?cpu&lang=en');
      how = 'Chromium with WebGPU, page opened with ?cpu';
    }
    const fb = await page.evaluate(() => ({
      banner: !document.getElementById('nogpu').hidden && document.getElementById('nogpu').textContent,
      source: document.getElementById('source').textContent, forwards: window.wgconv.forwards,
      explained: !!document.getElementById('ex-zcpu') && !document.getElementById('ex-zgpu'),
    }));
    check(!!fb.banner && /WebGPU/.test(fb.banner) && /CPU reference/.test(fb.banner), `no WebGPU (${how}): the page says so and what to do`, (fb.banner || '').slice(0, 90));
    check(fb.forwards > 0 && fb.source.includes('CPU reference') && fb.explained, 'no WebGPU: maps and explanation from the CPU reference, labelled');
    await page.screenshot({ path: path.join(SHOTS, 'no_webgpu.png') });
    await page.click('#step-btn');
    await page.waitForFunction(() => window.wgconv.train.steps === 1, { timeout: 30000 });
    check(true, 'no WebGPU: a training step runs on the CPU reference');
    await gradSectionCpu(page);
    await page.close();
  } finally {
    await plain.close();
  }
}

try {
  await main();
} catch (e) {
  failures.push(`the test itself stopped: ${e.stack || e}`);
}
log(`${failures.length ? `${failures.length} FAILED` : 'all passed'}; screenshots in ${SHOTS}`);
for (const f of failures) console.log(`  - ${f}`);
process.exit(failures.length ? 1 : 0);
