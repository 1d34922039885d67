// Twenty live streams in one browser tab. Over HTTPS, Chromium speaks HTTP/2
// to the dashboard example and all twenty EventSources share one connection,
// so each receives its events. Over plain HTTP/1.1 the same page opens six
// connections to the origin, the browser's limit, and the other fourteen
// streams wait: the test asserts both, which proves the difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, launch, target, waitForPort } from './support.mjs';

const dashboard = path.join(target, 'debug', 'dashboard');
const makeCert = path.join(target, 'debug', 'test-cert');
const STREAMS = 20;

// Opens the streams from a page of the origin; each counts its messages.
async function openStreams(page, origin) {
  await page.goto(`${origin}/no-such-page`);
  await page.evaluate((count) => {
    window.received = new Array(count).fill(0);
    window.sources = [];
    for (let i = 0; i < count; i++) {
      const source = new EventSource('/metrics');
      source.addEventListener('metrics', () => { window.received[i] += 1; });
      window.sources.push(source);
    }
  }, STREAMS);
}

const counts = (page) => page.evaluate(() => window.received);

function start(env) {
  return spawn(dashboard, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

test('twenty EventSources over HTTPS share one HTTP/2 connection; over HTTP/1.1 six do and the rest stall', async () => {
  const certs = mkdtempSync(path.join(os.tmpdir(), 'justsse-certs-'));
  execFileSync(makeCert, [certs]);
  const [tlsPort, plainPort] = await Promise.all([freePort(), freePort()]);
  const secure = start({
    PORT: String(tlsPort),
    TLS_CERT: path.join(certs, 'cert.pem'),
    TLS_KEY: path.join(certs, 'key.pem'),
  });
  const plain = start({ PORT: String(plainPort) });
  let browser;
  try {
    await Promise.all([waitForPort(tlsPort, Date.now() + 15000), waitForPort(plainPort, Date.now() + 15000)]);
    browser = await launch();
    // The certificate is made for this test and trusted by no one.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });

    const overH2 = await context.newPage();
    await openStreams(overH2, `https://localhost:${tlsPort}`);
    await overH2.waitForFunction(
      () => window.received.every((n) => n >= 2),
      null,
      { timeout: 20000 },
    );
    assert.equal((await counts(overH2)).filter((n) => n >= 2).length, STREAMS);
    // The page's own request went over HTTP/2 (streams never finish, so they
    // have no timing entry of their own).
    const protocol = await overH2.evaluate(() => performance.getEntriesByType('resource')
      .concat(performance.getEntriesByType('navigation'))
      .map((entry) => entry.nextHopProtocol)
      .filter(Boolean));
    assert.ok(protocol.length > 0 && protocol.every((p) => p === 'h2'), `protocols: ${protocol}`);

    const overH1 = await context.newPage();
    await openStreams(overH1, `http://127.0.0.1:${plainPort}`);
    // Six streams get going...
    await overH1.waitForFunction(
      () => window.received.filter((n) => n >= 1).length >= 6,
      null,
      { timeout: 20000 },
    );
    // ...and while each of them receives three more events (three seconds of
    // the server's clock), none of the other fourteen receives anything.
    const first = await counts(overH1);
    await overH1.waitForFunction(
      (before) => window.received.every((n, i) => before[i] === 0 || n >= before[i] + 3),
      first,
      { timeout: 20000 },
    );
    const after = await counts(overH1);
    assert.equal(after.filter((n) => n > 0).length, 6, `messages per stream over HTTP/1.1: ${after}`);
  } finally {
    await browser?.close();
    secure.kill();
    plain.kill();
    rmSync(certs, { recursive: true, force: true });
  }
});
