// Drives the MCP example with the official TypeScript SDK
// (`@modelcontextprotocol/sdk`, its `StreamableHTTPClientTransport`):
// `node mcp_sdk.mjs <url of /mcp> <check>`. The last line printed is JSON of
// what was seen, which the Rust test asserts on.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { readFileSync } from "node:fs";

const sdk = JSON.parse(
  readFileSync(new URL("./node_modules/@modelcontextprotocol/sdk/package.json", import.meta.url)),
).version;
const [url, check] = process.argv.slice(2);

async function connect(options = {}) {
  const client = new Client({ name: "justsse-tests", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    reconnectionOptions: {
      initialReconnectionDelay: 50,
      maxReconnectionDelay: 500,
      reconnectionDelayGrowFactor: 1.5,
      maxRetries: 5,
    },
    ...options,
  });
  await client.connect(transport);
  return { client, transport };
}

const text = (result) => result.content[0].text;

async function codeOf(promise) {
  try {
    const result = await promise;
    return result.isError ? "isError" : "no error";
  } catch (err) {
    return err.code;
  }
}

// Everything a client does in one session.
async function tour() {
  const { client, transport } = await connect();
  const seen = { sdk, protocol: transport.protocolVersion, session: Boolean(transport.sessionId) };
  seen.server = client.getServerVersion()?.name;
  seen.tools = (await client.listTools()).tools.map((tool) => tool.name);
  seen.echo = text(await client.callTool({ name: "echo", arguments: { text: "hello, mcp" } }));
  const progress = [];
  const countdown = await client.callTool(
    { name: "countdown", arguments: { from: 3, delay_ms: 20 } },
    undefined,
    { onprogress: (p) => progress.push([p.progress, p.total, p.message]) },
  );
  seen.countdown = text(countdown);
  seen.progress = progress;
  seen.resources = (await client.listResources()).resources.map((r) => r.uri);
  const info = await client.readResource({ uri: "info://server" });
  seen.info = JSON.parse(info.contents[0].text).name;
  seen.unknown_tool = await codeOf(client.callTool({ name: "nope", arguments: {} }));
  seen.missing_resource = await codeOf(client.readResource({ uri: "note://missing" }));
  await client.ping();
  seen.ping = true;
  await transport.terminateSession();
  seen.ended = transport.sessionId === undefined;
  await client.close();
  return seen;
}

// A subscription heard on the session's own stream (GET), after another
// client writes the note.
async function subscribe() {
  const { client: listener } = await connect();
  let heard;
  const got = new Promise((resolve) => {
    listener.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      heard = n.params.uri;
      resolve();
    });
  });
  await listener.subscribeResource({ uri: "note://current" });
  const { client: writer } = await connect();
  // The listener's GET stream may still be opening: write until heard.
  const deadline = Date.now() + 10_000;
  let n = 0;
  let done = false;
  got.then(() => { done = true; });
  while (!done && Date.now() < deadline) {
    n += 1;
    await writer.callTool({ name: "write_note", arguments: { text: `note ${n}` } });
    await Promise.race([got, new Promise((r) => setTimeout(r, 500))]);
  }
  await writer.close();
  await listener.close();
  return { heard };
}

// A countdown whose stream the server cuts (hold): the SDK resumes it with
// GET and Last-Event-ID; every step arrives once, in order.
async function resume() {
  const { client } = await connect();
  const progress = [];
  const result = await client.callTool(
    { name: "countdown", arguments: { from: 6, delay_ms: 60 } },
    undefined,
    { onprogress: (p) => progress.push(p.progress), timeout: 20_000 },
  );
  await client.close();
  return { result: text(result), progress };
}

// A countdown the client aborts: the SDK sends notifications/cancelled.
async function cancel() {
  const { client } = await connect();
  const abort = new AbortController();
  setTimeout(() => abort.abort("enough"), 300);
  const outcome = await client
    .callTool({ name: "countdown", arguments: { from: 50, delay_ms: 50 } }, undefined, {
      signal: abort.signal,
    })
    .then(() => "finished", () => "aborted");
  const after = text(await client.callTool({ name: "echo", arguments: { text: "still here" } }));
  await client.close();
  return { outcome, after };
}

const checks = { tour, subscribe, resume, cancel };
if (!checks[check]) {
  throw new Error(`unknown check ${check}`);
}
console.log(JSON.stringify(await checks[check]()));
process.exit(0);
