// The server's security limits: failed authentications per address (slowed, then refused, other
// addresses unaffected), connections per server and per address, and byte-rate quotas per
// principal (the server delays, it does not drop).
import test from 'ava';
import WebSocket from 'ws';
import { FrameType, PROTOCOL_VERSION, readHeader } from '../../gateway/protocol/frame.js';
import { decodeError } from '../../gateway/protocol/error.js';
import { AUTH, encodeHello } from '../../gateway/protocol/hello.js';
import { SeglogClient } from '../../gateway/client/client.js';
import { startGateway, until, type Harness } from '../gateway/helpers.js';
import { authFixture } from './helpers.js';

/** Opens a raw socket from `localAddress` and says HELLO with `token`: how did it end? */
function attempt(url: string, localAddress: string, token: string): Promise<{ outcome: 'auth-failed' | 'refused' | 'ok' | 'other'; status?: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress });
    const done = (outcome: 'auth-failed' | 'refused' | 'ok' | 'other', status?: number): void => {
      resolve({ outcome, status, ms: performance.now() - started });
      ws.terminate();
    };
    ws.on('unexpected-response', (_req, res) => done('refused', res.statusCode));
    ws.on('error', () => done('other'));
    ws.on('open', () => ws.send(encodeHello(1, { minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, flags: AUTH, clientId: 'guesser', token })));
    ws.on('message', (d: Buffer) => {
      const { header, reader } = readHeader(d);
      if (header.type === FrameType.HELLO_OK) done('ok');
      else if (header.type === FrameType.ERROR && decodeError(reader).code === 'AUTHENTICATION_FAILED') done('auth-failed');
      else done('other');
    });
  });
}

async function metric(h: Harness, line: string): Promise<number> {
  const text = await h.server.metrics.registry.metrics();
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found === undefined ? 0 : Number(found.split(' ').pop());
}

test('1,000 wrong tokens from one address are slowed, then refused with 429; a client on another address works throughout', async (t) => {
  const auth = authFixture({ app: { rights: ['produce:topic:*', 'consume:topic:*', 'admin:topic:*'] } });
  const DELAY_MS = 300;
  const FAILURES_MAX = 10;
  const h = await startGateway({}, { authFile: auth.file, authFailureLimits: { delayMs: DELAY_MS, failuresMax: FAILURES_MAX, windowMs: 60_000 } });
  try {
    await h.engine.createTopic('work', { partitions: 1 });
    const good = await h.connect({ token: auth.tokens['app']! });
    const ATTEMPTS = 1000;
    const CONCURRENCY = 20;
    const results: Awaited<ReturnType<typeof attempt>>[] = [];
    let next = 0;
    let goodWrites = 0;
    // The attacker (127.0.0.2) and the real client (127.0.0.1) at the same time.
    const attacker = Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ATTEMPTS) {
          next++;
          results.push(await attempt(h.server.url, '127.0.0.2', `sgl_guess_${next}`));
        }
      }),
    );
    const worker = (async () => {
      while (next < ATTEMPTS) {
        await good.send('work', { value: `w${goodWrites}` });
        goodWrites++;
      }
    })();
    await Promise.all([attacker, worker]);
    t.is(results.length, ATTEMPTS);
    t.log(`${results.filter((r) => r.outcome === 'auth-failed').length} answered AUTHENTICATION_FAILED, ${results.filter((r) => r.outcome === 'refused').length} refused 429; the real client wrote ${goodWrites} records meanwhile`);
    const failed = results.filter((r) => r.outcome === 'auth-failed');
    const refused = results.filter((r) => r.outcome === 'refused');
    // At most the allowed failures plus those already past the upgrade when the limit tripped.
    t.true(failed.length >= FAILURES_MAX && failed.length <= FAILURES_MAX + CONCURRENCY, `${failed.length} answered AUTHENTICATION_FAILED`);
    t.true(failed.every((r) => r.ms >= DELAY_MS - 5), 'every failure was answered only after the delay');
    t.is(refused.length + failed.length, ATTEMPTS, 'no other outcome (no crash, no hang)');
    t.true(refused.every((r) => r.status === 429));
    t.is(await metric(h, 'seglog_refused_requests_total{reason="auth-rate",request="upgrade"}'), refused.length);
    t.is(await metric(h, 'seglog_auth_failures_total{reason="invalid"}'), failed.length);
    // The real client was served all along, and a new one from another address still gets in.
    t.true(goodWrites > 0);
    t.is(h.engine.offsets('work', 0).endOffset, goodWrites);
    const fresh = await attempt(h.server.url, '127.0.0.3', auth.tokens['app']!);
    t.is(fresh.outcome, 'ok');
    // The blocked address is refused even with the right token until its window ends.
    t.is((await attempt(h.server.url, '127.0.0.2', auth.tokens['app']!)).outcome, 'refused');
    t.true(h.logs.filter((l) => l.includes('authentication failed')).length <= 11, 'log lines bounded');
  } finally {
    await h.stop();
    auth.remove();
  }
});

test('maxConnections and maxConnectionsPerAddress: 503 and 429 at the upgrade, counted; a slot frees when a connection ends', async (t) => {
  const h = await startGateway({}, { maxConnections: 3, maxConnectionsPerAddress: 2 });
  try {
    const open = (localAddress: string): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(h.server.url, { localAddress });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_q, res) => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode })));
        ws.once('error', reject);
      });
    const a1 = await open('127.0.0.1');
    await open('127.0.0.1');
    const third = await t.throwsAsync(open('127.0.0.1'));
    t.is((third as { status?: number }).status, 429);
    await open('127.0.0.2');
    const full = await t.throwsAsync(open('127.0.0.3'));
    t.is((full as { status?: number }).status, 503);
    // The client library reports it as a failed connection with the status.
    await t.throwsAsync(SeglogClient.connect(h.server.url, { reconnect: false }), { code: 'CONNECT_FAILED', message: /429|503/ } as never);
    t.is(await metric(h, 'seglog_refused_requests_total{reason="address-connections",request="upgrade"}'), 1);
    t.is(await metric(h, 'seglog_refused_requests_total{reason="connections",request="upgrade"}'), 2);
    a1.close();
    await until(async () => {
      try {
        (await open('127.0.0.3')).close();
        return true;
      } catch {
        return false;
      }
    }, 'a slot freed by the closed connection');
    t.pass();
  } finally {
    await h.stop();
  }
});

const QUOTA_BYTES_PER_SECOND = 256 * 1024;

test('a produce quota holds a producer to its byte rate within 10%, delaying (every record stored, in order)', async (t) => {
  const auth = authFixture({ slow: { rights: ['produce:topic:*', 'consume:topic:*'], quota: { produceBytesPerSecond: QUOTA_BYTES_PER_SECOND } }, free: { rights: ['produce:topic:*'] } });
  const h = await startGateway({}, { authFile: auth.file });
  try {
    await h.engine.createTopic('q', { partitions: 1 });
    await h.engine.createTopic('free', { partitions: 1 });
    const c = await h.connect({ token: auth.tokens['slow']! });
    const value = new Uint8Array(1000).fill(7);
    const BATCHES = 64; // about 1 MiB: 4 s at the quota
    const started = performance.now();
    const acks = [];
    for (let i = 0; i < BATCHES; i++) acks.push(c.sendBatch('q', Array.from({ length: 16 }, (_, j) => ({ key: `${i}-${j}`, value })), { partition: 0 }));
    const results = await Promise.all(acks);
    const seconds = (performance.now() - started) / 1000;
    const bytes = await metric(h, 'seglog_bytes_in_total');
    const rate = bytes / seconds;
    t.log(`produce: ${bytes} bytes in ${seconds.toFixed(2)} s = ${Math.round(rate)} B/s (quota ${QUOTA_BYTES_PER_SECOND})`);
    t.true(Math.abs(rate - QUOTA_BYTES_PER_SECOND) <= QUOTA_BYTES_PER_SECOND * 0.1, `${Math.round(rate)} B/s against a quota of ${QUOTA_BYTES_PER_SECOND}`);
    // Delayed, never dropped or reordered.
    t.deepEqual(results.map((r) => r.baseOffset), Array.from({ length: BATCHES }, (_, i) => i * 16));
    t.true((await metric(h, 'seglog_quota_throttle_seconds_total{principal="slow",direction="produce"}')) > 1);
    // Another principal is not held back by slow's quota.
    const f = await h.connect({ token: auth.tokens['free']! });
    t.is((await f.sendBatch('free', Array.from({ length: 16 }, () => ({ value })), { partition: 0 })).baseOffset, 0);
  } finally {
    await h.stop();
    auth.remove();
  }
});

test('a consume quota holds deliveries to the byte rate within 10%; every record arrives', async (t) => {
  const auth = authFixture({ reader: { rights: ['consume:topic:*'], quota: { consumeBytesPerSecond: QUOTA_BYTES_PER_SECOND } } });
  const h = await startGateway({}, { authFile: auth.file });
  try {
    await h.engine.createTopic('r', { partitions: 1 });
    const value = Buffer.alloc(1000, 3);
    const RECORDS = 1024;
    for (let i = 0; i < RECORDS; i += 16) await h.engine.produce('r', Array.from({ length: 16 }, () => ({ value })), { partition: 0 });
    const c = await h.connect({ token: auth.tokens['reader']! });
    const started = performance.now();
    let n = 0;
    for await (const batch of c.subscribe('r', { from: 'earliest', stopAtEnd: true }).batches()) n += batch.length;
    const seconds = (performance.now() - started) / 1000;
    t.is(n, RECORDS);
    const rate = (await metric(h, 'seglog_bytes_out_total')) / seconds;
    t.log(`consume: ${Math.round(rate)} B/s over ${seconds.toFixed(2)} s (quota ${QUOTA_BYTES_PER_SECOND})`);
    t.true(Math.abs(rate - QUOTA_BYTES_PER_SECOND) <= QUOTA_BYTES_PER_SECOND * 0.1, `${Math.round(rate)} B/s against a quota of ${QUOTA_BYTES_PER_SECOND}`);
  } finally {
    await h.stop();
    auth.remove();
  }
});
