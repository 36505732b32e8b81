// Losing the connection: subscriptions resume without loss or duplicates; in-flight produces fail loudly.
import test from 'ava';
import { startGateway, take, text, until } from './helpers.js';

test('server-side terminate mid-stream: the consumer resumes from the last delivered offset, no loss, no duplicates', async (t) => {
  const h = await startGateway();
  try {
    const producer = await h.connect();
    const events: string[] = [];
    const reader = await h.connect({ clientId: 'reader', reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, onConnectionEvent: (e) => events.push(e.type) });
    await producer.createTopic('resume', { partitions: 3 });
    const p = producer.producer({ lingerMs: 0, maxBatchBytes: 600 });
    const total = 3000;
    await Promise.all(Array.from({ length: total / 2 }, (_, i) => p.send('resume', { key: `k${i % 11}`, value: `v${i}` })));
    const consumer = reader.subscribe('resume', { from: 'earliest', maxBufferedBytes: 4096 });
    const got = await take(consumer, 700);
    const readerSession = () => h.server.sessions().find((s) => s.stats().subscriptions.length > 0)!;
    readerSession().terminate();
    // Keep producing meanwhile; the consumer must see every record exactly once.
    const more = Promise.all(Array.from({ length: total / 2 }, (_, i) => p.send('resume', { key: `k${i % 11}`, value: `v${total / 2 + i}` })));
    got.push(...(await take(consumer, total - 700, 15_000)));
    await more;
    t.true(events.includes('disconnected') && events.includes('reconnected'));
    t.is(got.length, total);
    const seen = new Set(got.map((r) => `${r.partition}/${r.offset}`));
    t.is(seen.size, total, 'no duplicates');
    t.deepEqual(new Set(got.map((r) => text(r.value))).size, total, 'no loss');
    for (const part of [0, 1, 2]) {
      const offs = got.filter((r) => r.partition === part).map((r) => r.offset);
      t.deepEqual(offs, offs.map((_, i) => i), `partition ${part} in order, dense`);
    }
    // Nothing more after everything.
    await p.flush();
  } finally {
    await h.stop();
  }
});

test('produces in flight when the connection drops are rejected with DISCONNECTED; later sends go through', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect({ reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    await c.createTopic('inflight', { partitions: 1 });
    const p = c.producer({ lingerMs: 0, maxBatchBytes: 100, acks: 'flushed' });
    const sends = Array.from({ length: 200 }, (_, i) => p.send('inflight', { value: `r${i}` }));
    await until(() => (h.server.sessionStats()[0]?.inFlight ?? 0) > 0 || sends.length === 0, 'something in flight');
    h.server.sessions()[0]!.terminate();
    const results = await Promise.allSettled(sends);
    const failed = results.filter((r) => r.status === 'rejected');
    for (const f of failed) t.is((f as PromiseRejectedResult).reason.code, 'DISCONNECTED');
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    t.is(ok + failed.length, 200);
    const after = await p.send('inflight', { value: 'after' });
    const end = h.engine.offsets('inflight', 0).endOffset;
    t.is(after.offset, end - 1);
    // Every acknowledged record is stored; nothing stored twice silently (no automatic retry).
    t.true(end <= 201);
    t.true(end >= ok + 1);
  } finally {
    await h.stop();
  }
});

test('consumer groups: committed offsets are where a new consumer of the group starts', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('grp', { partitions: 2 });
    await c.send('grp', Array.from({ length: 20 }, (_, i) => ({ value: `${i}` })), { partition: 0 });
    await c.send('grp', Array.from({ length: 10 }, (_, i) => ({ value: `${i}` })), { partition: 1 });
    t.is(await c.committed('g1', 'grp', 0), null);
    const first = c.subscribe('grp', { group: 'g1', from: 'earliest', partitions: 0, autoCommit: false });
    await take(first, 5);
    await first.commit();
    await first.close();
    t.is(await c.committed('g1', 'grp', 0), 5);
    const second = c.subscribe('grp', { group: 'g1', from: 'earliest', partitions: 0 });
    const got = await take(second, 3);
    t.deepEqual(got.map((r) => r.offset), [5, 6, 7]);
    await second.close(); // autoCommit on close
    t.is(await c.committed('g1', 'grp', 0), 8);
    await c.commit('g1', 'grp', 1, 9);
    const all = c.subscribe('grp', { group: 'g1', from: 'latest', stopAtEnd: true });
    const rest = [];
    for await (const r of all) rest.push(`${r.partition}/${r.offset}`);
    t.deepEqual(rest.sort(), [...Array.from({ length: 12 }, (_, i) => `0/${i + 8}`), '1/9'].sort());
    // Other groups are independent.
    t.is(await c.committed('g2', 'grp', 0), null);
  } finally {
    await h.stop();
  }
});

test('a subscription made while the client is reconnecting is sent once and outlives requestTimeoutMs', async (t) => {
  const h = await startGateway();
  try {
    const producer = await h.connect();
    await producer.createTopic('late-sub', { partitions: 1 });
    await producer.send('late-sub', { value: 'before' });
    const reader = await h.connect({ requestTimeoutMs: 800, reconnect: { initialDelayMs: 300, maxDelayMs: 300 } });
    t.is(h.server.sessions().length, 2);
    h.server.sessions()[1]!.terminate(); // the reader's (sessions are listed in connection order)
    await until(() => !reader.isConnected, 'the reader noticed the lost connection');
    const consumer = reader.subscribe('late-sub', { from: 'earliest' });
    const first = await take(consumer, 1);
    t.deepEqual(first.map((r) => text(r.value)), ['before']);
    // Longer than requestTimeoutMs: a stray second request with the same id would time out and end it.
    // (A clock, not a wait for an effect: the behaviour under test is that nothing happens for 1.2 s.)
    await new Promise((r) => setTimeout(r, 1200));
    await producer.send('late-sub', { value: 'after' });
    const second = await take(consumer, 1, 5000);
    t.deepEqual(second.map((r) => text(r.value)), ['after']);
    await consumer.close();
  } finally {
    await h.stop();
  }
});
