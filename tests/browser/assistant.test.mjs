// The assistant example in a real browser through `@microsoft/fetch-event-source`
// (npm), as pages read model output: a background response started by a POST
// with a JSON body and headers, the connection dropped by the page after three
// deltas, and the rest resumed by a GET with `starting_after`: every delta once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launch, target, waitForPort } from './support.mjs';

const binary = path.join(target, 'debug', 'assistant');
const library = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'node_modules', '@microsoft', 'fetch-event-source', 'lib', 'esm',
);
const said = 'You said: alpha beta gamma delta epsilon zeta eta theta';

// The page: everything it sees goes into #log, one line per step.
const page = `<!doctype html><meta charset="utf-8"><title>assistant</title><pre id="log"></pre>
<script type="module">
import { fetchEventSource } from '/fes/index.js';
const log = (line) => { document.getElementById('log').textContent += line + '\\n'; };
const headers = { authorization: 'Bearer sk-browser' };
const deltas = [];
let id;
let last;
try {
  const first = new AbortController();
  await fetchEventSource('/v1/responses', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake-1', input: 'alpha beta gamma delta epsilon zeta eta theta', stream: true, background: true }),
    signal: first.signal,
    openWhenHidden: true,
    onmessage(message) {
      const data = JSON.parse(message.data);
      last = data.sequence_number;
      if (data.type === 'response.created') id = data.response.id;
      if (data.type === 'response.output_text.delta') {
        deltas.push(data.delta);
        if (deltas.length === 3) first.abort();
      }
    },
    onerror(err) { throw err; },
  });
  log('dropped after ' + last);
  await fetchEventSource('/v1/responses/' + id + '?stream=true&starting_after=' + last, {
    headers,
    openWhenHidden: true,
    onmessage(message) {
      const data = JSON.parse(message.data);
      if (data.sequence_number <= last) log('repeated ' + data.sequence_number);
      if (data.type === 'response.output_text.delta') deltas.push(data.delta);
    },
    onclose() {},
    onerror(err) { throw err; },
  });
  log('text ' + deltas.join(''));
} catch (err) {
  log('failed ' + err);
}
</script>`;

// Serves the page and the library's ES modules, and passes /v1 to the
// assistant: one origin, as a page and its API usually are.
function servePage(port, apiPort) {
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/v1/')) {
      const upstream = http.request(
        { host: '127.0.0.1', port: apiPort, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        },
      );
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
      return;
    }
    if (req.url.startsWith('/fes/')) {
      // The library imports './fetch' without an extension: add it.
      const name = path.basename(req.url).replace(/\.js$/, '') + '.js';
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(fs.readFileSync(path.join(library, name)));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(page);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

test('assistant: fetch-event-source POSTs a stream, drops it, and resumes the rest once', async () => {
  const [apiPort, pagePort] = await Promise.all([freePort(), freePort()]);
  const server = spawn(binary, [], {
    env: { ...process.env, PORT: String(apiPort), ASSISTANT_API_KEYS: 'sk-browser', ASSISTANT_PACE_MS: '40' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const pages = await servePage(pagePort, apiPort);
  let browser;
  try {
    await waitForPort(apiPort, Date.now() + 15000);
    browser = await launch();
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${pagePort}/`);
    await tab.waitForFunction(
      () => /^(text|failed) /m.test(document.getElementById('log').textContent),
      null,
      { timeout: 20000 },
    );
    const lines = (await tab.textContent('#log')).trim().split('\n');
    assert.match(lines[0], /^dropped after \d+$/);
    assert.equal(lines[1], `text ${said}`, lines.join('\n'));
    assert.equal(lines.length, 2, 'nothing repeated: ' + lines.join('\n'));
  } finally {
    await browser?.close();
    pages.close();
    server.kill('SIGTERM');
  }
});
