// Authentication and per-topic rights over the gateway: tokens in HELLO, NOT_AUTHORIZED refusals
// (typed, counted, logged without secrets), what listing and describing show, prefix rights,
// group rights, revocation on reload, and /metrics behind a bearer token.
import test from 'ava';
import WebSocket from 'ws';
import { SeglogClient } from '../../gateway/client/client.js';
import { FrameReader } from '../../gateway/protocol/codec.js';
import { FrameType, PROTOCOL_VERSION, readHeader } from '../../gateway/protocol/frame.js';
import { decodeError } from '../../gateway/protocol/error.js';
import { encodeHello } from '../../gateway/protocol/hello.js';
import { encodeListTopics } from '../../gateway/protocol/topics.js';
import { startGateway, until, type Harness } from '../gateway/helpers.js';
import { authFixture, type AuthFixture } from './helpers.js';

const PRINCIPALS = {
  reader: { rights: ['consume:orders', 'consume:group:billing'] },
  writer: { rights: ['produce:orders.*', 'consume:orders.*'] },
  admin: { rights: ['admin:topic:*', 'produce:topic:*', 'consume:topic:*', 'admin:group:*', 'consume:group:*', 'metrics'] },
};

async function withAuth(fn: (h: Harness, auth: AuthFixture) => Promise<void>): Promise<void> {
  const auth = authFixture(PRINCIPALS);
  // Failures answered at once here (the delay has its own test); the limiter stays on.
  const h = await startGateway({}, { authFile: auth.file, authFailureLimits: { delayMs: 1, failuresMax: 1000 } });
  try {
    await fn(h, auth);
  } finally {
    await h.stop();
    auth.remove();
  }
}

async function metric(h: Harness, name: string, labels = ''): Promise<number> {
  const text = await h.server.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels}`) && (labels !== '' || /^\S+ /.test(l.slice(name.length - 1))));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

test('no token, a wrong token and a token of the wrong shape are refused AUTHENTICATION_FAILED; the log never holds a token', async (t) => {
  await withAuth(async (h, auth) => {
    const none = await t.throwsAsync(h.connect({ reconnect: false }));
    t.is((none as { code?: string }).code, 'AUTHENTICATION_FAILED');
    t.regex(none!.message, /requires a token/);
    const wrong = 'sgl_' + 'A'.repeat(43);
    const bad = await t.throwsAsync(h.connect({ reconnect: false, token: wrong }));
    t.is((bad as { code?: string }).code, 'AUTHENTICATION_FAILED');
    t.regex(bad!.message, /invalid token/);
    // A token one character off from a real one.
    const real = auth.tokens['reader']!;
    const near = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
    await t.throwsAsync(h.connect({ reconnect: false, token: near }), { code: 'AUTHENTICATION_FAILED' } as never);
    t.is(await metric(h, 'seglog_auth_failures_total', '{reason="missing"}'), 1);
    t.is(await metric(h, 'seglog_auth_failures_total', '{reason="invalid"}'), 2);
    const logs = h.logs.join('\n');
    t.regex(logs, /authentication failed/);
    t.false(logs.includes(wrong) || logs.includes(near) || logs.includes(real), 'no token in the log');
    // The right token works, and the server says who we are.
    const c = await h.connect({ token: real });
    t.is(c.server?.principal, 'reader');
  });
});

test('before HELLO_OK nothing but HELLO is taken: a request sent behind a bad HELLO closes the connection unanswered', async (t) => {
  await withAuth(async (h) => {
    await h.engine.createTopic('orders', { partitions: 1 });
    const ws = new WebSocket(h.server.url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const frames: Array<{ type: number; code?: string }> = [];
    ws.on('message', (d: Buffer) => {
      const { header, reader } = readHeader(d);
      frames.push({ type: header.type, ...(header.type === FrameType.ERROR ? { code: decodeError(reader).code } : {}) });
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(encodeHello(1, { minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, flags: 0, clientId: 'raw' }));
    ws.send(encodeListTopics(2));
    const code = await closed;
    t.true(code === 1002 || code === 1008, `closed with ${code}`);
    t.false(frames.some((f) => f.type === FrameType.TOPIC_LIST), 'no topic list for an unauthenticated peer');
  });
});

test('a consume-only principal cannot produce, create, delete or add partitions, and sees only its topics', async (t) => {
  await withAuth(async (h, auth) => {
    for (const name of ['orders', 'payments', 'orders.eu']) await h.engine.createTopic(name, { partitions: 2 });
    await h.engine.produce('orders', [{ value: 'a' }, { value: 'b' }], { partition: 0 });
    const c = await h.connect({ token: auth.tokens['reader']! });
    const refused = async (p: Promise<unknown>, what: RegExp): Promise<void> => {
      const e = await t.throwsAsync(p);
      t.is((e as { code?: string }).code, 'NOT_AUTHORIZED', e?.message);
      t.regex(e!.message, what);
    };
    await refused(c.send('orders', { value: 'x' }, { partition: 0 }), /"reader" may not produce topic "orders"/);
    await refused(c.createTopic('orders.new', { partitions: 1 }), /may not admin topic "orders.new"/);
    await refused(c.deleteTopic('orders'), /may not admin topic "orders"/);
    await refused(c.addPartitions('orders', 4), /may not admin topic/);
    // Listing shows what it may see; describing another topic is refused before the engine is
    // asked, so an existing and a missing topic get the same answer.
    t.deepEqual(await c.listTopics(), ['orders']);
    t.is((await c.describeTopic('orders')).partitions.length, 2);
    await refused(c.describeTopic('payments'), /may not consume topic "payments"/);
    await refused(c.describeTopic('no-such-topic'), /may not consume topic "no-such-topic"/);
    await refused(c.fetch('payments', 0, 0), /may not consume topic "payments"/);
    // What it may do works: read, and commit as its group (not as another).
    const got = await c.fetch('orders', 0, 0);
    t.deepEqual(got.records.map((r) => new TextDecoder().decode(r.value!)), ['a', 'b']);
    await c.commit('billing', 'orders', 0, 2);
    t.is(await c.committed('billing', 'orders', 0), 2);
    await refused(c.commit('shipping', 'orders', 0, 1), /may not consume group "shipping"/);
    // Nothing was changed by the refused calls.
    t.deepEqual(h.engine.listTopics().sort(), ['orders', 'orders.eu', 'payments']);
    t.is(h.engine.offsets('orders', 0).endOffset, 2);
    t.is(h.engine.describeTopic('orders').partitions.length, 2);
    t.true((await metric(h, 'seglog_not_authorized_total', '{action="produce",kind="topic"}')) >= 1);
    t.true((await metric(h, 'seglog_not_authorized_total', '{action="admin",kind="topic"}')) >= 3);
    t.regex(h.logs.join('\n'), /not authorized: session \d+ \(127\.0\.0\.1:\d+\) principal "reader" may not produce topic "orders"/);
    t.false(h.logs.join('\n').includes(auth.tokens['reader']!));
    // The connection stays usable after refusals.
    t.deepEqual(await c.listTopics(), ['orders']);
  });
});

test('a prefix right covers every topic under the prefix and nothing else; subscribing is checked too', async (t) => {
  await withAuth(async (h, auth) => {
    for (const name of ['orders', 'orders.eu', 'orders.us', 'ordersx']) await h.engine.createTopic(name, { partitions: 1 });
    const c = await h.connect({ token: auth.tokens['writer']! });
    t.deepEqual((await c.listTopics()).sort(), ['orders.eu', 'orders.us']);
    t.is((await c.send('orders.eu', { value: 'eu' })).offset, 0);
    t.is((await c.send('orders.us', { value: 'us' })).offset, 0);
    await t.throwsAsync(c.send('orders', { value: 'x' }, { partition: 0 }), { code: 'NOT_AUTHORIZED' } as never);
    await t.throwsAsync(c.send('ordersx', { value: 'x' }, { partition: 0 }), { code: 'NOT_AUTHORIZED' } as never);
    const sub = c.subscribe('orders.eu', { from: 'earliest' });
    const it = sub[Symbol.asyncIterator]();
    const first = await it.next();
    t.is(new TextDecoder().decode((first.value as { value: Uint8Array }).value), 'eu');
    await sub.close();
    const denied = c.subscribe('ordersx', { from: 'earliest' });
    await t.throwsAsync(denied[Symbol.asyncIterator]().next(), { code: 'NOT_AUTHORIZED' } as never);
    // A group needs its own right (writer has none).
    const grouped = c.subscribe('orders.eu', { from: 'earliest', group: 'billing' });
    await t.throwsAsync(grouped[Symbol.asyncIterator]().next(), { code: 'NOT_AUTHORIZED' } as never);
  });
});

test('reload: a removed principal and a revoked token close their connections (the client stops with AUTHENTICATION_FAILED); changed rights apply at once', async (t) => {
  await withAuth(async (h, auth) => {
    await h.engine.createTopic('orders', { partitions: 1 });
    await h.engine.createTopic('orders.eu', { partitions: 1 });
    const events: string[] = [];
    const reader = await h.connect({ token: auth.tokens['reader']!, onConnectionEvent: (e) => events.push(`${e.type}:${e.error?.message ?? ''}`) });
    const writer = await h.connect({ token: auth.tokens['writer']! });
    const sub = writer.subscribe('orders.eu', { from: 'earliest' });
    const subIt = sub[Symbol.asyncIterator]();
    await writer.send('orders.eu', { value: 'one' });
    t.is(new TextDecoder().decode(((await subIt.next()).value as { value: Uint8Array }).value), 'one');
    // reader goes; writer loses consume.
    auth.write({ writer: { rights: ['produce:orders.*'] }, admin: PRINCIPALS.admin });
    t.is(h.server.reloadAuth(), 2);
    await until(() => events.some((e) => e.startsWith('reconnect-failed')), 'the removed principal gave up reconnecting');
    t.regex(events.find((e) => e.startsWith('reconnect-failed'))!, /invalid token/);
    await t.throwsAsync(reader.listTopics(), { code: 'AUTHENTICATION_FAILED' } as never);
    // The writer's connection stays, its subscription ends NOT_AUTHORIZED, its produce right holds.
    await t.throwsAsync(subIt.next(), { code: 'NOT_AUTHORIZED' } as never);
    t.is((await writer.send('orders.eu', { value: 'two' })).offset, 1);
    await t.throwsAsync(writer.fetch('orders.eu', 0, 0), { code: 'NOT_AUTHORIZED' } as never);
    t.is(await metric(h, 'seglog_revoked_sessions_total'), 1);
    // A file that does not parse changes nothing.
    const fs = await import('node:fs');
    fs.writeFileSync(auth.file, '{ not json');
    t.throws(() => h.server.reloadAuth(), { code: 'INVALID_ARGUMENT', message: /not JSON/ } as never);
    t.is((await writer.send('orders.eu', { value: 'three' })).offset, 2);
  });
});

test('/metrics with auth on: 401 without a token, 403 for a principal without the metrics right, 200 with it', async (t) => {
  await withAuth(async (h, auth) => {
    const url = `${h.server.httpUrl}/metrics`;
    t.is((await fetch(url)).status, 401);
    t.is((await fetch(url, { headers: { authorization: 'Bearer sgl_nope' } })).status, 401);
    t.is((await fetch(url, { headers: { authorization: `Bearer ${auth.tokens['reader']}` } })).status, 403);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${auth.tokens['admin']}` } });
    t.is(ok.status, 200);
    t.regex(await ok.text(), /seglog_refused_requests_total\{reason="metrics-auth",request="http"\} 3/);
    // /healthz stays open (load balancers probe it).
    t.is((await fetch(`${h.server.httpUrl}/healthz`)).status, 200);
  });
});

test('an old client (no AUTH flag) against a server with auth is refused with a reason, not a protocol error', async (t) => {
  await withAuth(async (h) => {
    const c = SeglogClient.connect(h.server.url, { reconnect: false });
    await t.throwsAsync(c, { code: 'AUTHENTICATION_FAILED' } as never);
  });
});

test('GatewayServer.start refuses a non-loopback host without auth or without TLS unless insecure', async (t) => {
  const { exposureProblem, isLoopbackHost } = await import('../../gateway/server/server.js');
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) t.true(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) t.false(isLoopbackHost(h), h);
  t.regex(exposureProblem('0.0.0.0', {})!, /without authentication/);
  t.regex(exposureProblem('0.0.0.0', { authFile: 'x' })!, /without TLS/);
  t.is(exposureProblem('0.0.0.0', { authFile: 'x', tls: { cert: 'c', key: 'k' } }), null);
  t.is(exposureProblem('127.0.0.1', {}), null);
  const { Engine } = await import('../../engine/index.js');
  const { GatewayServer } = await import('../../gateway/server/server.js');
  const engine = await Engine.open({ memory: true });
  try {
    await t.throwsAsync(GatewayServer.start({ engine, host: '0.0.0.0', port: 0 }), { code: 'INVALID_ARGUMENT', message: /--insecure/ } as never);
  } finally {
    await engine.close();
  }
});

test('group rights: joining, committing, listing, describing, resetting and deleting groups follow consume/admin on the group', async (t) => {
  const auth = authFixture({
    member: { rights: ['consume:orders', 'consume:group:billing'] },
    outsider: { rights: ['consume:orders'] },
    ops: { rights: ['admin:group:*', 'consume:topic:*'] },
  });
  const h = await startGateway({}, { authFile: auth.file, authFailureLimits: { delayMs: 1 } });
  try {
    await h.engine.createTopic('orders', { partitions: 2 });
    await h.engine.produce('orders', [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'c', value: '3' }]);
    // Another group exists, made by an embedded member.
    const embedded = h.engine.subscribe('orders', { group: 'shipping', from: 'earliest' });
    await embedded.ready;
    const member = await h.connect({ token: auth.tokens['member']! });
    const consumer = member.subscribe('orders', { group: 'billing', from: 'earliest' });
    const got: string[] = [];
    const it = consumer[Symbol.asyncIterator]();
    while (got.length < 3) got.push(new TextDecoder().decode((await it.next()).value!.value!));
    t.deepEqual(got.sort(), ['1', '2', '3']);
    t.deepEqual((await member.listGroups()).map((g) => g.group), ['billing'], 'only its own group is listed');
    t.is((await member.describeGroup('billing')).group, 'billing');
    await t.throwsAsync(member.describeGroup('shipping'), { code: 'NOT_AUTHORIZED' } as never);
    await t.throwsAsync(member.resetGroupOffsets('billing', 'orders', 'earliest'), { code: 'NOT_AUTHORIZED', message: /may not admin group "billing"/ } as never);
    await t.throwsAsync(member.deleteGroup('shipping'), { code: 'NOT_AUTHORIZED' } as never);
    const outsider = await h.connect({ token: auth.tokens['outsider']! });
    const intruder = outsider.subscribe('orders', { group: 'billing', from: 'earliest' });
    await t.throwsAsync(intruder[Symbol.asyncIterator]().next(), { code: 'NOT_AUTHORIZED', message: /may not consume group "billing"/ } as never);
    t.is(h.engine.describeGroup('billing').members.length, 1, 'the outsider never joined');
    const ops = await h.connect({ token: auth.tokens['ops']! });
    t.deepEqual((await ops.listGroups()).map((g) => g.group).sort(), ['billing', 'shipping']);
    await embedded.close();
    await until(() => h.engine.describeGroup('shipping').members.length === 0, 'shipping empty');
    await ops.deleteGroup('shipping');
    t.deepEqual(h.engine.listGroups().map((g) => g.group), ['billing']);
    await consumer.close();
  } finally {
    await h.stop();
    auth.remove();
  }
});
