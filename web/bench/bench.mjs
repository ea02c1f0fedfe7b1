// Drives web/bench/index.html and the page (web/dist/index.html) in headless Chromium with
// WebGPU and prints one table. web/bench.sh serves web/ and runs it:
//
//   node bench/bench.mjs --url http://127.0.0.1:PORT/ [--chromium PATH] [--opens 3] [--k 2]
//                        [--forwards 200] [--specialize on|off] [--no-forward] [--no-digits]
//                        [--no-tfjs-digits] [--no-page-digits] [--json FILE]
//
// A benchmark run by hand, not a test: it fails only when a page cannot run.
import fs from 'node:fs';
import puppeteer from 'puppeteer-core';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const has = (name) => process.argv.includes(`--${name}`);
const URL_ = arg('url', 'http://127.0.0.1:8000/');
const CHROMIUM = arg('chromium', process.env.CHROMIUM || '/usr/bin/chromium');
const OPENS = Number(arg('opens', '3'));
const K = Number(arg('k', '2'));
const FORWARDS = Number(arg('forwards', '200'));
const SPECIALIZE = arg('specialize', null); // 'on' / 'off': digits_specialize (the page's default: on)
const FLAGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--window-size=1200,900'];
const say = (...a) => console.error('bench:', ...a);

// A fresh browser (and profile: no shader cache from an earlier run) for each measurement.
async function withBrowser(fn) {
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, protocolTimeout: 600000 });
  try { return await fn(browser); } finally { await browser.close(); }
}

async function openPage(browser, path) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  page.on('pageerror', (e) => say(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(URL_) && !u.startsWith('data:')) say(`a request left the local server: ${u}`);
  });
  await page.goto(URL_ + path);
  return page;
}

const median = (a) => { const s = [...a].sort((p, q) => p - q); return s[Math.floor(s.length / 2)]; };
const f = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));

const rows = [];
const row = (what, ours, tfjs, note = '') => rows.push([what, ours, tfjs, note]);
const out = {};

// 1. Page open → first GPU maps (section 1), in a fresh browser each time.
const opens = [];
for (let i = 0; i < OPENS; i++) {
  opens.push(await withBrowser(async (browser) => {
    const page = await openPage(browser, 'dist/index.html');
    await page.waitForFunction(() => window.wgconv && (window.wgconv.firstGpuMapsMs !== null || window.wgconv.errors.length), { timeout: 120000 });
    return page.evaluate(() => {
      const w = window.wgconv;
      return { gpu: w.timings.t0 + w.firstGpuMapsMs, cpu: w.timings.t0 + w.firstMapsMs, open: w.timings.gpuOpenMs, wasm: w.timings.t0 + w.timings.wasmMs };
    });
  }));
  say(`open ${i + 1}: first GPU maps at ${opens[i].gpu.toFixed(0)} ms`, JSON.stringify(opens[i]));
}
out.opens = opens;
if (OPENS) row(`page open → first GPU maps (ms, median of ${OPENS} fresh browsers)`, f(median(opens.map((o) => o.gpu)), 0), '', `each: ${opens.map((o) => o.gpu.toFixed(0)).join(', ')}; CPU maps at ${f(median(opens.map((o) => o.cpu)), 0)}, wasm ready at ${f(median(opens.map((o) => o.wasm)), 0)}`);

// 2. The live forward and 3. the digits' step, on the bench page.
await withBrowser(async (browser) => {
  const page = await openPage(browser, 'bench/index.html');
  await page.waitForFunction(() => document.title !== 'wgconv web bench', { timeout: 120000 });
  const err = await page.evaluate(() => window.benchError || null);
  if (err) throw new Error(err);
  const info = await page.evaluate(() => ({ a: window.bench.adapter.name, tf: window.bench.tfVersion, backend: window.bench.tfBackend }));
  say('adapter', JSON.stringify(info));
  out.info = info;
  const warm = 20;
  if (!has('no-forward')) {
  const ours = await page.evaluate((n, w) => window.bench.forwardOurs(n, w), FORWARDS, warm);
  const tfY = await page.evaluate((n, w) => window.bench.forwardTf(n, w, false), FORWARDS, warm);
  const tfZY = await page.evaluate((n, w) => window.bench.forwardTf(n, w, true), FORWARDS, warm);
  const ours2 = await page.evaluate((n, w) => window.bench.forwardOurs(n, w), FORWARDS, warm);
  out.forward = { ours, tfY, tfZY, ours2 };
  say('forward', JSON.stringify(out.forward));
  const oursMean = Math.min(ours.mean, ours2.mean);
  row(`live forward, ms a call (mean of ${FORWARDS}; ours: wg.forward as section 1 calls it, z and y read back)`, f(oursMean), f(tfY.mean),
    `tfjs: fused.conv2d(bias, relu) + data(); medians ${f(Math.min(ours.median, ours2.median))} / ${f(tfY.median)}; ours' check: ${ours.over} over bound`);
  row('live forward with z and y read back (ms a call)', f(oursMean), f(tfZY.mean), 'tfjs: conv2d + add → z, relu → y, both data()');
  }
  if (!has('no-digits')) {

  const spec = SPECIALIZE === null ? null : SPECIALIZE === 'on';
  const dOurs = await page.evaluate((k, s) => window.bench.digitsOurs(k, s), K, spec);
  say('digits ours', JSON.stringify(dOurs));
  const dTf = has('no-tfjs-digits') ? {} : await page.evaluate((k) => window.bench.digitsTf(k), K);
  say('digits tfjs', JSON.stringify(dTf));
  out.digits = { ours: dOurs, tfjs: dTf };
  row(`digits step, batch 64, K = ${K} (steps/s; from the least of 60- and 10-step calls)`, f(1000 / dOurs.step, 1), f(1000 / dTf.step, 1),
    `${f(dOurs.step)} / ${f(dTf.step)} ms a step${spec === null ? '' : `; specialize ${SPECIALIZE}`}`);
  row('digits: 10 steps + what follows, as the page calls them (ms, least of 5)', f(dOurs.per10, 0), f(dTf.per10, 0),
    `ours: + 1000 test digits classified, loss/filters read back (${f(dOurs.evalMs, 0)} ms of it); tfjs: + the loss read back`);
  row('digits: network set-up and first 10 steps (ms)', f(dOurs.initMs + dOurs.firstMs, 0), f(dTf.firstMs, 0), 'with the kernels\' first compiles');
  }
});

// 4. The page's section 5: pressing Train → 90 % test accuracy.
if (!has('no-page-digits')) {
  const r = await withBrowser(async (browser) => {
    const page = await openPage(browser, 'dist/index.html');
    await page.waitForFunction(() => window.wgconv && window.wgconv.ready && window.wgconv.digits && window.wgconv.digits.ready, { timeout: 300000 });
    const t = Date.now();
    await page.click('#digits-run');
    await page.waitForFunction(() => document.getElementById('digits-status').dataset.msTo90 !== '', { timeout: 400000, polling: 200 });
    const wall = Date.now() - t;
    return page.evaluate((wallMs) => { const e = document.getElementById('digits-status'); return { ms: Number(e.dataset.msTo90), steps: Number(e.dataset.stepsTo90), wallMs }; }, wall);
  });
  out.page90 = r;
  say('page digits', JSON.stringify(r));
  row('page section 5: Train → 90 % test accuracy (s)', f(r.ms / 1000, 1), '', `at step ${r.steps} (batch 64)`);
}

const head = ['', 'wgconv', `tfjs-webgpu ${out.info ? out.info.tf : ''}`, ''];
const table = [head, ['---', '---:', '---:', '---'], ...rows];
console.log(`Adapter: ${out.info ? out.info.a : '?'} (Chromium headless, WebGPU); tfjs backend ${out.info ? out.info.backend : '?'}`);
for (const r of table) console.log(`| ${r.join(' | ')} |`);
if (arg('json')) fs.writeFileSync(arg('json'), JSON.stringify(out, null, 1));
