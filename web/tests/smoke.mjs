import puppeteer from 'puppeteer-core';
const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--window-size=1200,900'] });
const page = await browser.newPage();
await page.setViewport({ width: 1200, height: 900 });
page.on('console', (m) => console.log('console:', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
const url = 'http://127.0.0.1:8000/' + (process.argv[2] || '');
await page.goto(url);
try { await page.waitForFunction(() => window.wgconv && (window.wgconv.ready || window.wgconv.errors.length), { timeout: 60000 }); } catch (e) { console.log('timeout ready'); }
console.log(await page.evaluate(() => JSON.stringify({ t: window.wgconv.timings, g: window.wgconv.firstGpuMapsMs, st: document.getElementById('status').textContent, first: window.wgconv.firstMapsMs, errors: window.wgconv.errors, title: document.title })));
if ((process.argv[2] || '').includes('selftest')) {
  await page.waitForFunction(() => document.title.startsWith('selftest:'), { timeout: 240000 });
  console.log(await page.evaluate(() => document.getElementById('selftest').textContent));
}
await page.screenshot({ path: '/tmp/smoke.png', fullPage: true });
await browser.close();
