// The dashboard example in a real browser: headless Chromium from Debian
// (/usr/bin/chromium), driven by playwright-core; no browser is downloaded.
// It opens the page, waits for the build's progress bar to reach 100% and for
// the metrics chart to receive points, and keeps a screenshot in
// target/browser/dashboard.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, launch, target, waitForPort } from './support.mjs';

const binary = path.join(target, 'debug', 'dashboard');
const screenshot = path.join(target, 'browser', 'dashboard.png');

test('dashboard: the progress bar fills and the chart receives points', async () => {
  const port = await freePort();
  const server = spawn(binary, [], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  let browser;
  try {
    await waitForPort(port, Date.now() + 15000);
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
    await page.goto(`http://127.0.0.1:${port}/`);

    await page.waitForFunction(() => document.getElementById('progress-text').textContent === '100%', null, { timeout: 20000 });
    assert.equal(await page.textContent('#build-state'), 'done');
    const width = await page.$eval('#progress', (el) => el.style.width);
    assert.equal(width, '100%');

    await page.waitForFunction(() => Number(document.getElementById('chart').dataset.points) >= 3, null, { timeout: 20000 });
    const points = await page.$eval('#cpu-line', (el) => el.getAttribute('points').trim().split(' ').length);
    assert.ok(points >= 3, `chart has ${points} points`);
    const memory = Number(await page.textContent('#mem'));
    assert.ok(memory > 0, `memory reading ${memory}`);

    // The activity feed: both topics arrive on its one stream.
    await page.waitForFunction(
      () => document.querySelector('#activity .deploy') && document.querySelector('#activity .alert'),
      null,
      { timeout: 20000 },
    );

    // The feed's viewers: this page, counted by the hub's presence.
    await page.waitForFunction(() => Number(document.getElementById('viewers').textContent) >= 1, null, { timeout: 20000 });
    assert.equal(await page.textContent('#viewers'), '1', 'one page watches');

    // Let the bar's width transition finish before the picture.
    await page.waitForFunction(() => document.getAnimations().every((a) => a.playState === 'finished'), null, { timeout: 5000 });
    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
  } finally {
    await browser?.close();
    server.kill('SIGTERM');
  }
});
