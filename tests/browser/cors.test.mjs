// The tickets example behind CORS in a real browser: a page served from another
// origin (another port) creates a ticket with fetch (a preflighted request with
// credentials), opens an `EventSource` with `withCredentials` on the ticket's
// events (authenticated by a cookie), and sees a comment arrive live. A page
// from an origin not in CORS_ORIGINS is refused by the browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { freePort, launch, target, waitForPort } from './support.mjs';

const binary = path.join(target, 'debug', 'tickets');

// The page: everything it sees goes into #log, one line per step.
function page(api) {
  return `<!doctype html><meta charset="utf-8"><title>cors</title><pre id="log"></pre>
<script>
const log = (line) => { document.getElementById('log').textContent += line + '\\n'; };
(async () => {
  try {
    const created = await fetch('${api}/tickets', {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'from another origin' }),
    });
    const ticket = await created.json();
    log('created ' + created.status + ' ' + ticket.id);
    const events = new EventSource('${api}/tickets/' + ticket.id + '/events', { withCredentials: true });
    events.addEventListener('connected', () => {
      log('connected');
      fetch('${api}/tickets/' + ticket.id + '/comments', {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ body: 'hello across origins' }),
      });
    });
    events.addEventListener('comment', (event) => log('comment ' + JSON.parse(event.data).body));
    events.onerror = () => log('stream error');
  } catch (err) {
    log('refused ' + err);
  }
})();
</script>`;
}

function servePage(port, api) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(page(api));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

test('tickets: a page on a listed origin creates, streams and comments through CORS', async () => {
  const [apiPort, pagePort, strangerPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const api = `http://127.0.0.1:${apiPort}`;
  const server = spawn(binary, [], {
    env: { ...process.env, PORT: String(apiPort), CORS_ORIGINS: `http://127.0.0.1:${pagePort}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const pages = await servePage(pagePort, api);
  const strangers = await servePage(strangerPort, api);
  let browser;
  try {
    await waitForPort(apiPort, Date.now() + 15000);
    browser = await launch();
    const context = await browser.newContext();
    // The events route authenticates admins by this cookie (EventSource sends no headers).
    await context.addCookies([{ name: 'token', value: 'admin-token', url: api }]);

    const listed = await context.newPage();
    await listed.goto(`http://127.0.0.1:${pagePort}/`);
    await listed.waitForFunction(
      () => document.getElementById('log').textContent.includes('comment hello across origins'),
      null,
      { timeout: 20000 },
    );
    const lines = (await listed.textContent('#log')).trim().split('\n');
    assert.match(lines[0], /^created 201 \d+$/);
    assert.equal(lines[1], 'connected');
    assert.equal(lines[2], 'comment hello across origins');

    const stranger = await context.newPage();
    await stranger.goto(`http://127.0.0.1:${strangerPort}/`);
    await stranger.waitForFunction(
      () => document.getElementById('log').textContent.includes('refused'),
      null,
      { timeout: 20000 },
    );
    assert.ok(!(await stranger.textContent('#log')).includes('created'));
  } finally {
    await browser?.close();
    pages.close();
    strangers.close();
    server.kill('SIGTERM');
  }
});
