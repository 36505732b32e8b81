// seglog/client in a real browser, end to end: Debian's headless Chromium (driven by playwright-core)
// loads the browser bundle (dist/browser/seglog-client.js, built by `npm run build`) from a loopback
// HTTP server and talks to a real gateway over the browser's own WebSocket. Node clients and the
// engine's native decoder cross-check what the browser wrote, and the browser reads what Node wrote.
//
// Needs Chromium at /usr/bin/chromium (or SEGLOG_CHROMIUM). Without it every test here FAILS with
// a message saying so: a browser test that skips silently would prove nothing.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { partitionForKey } from '../../engine/format/partitioner.js';
import { batchCodec, CODEC_LZ4, decodeRecords } from '../../engine/record-batch.js';
import type { RecordInput } from '../../engine/types.js';
import type { ClientRecord } from '../../gateway/client/client.js';
import { startGateway, take, type Harness } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BUNDLE = path.resolve(here, '../../browser/seglog-client.js'); // dist/browser/
const CHROMIUM = process.env['SEGLOG_CHROMIUM'] ?? '/usr/bin/chromium';
// The flags that work on this kind of machine (closed network, running as root).
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LAUNCH_TIMEOUT_MS = 30_000;
const PAGE_LOAD_TIMEOUT_MS = 10_000;
const SCENARIO_TIMEOUT_MS = 20_000;

// --- records as JSON (they cross into the page and back) -----------------------------------------

type WireBytes = { text: string } | { hex: string } | null;
interface WireRecord {
  key: WireBytes;
  value: WireBytes;
  headers: Array<{ key: string; value: WireBytes }>;
  timestamp: number;
}
/** A record as the page reports it: bytes as hex. */
interface SeenRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Array<{ key: string; value: string | null }>;
}

const hexOf = (b: WireBytes): string | null => (b === null ? null : 'hex' in b ? b.hex : Buffer.from(b.text, 'utf8').toString('hex'));
const bytesOf = (b: WireBytes): string | Uint8Array | null => (b === null ? null : 'hex' in b ? new Uint8Array(Buffer.from(b.hex, 'hex')) : b.text);
const hexOrNull = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));

/** Deterministic records covering the awkward cases: null/empty/binary/unicode/compressible values, null keys, repeated and null headers. */
function makeRecords(n: number, tag: string): WireRecord[] {
  let seed = 0x2545f491;
  const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  return Array.from({ length: n }, (_, i) => {
    const values: WireBytes[] = [
      { text: `${tag} #${i} héllo wörld 🚀 日本語 ∑ \u0000 end` },
      { hex: Buffer.from(Array.from({ length: 256 }, (_, b) => (b + i) & 0xff)).toString('hex') },
      { text: '' },
      null,
      { text: `compressible ${tag} ${i} `.repeat(300) },
      { hex: Buffer.from(Array.from({ length: 300 }, random)).toString('hex') },
    ];
    const headers: WireRecord['headers'] =
      i % 3 === 0
        ? []
        : [
            { key: 'trace-id', value: { text: `t-${i}` } },
            { key: 'ünïcode-🔑', value: { hex: '00ff7f80' } },
            { key: 'nothing', value: null },
            ...(i % 3 === 2 ? [{ key: 'trace-id', value: { text: 'repeated' } }] : []),
          ];
    return {
      key: i % 5 === 4 ? null : { text: `user-${i % 7}-ключ` },
      value: values[i % values.length]!,
      headers,
      timestamp: 1_700_000_000_000 + i * 1000,
    };
  });
}

function toRecordInput(r: WireRecord): RecordInput {
  return { key: bytesOf(r.key), value: bytesOf(r.value), headers: r.headers.map((h) => ({ key: h.key, value: bytesOf(h.value) })), timestamp: r.timestamp };
}

/** What a consumer must see for `records` stored from `baseOffset` on partition 0. */
function expected(records: WireRecord[], baseOffset = 0): SeenRecord[] {
  return records.map((r, i) => ({
    partition: 0,
    offset: baseOffset + i,
    timestamp: r.timestamp,
    key: hexOf(r.key),
    value: hexOf(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: hexOf(h.value) })),
  }));
}

function seen(r: Pick<ClientRecord, 'partition' | 'offset' | 'timestamp' | 'key' | 'value' | 'headers'>): SeenRecord {
  return { partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: hexOrNull(r.key), value: hexOrNull(r.value), headers: r.headers.map((h) => ({ key: h.key, value: hexOrNull(h.value) })) };
}

// --- the test page: loads the bundle and exposes it with a few helpers ---------------------------

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>seglog browser test</title></head>
<body>
<script type="module">
import * as seglog from '/seglog-client.js';
const hexOf = (b) => (b === null ? null : Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
const fromHex = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const bytes = (w) => (w === null ? null : 'hex' in w ? fromHex(w.hex) : w.text);
window.seglogTest = {
  seglog,
  /** A JSON record from the test into the client's RecordInput. */
  toInput: (r) => ({ key: bytes(r.key), value: bytes(r.value), headers: r.headers.map((h) => ({ key: h.key, value: bytes(h.value) })), timestamp: r.timestamp }),
  /** A ClientRecord into JSON for the test (bytes as hex). */
  seen: (r) => ({ partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: hexOf(r.key), value: hexOf(r.value), headers: r.headers.map((h) => ({ key: h.key, value: hexOf(h.value) })) }),
  /** Up to n records from a consumer, failing after timeoutMs. */
  async take(consumer, n, timeoutMs) {
    const out = [];
    const deadline = Date.now() + timeoutMs;
    const it = consumer[Symbol.asyncIterator]();
    while (out.length < n) {
      let timer;
      const next = await Promise.race([
        it.next(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('took ' + out.length + ' of ' + n + ' records within ' + timeoutMs + ' ms')), Math.max(1, deadline - Date.now())); }),
      ]).finally(() => clearTimeout(timer));
      if (next.done) break;
      out.push(next.value);
    }
    return out;
  },
};
window.seglogReady = true;
</script>
</body></html>
`;

interface StaticServer {
  url: string;
  close(): Promise<void>;
}

async function startStaticServer(): Promise<StaticServer> {
  const server = http.createServer((req, res) => {
    const route = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (route === '/') return send(200, 'text/html; charset=utf-8', PAGE_HTML);
    if (route === '/seglog-client.js') return send(200, 'text/javascript; charset=utf-8', fs.readFileSync(BUNDLE));
    if (route === '/seglog-client.js.map' && fs.existsSync(`${BUNDLE}.map`)) return send(200, 'application/json', fs.readFileSync(`${BUNDLE}.map`));
    if (route === '/favicon.ico') return send(204, 'image/x-icon', '');
    return send(404, 'text/plain', `not found: ${route}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

// --- shared fixtures: one gateway, one static server, one browser ------------------------------

let gateway: Harness | undefined;
let site: StaticServer | undefined;
/** A second site the gateway does not allow: what any other page on the web looks like to it. */
let foreignSite: StaticServer | undefined;
let browser: Browser | undefined;

test.before(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing: no executable at ${CHROMIUM}. The browser tests need Debian's chromium ` +
        `(apt-get install -y chromium; .ci/run installs it when it can) or SEGLOG_CHROMIUM pointing at a Chromium binary.`,
    );
  }
  if (!fs.existsSync(BUNDLE)) throw new Error(`the browser bundle ${BUNDLE} is missing: run \`npm run build\``);
  site = await startStaticServer();
  foreignSite = await startStaticServer();
  // The test page comes from another port, so another origin than the gateway's: allowed explicitly.
  gateway = await startGateway({}, { allowOrigins: [new URL(site.url).origin] });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: LAUNCH_TIMEOUT_MS });
});

test.after.always(async () => {
  await Promise.allSettled([browser?.close(), site?.close(), foreignSite?.close()]);
  await gateway?.stop();
});

interface OpenedPage {
  page: Page;
  /** Uncaught exceptions and console errors in the page. */
  problems: string[];
  /** Every HTTP request and WebSocket the page opened. */
  urls: string[];
  close(): Promise<void>;
}

async function openTestPage(from: StaticServer = site!): Promise<OpenedPage> {
  const context = await browser!.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  const urls: string[] = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws) => urls.push(ws.url()));
  await page.goto(from.url, { timeout: PAGE_LOAD_TIMEOUT_MS });
  await page.waitForFunction(() => (window as unknown as { seglogReady?: boolean }).seglogReady === true, undefined, { timeout: PAGE_LOAD_TIMEOUT_MS });
  return { page, problems, urls, close: () => context.close() };
}

/** The page talked to our two loopback servers only, and to the gateway through the browser's WebSocket. */
function assertLoopbackOnly(t: ExecutionContext, opened: OpenedPage): void {
  const gatewayUrl = new URL(gateway!.server.url);
  const foreign = opened.urls.filter((u) => {
    const url = new URL(u);
    return !(url.hostname === '127.0.0.1' && (url.origin === new URL(site!.url).origin || url.host === gatewayUrl.host));
  });
  t.deepEqual(foreign, [], 'the page reached only the loopback servers');
  t.true(opened.urls.some((u) => u.startsWith('ws://') && new URL(u).host === gatewayUrl.host), 'the page opened a WebSocket to the gateway');
  t.deepEqual(opened.problems, [], 'no errors in the page');
}

// The scenarios below run inside the page: they may use only what the page has (window.seglogTest,
// untyped there).
type PageWindow = any; // eslint-disable-line @typescript-eslint/no-explicit-any

test.serial('a browser creates a topic, produces LZ4 records, reads them back in order and commits; Node sees the same', async (t) => {
  const topic = 'browser-made';
  const group = 'browser-group';
  const records = makeRecords(60, 'from-browser');
  const opened = await openTestPage();
  try {
    const result = await withTimeout(
      opened.page.evaluate(
        async ({ url, topic, group, records }) => {
          const { seglog, toInput, seen, take } = (window as PageWindow).seglogTest;
          const client = await seglog.SeglogClient.connect(url, { clientId: 'chromium', requestTimeoutMs: 10_000, reconnect: false });
          try {
            const created = await client.createTopic(topic, { partitions: 1 });
            const producer = client.producer({ compression: 'lz4', lingerMs: 5 });
            const inputs = records.map(toInput);
            // One batch first, then three more in flight at once. An explicit partition keeps keyed
            // and keyless records in one stream (keyless ones otherwise go where the server picks).
            const to0 = { partition: 0 };
            const first = await producer.send(topic, inputs.slice(0, 15), to0);
            const rest = await Promise.all([producer.send(topic, inputs.slice(15, 30), to0), producer.send(topic, inputs.slice(30, 45), to0), producer.send(topic, inputs.slice(45), to0)]);
            const sent = [...first, ...rest.flat()];
            const consumer = client.subscribe(topic, { from: 'earliest', group, autoCommit: false });
            const got = await take(consumer, records.length, 10_000);
            await consumer.commit();
            const committed = await client.committed(group, topic, 0);
            await consumer.close();
            const keyed = await client.createTopic(`${topic}-keyed`, { partitions: 3 });
            const keyedSent = await client.send(
              `${topic}-keyed`,
              Array.from({ length: 30 }, (_, i) => ({ key: `key-${i}-ü`, value: `v${i}` })),
            );
            return {
              canDecodeLz4: client.canDecodeLz4,
              partitionsCreated: [created.config.partitions, keyed.config.partitions],
              sent: sent.map((m: { topic: string; partition: number; offset: number }) => [m.topic, m.partition, m.offset]),
              got: got.map(seen),
              committed,
              keyedPartitions: keyedSent.map((m: { partition: number }) => m.partition),
            };
          } finally {
            await client.close();
          }
        },
        { url: gateway!.server.url, topic, group, records },
      ),
      SCENARIO_TIMEOUT_MS,
      'browser scenario',
    );

    t.true(result.canDecodeLz4, 'the bundle carries lz4js and announces LZ4');
    t.deepEqual(result.partitionsCreated, [1, 3]);
    t.deepEqual(result.sent, records.map((_, i) => [topic, 0, i]), 'every send() resolved with its offset, in order');
    t.deepEqual(result.got, expected(records), 'the browser read back exactly what it wrote, in order');
    t.is(result.committed, records.length, 'the committed offset is the next one to read');

    // The gateway stored the browser's LZ4 batches as they came (more than one batch).
    const stored = gateway!.engine.readBatches(topic, 0, 0, { maxBytes: 4 * 1024 * 1024 });
    t.true(stored.batches.length >= 2);
    t.true(stored.batches.every((b) => batchCodec(b) === CODEC_LZ4), 'the batches are LZ4 as the browser compressed them');
    // The engine's native decoder (lz4-napi, CRC-32C from @node-rs) agrees with the browser's encoder.
    const native = stored.batches.flatMap((b) => decodeRecords(b, 0));
    t.deepEqual(
      native.map((r) => seen({ ...r, partition: 0 })),
      expected(records),
    );

    // A Node client reads what the browser produced and sees the browser's commit.
    const node = await gateway!.connect();
    t.is(await node.committed(group, topic, 0), records.length);
    const all = await take(node.subscribe(topic, { from: 'earliest', stopAtEnd: true }), records.length + 1);
    t.deepEqual(all.map(seen), expected(records));
    // The group resumes after the browser's commit: only a record written later arrives.
    const after = await node.send(topic, { value: 'after the commit' });
    const resumed = await take(node.subscribe(topic, { group, from: 'earliest', autoCommit: false }), 1);
    t.deepEqual(resumed.map((r) => [r.offset, Buffer.from(r.value!).toString()]), [[after.offset, 'after the commit']]);
    t.is(after.offset, records.length);

    // Keyed records from the browser went where Kafka's partitioner (run here in Node) puts them.
    t.deepEqual(result.keyedPartitions, Array.from({ length: 30 }, (_, i) => partitionForKey(`key-${i}-ü`, 3)));
    t.true(new Set(result.keyedPartitions).size > 1);
    for (let p = 0; p < 3; p++) {
      const values = gateway!.engine.read(`${topic}-keyed`, p, 0).map((r) => r.value!.toString());
      const want = result.keyedPartitions.flatMap((q: number, i: number) => (q === p ? [`v${i}`] : []));
      t.deepEqual(values, want, `partition ${p}`);
    }
    assertLoopbackOnly(t, opened);
  } finally {
    await opened.close();
  }
});

test.serial('a browser reads what Node produced: LZ4 decoded in the page, or decompressed by the gateway; fetch too', async (t) => {
  const topic = 'node-made';
  const records = makeRecords(45, 'from-node');
  const node = await gateway!.connect();
  await node.createTopic(topic, { partitions: 1 });
  const producer = node.producer({ compression: 'lz4', lingerMs: 2, maxBatchBytes: 16 * 1024 });
  const sent = await producer.send(topic, records.map(toRecordInput), { partition: 0 });
  t.deepEqual(sent.map((m) => m.offset), records.map((_, i) => i));
  const stored = gateway!.engine.readBatches(topic, 0, 0, { maxBytes: 4 * 1024 * 1024 });
  t.true(stored.batches.length >= 2 && stored.batches.every((b) => batchCodec(b) === CODEC_LZ4), 'Node wrote several LZ4 batches');

  const opened = await openTestPage();
  try {
    const result = await withTimeout(
      opened.page.evaluate(
        async ({ url, topic, count }) => {
          const { seglog, seen, take } = (window as PageWindow).seglogTest;
          const decoding = await seglog.SeglogClient.connect(url, { requestTimeoutMs: 10_000, reconnect: false });
          const plain = await seglog.SeglogClient.connect(url, { lz4: false, requestTimeoutMs: 10_000, reconnect: false });
          try {
            const [a, b] = await Promise.all([
              take(decoding.subscribe(topic, { from: 'earliest', stopAtEnd: true, maxBufferedBytes: 8 * 1024 }), count + 1, 10_000),
              take(plain.subscribe(topic, { from: 'earliest', stopAtEnd: true }), count + 1, 10_000),
            ]);
            const fetched = await decoding.fetch(topic, 0, 10, { maxBytes: 1 });
            const topics = await plain.listTopics();
            return {
              lz4: [decoding.canDecodeLz4, plain.canDecodeLz4],
              decoded: a.map(seen),
              decompressedByServer: b.map(seen),
              fetched: { records: fetched.records.map(seen), nextOffset: fetched.nextOffset, endOffset: fetched.endOffset },
              topics,
            };
          } finally {
            await Promise.all([decoding.close(), plain.close()]);
          }
        },
        { url: gateway!.server.url, topic, count: records.length },
      ),
      SCENARIO_TIMEOUT_MS,
      'browser scenario',
    );

    const want = expected(records);
    t.deepEqual(result.lz4, [true, false]);
    t.deepEqual(result.decoded, want, 'the page decoded the LZ4 batches itself');
    t.deepEqual(result.decompressedByServer, want, 'a page without LZ4 got the same records decompressed');
    // fetch returns at least one whole batch from offset 10, records before 10 skipped.
    t.true(result.fetched.records.length >= 1);
    t.deepEqual(result.fetched.records, want.slice(10, 10 + result.fetched.records.length));
    t.is(result.fetched.nextOffset, 10 + result.fetched.records.length);
    t.is(result.fetched.endOffset, records.length);
    t.true(result.topics.includes(topic));
    assertLoopbackOnly(t, opened);
  } finally {
    await opened.close();
  }
});

test.serial('a page from an origin the gateway does not allow cannot connect (cross-site WebSocket hijacking)', async (t) => {
  const before = await gateway!.server.metrics.refusedRequests.get();
  const opened = await openTestPage(foreignSite);
  try {
    const result = await withTimeout(
      opened.page.evaluate(async ({ url }) => {
        const { seglog } = (window as PageWindow).seglogTest;
        try {
          const client = await seglog.SeglogClient.connect(url, { requestTimeoutMs: 5_000, connectTimeoutMs: 5_000, reconnect: false });
          const topics = await client.listTopics();
          await client.close();
          return { connected: true, topics, code: null };
        } catch (e) {
          return { connected: false, topics: null, code: (e as { code?: string }).code ?? String(e) };
        }
      }, { url: gateway!.server.url }),
      SCENARIO_TIMEOUT_MS,
      'browser scenario',
    );
    t.deepEqual(result, { connected: false, topics: null, code: 'CONNECT_FAILED' });
    const after = await gateway!.server.metrics.refusedRequests.get();
    const origin = (m: typeof before): number => m.values.filter((v) => v.labels['reason'] === 'origin').reduce((a, v) => a + v.value, 0);
    t.is(origin(after) - origin(before), 1, 'refused once, by Origin');
    t.true(gateway!.logs.some((l) => l.includes(`Origin "${new URL(foreignSite!.url).origin}" is not allowed`)));
  } finally {
    await opened.close();
  }
});

test.serial('a browser authenticates with a token in the handshake; without one it is refused, and its rights hold (NOT_AUTHORIZED)', async (t) => {
  const { authFixture } = await import('../security/helpers.js');
  const auth = authFixture({ viewer: { rights: ['consume:audit.*'] } });
  const authed = await startGateway({}, { authFile: auth.file, allowOrigins: [new URL(site!.url).origin], authFailureLimits: { delayMs: 1 } });
  const opened = await openTestPage();
  try {
    await authed.engine.createTopic('audit.log', { partitions: 1 });
    await authed.engine.createTopic('secrets', { partitions: 1 });
    await authed.engine.produce('audit.log', [{ value: 'login' }, { value: 'logout' }], { partition: 0 });
    const result = await withTimeout(
      opened.page.evaluate(async ({ url, token }) => {
        const { seglog } = (window as PageWindow).seglogTest;
        const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));
        const withoutToken = await codeOf(seglog.SeglogClient.connect(url, { reconnect: false, connectTimeoutMs: 5_000 }));
        const wrongToken = await codeOf(seglog.SeglogClient.connect(url, { reconnect: false, connectTimeoutMs: 5_000, token: 'sgl_wrong' }));
        const client = await seglog.SeglogClient.connect(url, { reconnect: false, token, requestTimeoutMs: 5_000 });
        const topics = await client.listTopics();
        const fetched = await client.fetch('audit.log', 0, 0);
        const values = fetched.records.map((r: { value: Uint8Array }) => new TextDecoder().decode(r.value));
        const produce = await codeOf(client.send('audit.log', { value: 'forged' }, { partition: 0 }));
        const secrets = await codeOf(client.fetch('secrets', 0, 0));
        const principal = client.server.principal;
        await client.close();
        return { withoutToken, wrongToken, topics, values, produce, secrets, principal };
      }, { url: authed.server.url, token: auth.tokens['viewer']! }),
      SCENARIO_TIMEOUT_MS,
      'browser auth scenario',
    );
    t.deepEqual(result, {
      withoutToken: 'AUTHENTICATION_FAILED',
      wrongToken: 'AUTHENTICATION_FAILED',
      topics: ['audit.log'],
      values: ['login', 'logout'],
      produce: 'NOT_AUTHORIZED',
      secrets: 'NOT_AUTHORIZED',
      principal: 'viewer',
    });
    t.is(authed.engine.offsets('audit.log', 0).endOffset, 2, 'nothing was forged');
    t.deepEqual(opened.problems.filter((p) => !/WebSocket/.test(p)), [], 'no errors in the page besides the refused sockets');
  } finally {
    await opened.close();
    await authed.stop();
    auth.remove();
  }
});

test('the package exports the bundle as seglog/browser, with the client API', async (t) => {
  // Self-reference through package.json "exports", as a user's import would resolve it.
  const resolved = fileURLToPath(import.meta.resolve('seglog/browser'));
  t.is(resolved, BUNDLE);
  const bundle = fs.readFileSync(BUNDLE, 'utf8');
  // Everything is inside: a browser cannot resolve bare specifiers like 'lz4js' or 'crc-32'.
  t.deepEqual([...bundle.matchAll(/^\s*import\s[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]), []);
  // It exports what gateway/client/client.ts exports (the module loads in Node too: it touches no DOM on import).
  const [fromBundle, fromSource] = await Promise.all([import(pathToFileURL(BUNDLE).href), import('../../gateway/client/client.js')]);
  t.deepEqual(Object.keys(fromBundle).sort(), Object.keys(fromSource).sort());
  t.is(typeof fromBundle.SeglogClient.connect, 'function');
});
