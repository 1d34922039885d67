// A compressed event stream in a real browser: Chromium's own EventSource
// reads a ticker (tests/src/bin/ticker-server.rs) over zstd (what the server
// picks of what Chromium sends), gzip and brotli (the server told to take only
// that one):
// every event arrives, exactly and in order, each within a short time of being
// sent, so nothing sat in a compressor waiting for more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort, launch, target, waitForPort } from './support.mjs';

const binary = path.join(target, 'debug', 'ticker-server');
const TICKS = 40;

for (const [coding, env] of [['zstd', {}], ['gzip', { CODING: 'gzip' }], ['br', { CODING: 'br' }]]) {
  test(`compression: Chromium reads every event in time over ${coding}`, async () => {
    const port = await freePort();
    const server = spawn(binary, [], {
      env: { ...process.env, ...env, PORT: String(port), TICKS: String(TICKS) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    let browser;
    try {
      await waitForPort(port, Date.now() + 15000);
      browser = await launch();
      const page = await browser.newPage();
      const stream = page.waitForResponse((response) => response.url().endsWith('/ticks'));
      await page.goto(`http://127.0.0.1:${port}/`);
      const headers = (await stream).headers();
      assert.equal(headers['content-encoding'], coding);
      assert.equal(headers['vary'], 'accept-encoding');

      await page.waitForFunction(() => window.done === true, null, { timeout: 20000 });
      const received = await page.evaluate(() => window.received);
      assert.equal(received.length, TICKS);
      const delays = [];
      received.forEach((event, n) => {
        const data = JSON.parse(event.data);
        assert.equal(data.n, n);
        assert.equal(event.id, String(n));
        assert.equal(data.symbol, 'ACME');
        delays.push(event.at - data.sent);
      });
      // 50 ms apart: a compressor holding events back would deliver them in
      // bursts seconds late, or at the end.
      const worst = Math.max(...delays);
      assert.ok(worst < 1000, `the slowest event took ${worst} ms (${delays.join(', ')})`);
      console.log(`${coding}: ${TICKS} events, worst delay ${worst} ms`);
    } finally {
      await browser?.close();
      server.kill('SIGTERM');
    }
  });
}
