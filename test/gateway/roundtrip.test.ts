// Produce and subscribe over real sockets, multiplexing, start positions, fetch.
import test from 'ava';
import { startGateway, take, text, until } from './helpers.js';
import type { ClientRecord } from '../../gateway/client/client.js';

test('produce then subscribe from earliest: records, keys, headers, offsets come back', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('orders', { partitions: 1 });
    const a = await c.send('orders', { key: 'k1', value: 'first', headers: { h: 'v' } });
    const b = await c.send('orders', [{ value: 'second' }, { value: new Uint8Array([1, 2, 3]), timestamp: 1234 }]);
    t.deepEqual(a, { topic: 'orders', partition: 0, offset: 0 });
    t.deepEqual(b.map((m) => m.offset), [1, 2]);
    const consumer = c.subscribe('orders', { from: 'earliest' });
    const got = await take(consumer, 3);
    t.deepEqual(got.map((r) => r.offset), [0, 1, 2]);
    t.is(text(got[0]!.key), 'k1');
    t.is(text(got[0]!.value), 'first');
    t.deepEqual(got[0]!.headers.map((x) => [x.key, text(x.value)]), [['h', 'v']]);
    t.deepEqual([...got[2]!.value!], [1, 2, 3]);
    t.is(got[2]!.timestamp, 1234);
    await consumer.close();
  } finally {
    await h.stop();
  }
});

test('live tail: records appended after subscribing arrive, lz4 and plain, decoding or not', async (t) => {
  const h = await startGateway();
  try {
    const producer = await h.connect();
    const lz4Reader = await h.connect();
    const plainReader = await h.connect({ lz4: false });
    await producer.createTopic('live', { partitions: 2 });
    const s1 = lz4Reader.subscribe('live', { from: 'latest' });
    const s2 = plainReader.subscribe('live', { from: 'latest' });
    await Promise.all([s1.ready, s2.ready]);
    const p = producer.producer({ compression: 'lz4', lingerMs: 2 });
    const sent = await p.send('live', Array.from({ length: 200 }, (_, i) => ({ value: `v${i}`.repeat(20) })));
    t.is(sent.length, 200);
    const [r1, r2] = await Promise.all([take(s1, 200), take(s2, 200)]);
    const norm = (rs: ClientRecord[]) => rs.map((r) => `${r.partition}:${r.offset}:${text(r.value)}`).sort();
    t.deepEqual(norm(r1), norm(r2));
    t.deepEqual(new Set(r1.map((r) => text(r.value))), new Set(sent.map((_, i) => `v${i}`.repeat(20))));
  } finally {
    await h.stop();
  }
});

test('many in-flight produces and many subscriptions share one socket; keyed records route like Kafka', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('multi', { partitions: 4 });
    await c.createTopic('other', { partitions: 1 });
    const subs = [0, 1, 2, 3].map((p) => c.subscribe('multi', { partitions: p, from: 'earliest' }));
    const otherSub = c.subscribe('other', { from: 'earliest' });
    await Promise.all([...subs.map((s) => s.ready), otherSub.ready]);
    const producer = c.producer({ lingerMs: 0, maxBatchBytes: 200 });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      sends.push(producer.send('multi', { key: `key-${i % 37}`, value: `m${i}` }));
      if (i % 4 === 0) sends.push(producer.send('other', { value: `o${i}` }));
    }
    const metas = (await Promise.all(sends)) as Array<{ topic: string; partition: number; offset: number }>;
    const multi = metas.filter((m) => m.topic === 'multi');
    // Same key, same partition; offsets per partition dense.
    const { partitionForKey } = await import('../../engine/format/partitioner.js');
    for (let i = 0; i < 400; i++) t.is(multi[i]!.partition, partitionForKey(`key-${i % 37}`, 4));
    const counts = [0, 0, 0, 0];
    for (const m of multi) counts[m.partition]!++;
    const perPartition = await Promise.all(subs.map((s, p) => take(s, counts[p]!)));
    perPartition.forEach((records, p) => {
      t.deepEqual(records.map((r) => r.offset), Array.from({ length: counts[p]! }, (_, i) => i));
      t.true(records.every((r) => r.partition === p));
    });
    const others = await take(otherSub, 100);
    t.deepEqual(others.map((r) => text(r.value)), Array.from({ length: 100 }, (_, i) => `o${i * 4}`));
  } finally {
    await h.stop();
  }
});

test('start positions: earliest, latest, offset, timestamp, and out-of-range offset', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('pos', { partitions: 1 });
    const base = 1_700_000_000_000;
    for (let i = 0; i < 10; i++) await c.send('pos', { value: `r${i}`, timestamp: base + i * 1000 });
    const values = (rs: ClientRecord[]) => rs.map((r) => text(r.value));
    t.deepEqual(values(await take(c.subscribe('pos', { from: 'earliest' }), 2)), ['r0', 'r1']);
    t.deepEqual(values(await take(c.subscribe('pos', { from: { offset: 7 } }), 3)), ['r7', 'r8', 'r9']);
    t.deepEqual(values(await take(c.subscribe('pos', { from: { timestamp: base + 4500 } }), 2)), ['r5', 'r6']);
    t.deepEqual(values(await take(c.subscribe('pos', { from: new Date(base + 9000) }), 1)), ['r9']);
    const latest = c.subscribe('pos', { from: 'latest' });
    const [start] = await latest.ready;
    t.is(start!.startOffset, 10);
    await c.send('pos', { value: 'r10' });
    t.deepEqual(values(await take(latest, 1)), ['r10']);
    const bad = c.subscribe('pos', { from: { offset: 99 } });
    await t.throwsAsync(bad.next(), { code: 'OFFSET_OUT_OF_RANGE' } as never);
    const future = c.subscribe('pos', { from: { timestamp: Date.now() + 1e9 }, stopAtEnd: true });
    t.deepEqual(await take(future, 5), []);
  } finally {
    await h.stop();
  }
});

test('a start offset below the log start (retention ran) gets a GAP, then records from the log start', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('cut', { partitions: 1, segmentBytes: 64 * 1024, retentionBytes: 64 * 1024 });
    const value = 'x'.repeat(1000);
    for (let i = 0; i < 40; i++) await c.send('cut', Array.from({ length: 8 }, () => ({ value })));
    await h.engine.runRetention();
    const { startOffset } = h.engine.offsets('cut', 0);
    t.true(startOffset > 0, `retention moved the log start to ${startOffset}`);
    const gaps: Array<{ fromOffset: number; toOffset: number }> = [];
    const sub = c.subscribe('cut', { from: { offset: 3 }, onGap: (g) => gaps.push({ fromOffset: g.fromOffset, toOffset: g.toOffset }) });
    const [start] = await sub.ready;
    t.is(start!.startOffset, 3);
    const [first] = await take(sub, 1);
    t.is(first!.offset, startOffset);
    t.deepEqual(gaps, [{ fromOffset: 3, toOffset: startOffset }]);
    await sub.close();
  } finally {
    await h.stop();
  }
});

test('stopAtEnd reads to the end offsets seen at start, across partitions', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('ends', { partitions: 3 });
    await c.send('ends', Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `${i}` })));
    const got: ClientRecord[] = [];
    for await (const r of c.subscribe('ends', { from: 'earliest', stopAtEnd: true })) got.push(r);
    t.is(got.length, 30);
    t.deepEqual(new Set(got.map((r) => text(r.value))).size, 30);
  } finally {
    await h.stop();
  }
});

test('fetch pulls a range; unsubscribe stops deliveries', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('pull', { partitions: 1 });
    await c.send('pull', Array.from({ length: 50 }, (_, i) => ({ value: `x${i}` })));
    const f = await c.fetch('pull', 0, 20);
    t.is(f.records[0]!.offset, 20);
    t.is(f.records.at(-1)!.offset, 49);
    t.is(f.endOffset, 50);
    t.is(f.nextOffset, 50);
    const empty = await c.fetch('pull', 0, 50);
    t.deepEqual(empty.records, []);
    await t.throwsAsync(c.fetch('pull', 0, 51), { code: 'OFFSET_OUT_OF_RANGE' } as never);
    const s = c.subscribe('pull', { from: 'earliest' });
    t.is((await take(s, 50)).length, 50);
    await s.close();
    await until(() => h.server.sessionStats().every((x) => x.subscriptions.length === 0), 'server-side unsubscribe');
    t.deepEqual(await s.next(), { value: undefined, done: true });
  } finally {
    await h.stop();
  }
});
