// The open door, closed: a real gateway on 127.0.0.1 refuses WebSocket upgrades from foreign
// Origins (cross-site WebSocket hijacking) and any request naming a foreign Host (DNS rebinding),
// with 403 before the WebSocket exists; allowed origins, its own origin and clients without an
// Origin (Node, the CLI) still connect. Also through `seglog serve --allow-origin/--allow-host`.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { SeglogClient } from '../../gateway/client/client.js';
import { startServe, stopServe } from '../helpers/gateway-process.js';
import { startGateway, type Harness } from './helpers.js';

const WAIT_MS = 5000;

/** One WebSocket upgrade with the given headers: 101 (the socket is closed again at once), or the refusal's status and body. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers, handshakeTimeout: WAIT_MS });
    ws.once('open', () => {
      ws.once('close', () => resolve({ status: 101, body: '' }));
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    ws.once('error', reject);
  });
}

/** A plain GET with the given headers. */
function get(port: number, pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, headers, timeout: WAIT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket class for SeglogClient that sends the given headers, as a browser page would send its Origin. */
function wsWithHeaders(headers: Record<string, string>): new (url: string) => WebSocket {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { perMessageDeflate: false, headers });
    }
  };
}

async function refusedCount(port: number, reason: string, request: string): Promise<number> {
  const text = (await get(port, '/metrics')).body;
  const m = new RegExp(`^seglog_refused_requests_total\\{reason="${reason}",request="${request}"\\} (\\d+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** Resolves once what the child printed (`seen`, fed by an earlier listener) matches; bounded. */
function stderrMatches(child: ChildProcess, seen: () => string, pattern: RegExp): Promise<void> {
  if (pattern.test(seen())) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.stderr!.off('data', onData);
      reject(new Error(`stderr never matched ${pattern}: ${seen()}`));
    }, WAIT_MS);
    const onData = (): void => {
      if (!pattern.test(seen())) return;
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      resolve();
    };
    child.stderr!.on('data', onData);
  });
}

async function withGateway(options: Parameters<typeof startGateway>[1], fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startGateway({}, options);
  try {
    await fn(h);
  } finally {
    await h.stop();
  }
}

test('a foreign Origin and Origin: null are refused with 403 before the WebSocket exists, and cannot list topics', async (t) => {
  await withGateway({}, async (h) => {
    const node = await h.connect();
    await node.createTopic('secret');
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${h.server.port + 1}`]) {
      const r = await upgrade(h.server.url, { Origin: origin });
      t.is(r.status, 403, origin);
      t.regex(r.body, /Origin .* is not allowed/, origin);
      // The same page through the client library: no connection, so no topic list.
      const error = await t.throwsAsync(SeglogClient.connect(h.server.url, { WebSocket: wsWithHeaders({ Origin: origin }) as never, reconnect: false, connectTimeoutMs: WAIT_MS }));
      t.is((error as { code?: string }).code, 'CONNECT_FAILED', origin);
    }
    t.is(h.server.sessions().length, 1, 'only the Node client got a session');
    t.is(await refusedCount(h.server.port, 'origin', 'upgrade'), 6);
    const refusals = h.logs.filter((l) => l.startsWith('refused WebSocket upgrade'));
    t.is(refusals.length, 6, 'one log line per refusal');
    t.regex(refusals[0]!, /from 127\.0\.0\.1:\d+: Origin "https:\/\/evil\.example" is not allowed/);
  });
});

test('the server\'s own origin, an allowed origin and no Origin at all connect and work', async (t) => {
  await withGateway({ allowOrigins: ['https://app.example.com'] }, async (h) => {
    const port = h.server.port;
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, 'https://app.example.com']) {
      const client = await SeglogClient.connect(h.server.url, { WebSocket: wsWithHeaders({ Origin: origin }) as never, reconnect: false, connectTimeoutMs: WAIT_MS });
      try {
        await client.createTopic(`from-${new URL(origin).hostname}-${new URL(origin).port || 'default'}`);
        t.true((await client.listTopics()).length >= 1, origin);
      } finally {
        await client.close();
      }
    }
    const plain = await h.connect(); // Node's ws sends no Origin
    t.is((await plain.listTopics()).length, 3);
    const evil = await upgrade(h.server.url, { Origin: 'https://evil.example' });
    t.is(evil.status, 403, 'allowing one origin does not open the door to others');
    t.is(await refusedCount(port, 'origin', 'upgrade'), 1);
  });
});

test('allowOrigins * lets any page connect, but the Host check still applies', async (t) => {
  await withGateway({ allowOrigins: ['*'] }, async (h) => {
    t.is((await upgrade(h.server.url, { Origin: 'null' })).status, 101);
    const rebound = await upgrade(h.server.url, { Origin: 'http://evil.example:1', Host: `evil.example:${h.server.port}` });
    t.is(rebound.status, 403);
  });
});

test('a foreign Host is refused on upgrades and on GET /metrics and /healthz (DNS rebinding)', async (t) => {
  await withGateway({}, async (h) => {
    const port = h.server.port;
    const foreign = { Host: `evil.example:${port}` };
    const up = await upgrade(h.server.url, foreign);
    t.is(up.status, 403);
    t.regex(up.body, /Host "evil\.example:\d+" is not this server's/);
    for (const p of ['/metrics', '/healthz', '/nowhere']) {
      const r = await get(port, p, foreign);
      t.is(r.status, 403, p);
      t.regex(r.type, /^text\/plain/);
      t.notRegex(r.body, /seglog_|"status"/, `${p} leaked nothing`);
    }
    // Our own names still work.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      t.is((await get(port, '/healthz', { Host: host })).status, 200, host);
    }
    t.is(await refusedCount(port, 'host', 'upgrade'), 1);
    t.is(await refusedCount(port, 'host', 'http'), 3);
    t.is(h.server.sessions().length, 0);
  });
});

test('allowHosts lets a listed name through, and only that one', async (t) => {
  await withGateway({ allowHosts: ['seglog.internal'] }, async (h) => {
    const port = h.server.port;
    t.is((await get(port, '/healthz', { Host: `seglog.internal:${port}` })).status, 200);
    t.is((await get(port, '/metrics', { Host: 'seglog.internal' })).status, 200, 'any port when the entry has none');
    t.is((await get(port, '/metrics', { Host: `other.internal:${port}` })).status, 403);
    const client = await SeglogClient.connect(h.server.url, { WebSocket: wsWithHeaders({ Host: `seglog.internal:${port}` }) as never, reconnect: false, connectTimeoutMs: WAIT_MS });
    try {
      await client.createTopic('through-allowed-host');
      t.deepEqual(await client.listTopics(), ['through-allowed-host']);
    } finally {
      await client.close();
    }
    // An allowed Host does not make its pages an allowed origin.
    const page = await upgrade(h.server.url, { Host: `seglog.internal:${port}`, Origin: `http://seglog.internal:${port}` });
    t.is(page.status, 403);
  });
});

test('bound to 0.0.0.0: an interface address and 0.0.0.0 are our own Host, another name is not', async (t) => {
  const address = Object.values(os.networkInterfaces())
    .flatMap((l) => l ?? [])
    .sort((a, b) => Number(a.internal) - Number(b.internal)) // a real interface if there is one
    .find((i) => i.family === 'IPv4')!.address;
  await withGateway({ host: '0.0.0.0', insecure: true }, async (h) => {
    const port = h.server.port;
    t.is((await get(port, '/healthz', { Host: `${address}:${port}` })).status, 200, address);
    t.is((await get(port, '/healthz', { Host: `0.0.0.0:${port}` })).status, 200, 'the URL the server prints');
    t.is((await get(port, '/healthz', { Host: `evil.example:${port}` })).status, 403);
    const page = await upgrade(`ws://127.0.0.1:${port}`, { Host: `${address}:${port}`, Origin: `http://${address}:${port}` });
    t.is(page.status, 101, 'a page the server itself serves on that address');
  });
});

test('seglog serve --allow-origin and --allow-host', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-door-'));
  const s = await startServe(dir, ['--allow-origin', 'https://app.example.com,http://localhost:3000', '--allow-host', 'seglog.internal']);
  try {
    const port = Number(new URL(s.url).port);
    t.is((await upgrade(s.url, { Origin: 'http://localhost:3000', Host: `seglog.internal:${port}` })).status, 101);
    t.is((await upgrade(s.url, { Origin: 'https://app.example.com' })).status, 101);
    t.is((await upgrade(s.url, { Origin: 'https://evil.example' })).status, 403);
    t.is((await get(port, '/metrics', { Host: `evil.example:${port}` })).status, 403);
    await stderrMatches(s.child, s.output, /refused WebSocket upgrade from 127\.0\.0\.1:\d+: Origin "https:\/\/evil\.example"/);
    await stderrMatches(s.child, s.output, /refused HTTP GET from 127\.0\.0\.1:\d+: Host "evil\.example:\d+"/);
    t.pass();
  } finally {
    await stopServe(s, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
