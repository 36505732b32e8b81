// Producer ordering: per partition, records are stored in the order they were sent, whatever mix
// of keyed and keyless records, single sends, arrays and sendBatch() calls; and what a producer
// accepted before close() is sent, not dropped.
import test from 'ava';
import type { Engine } from '../../engine/index.js';
import type { SeglogClient } from '../../gateway/client/client.js';
import { startGateway, text } from './helpers.js';

/** Every stored value of every partition, in offset order. */
function stored(engine: Engine, topic: string, partitions: number): string[][] {
  const out: string[][] = [];
  for (let p = 0; p < partitions; p++) {
    const rs = engine.read(topic, p, 0, { maxRecords: 100_000 });
    out.push(rs.map((r) => text(r.value ? new Uint8Array(r.value) : null)!));
  }
  return out;
}

/**
 * Interleaves keyless and keyed records through send() (single and arrays) and sendBatch(), in
 * one tick and across ticks; values are `#<sequence>`. Returns the send order and where each went.
 */
async function sendMixed(client: SeglogClient, topic: string, lingerMs: number): Promise<{ order: string[]; partitionOf: Map<string, number> }> {
  const producer = client.producer({ lingerMs, maxBatchBytes: 400 });
  const order: string[] = [];
  const partitionOf = new Map<string, number>();
  const work: Promise<void>[] = [];
  let seq = 0;
  const next = (): string => {
    const v = `#${seq++}`;
    order.push(v);
    return v;
  };
  for (let round = 0; round < 12; round++) {
    for (let i = 0; i < 20; i++) {
      const v = next();
      const key = i % 3 === 0 ? `key-${(round * 7 + i) % 5}` : null;
      work.push(producer.send(topic, { key, value: v }).then((m) => void partitionOf.set(v, m.partition)));
    }
    const arr = Array.from({ length: 6 }, (_, i) => ({ key: i % 2 === 0 ? null : `key-${i}`, value: next() }));
    work.push(producer.send(topic, arr).then((ms) => ms.forEach((m, i) => partitionOf.set(arr[i]!.value, m.partition))));
    const bulk = Array.from({ length: 4 }, () => ({ value: next() }));
    work.push(producer.sendBatch(topic, bulk).then((m) => bulk.forEach((r) => partitionOf.set(r.value, m.partition))));
    const v = next();
    work.push(producer.send(topic, { value: v }).then((m) => void partitionOf.set(v, m.partition)));
    // Sometimes past the linger time, so some batches leave on the linger timer (the clock under test).
    if (round % 3 === 2) await new Promise((r) => setTimeout(r, lingerMs + 1));
  }
  await Promise.all(work);
  await producer.close();
  return { order, partitionOf };
}

for (const partitions of [1, 3]) {
  test(`mixed keyed and keyless records, send() and sendBatch(), ${partitions} partition(s): per partition, stored order is send order`, async (t) => {
    const h = await startGateway();
    try {
      // A fresh client: the producer has no topic metadata yet (the first calls wait for it).
      const c = await h.connect();
      await c.createTopic('mixed', { partitions });
      const { order, partitionOf } = await sendMixed(c, 'mixed', 2);
      const got = stored(h.engine, 'mixed', partitions);
      t.is(got.flat().length, order.length, 'everything stored once');
      for (let p = 0; p < partitions; p++) {
        const expected = order.filter((v) => partitionOf.get(v) === p);
        t.deepEqual(got[p], expected, `partition ${p}: stored in send order`);
      }
      if (partitions > 1) {
        // Sticky partitioning moves on as batches close: keyless records are spread out.
        const keyless = order.filter((v) => Number(v.slice(1)) % 31 >= 26); // the sendBatch() and last send() of each round
        t.true(new Set(keyless.map((v) => partitionOf.get(v))).size > 1, 'keyless records went to more than one partition');
      }
    } finally {
      await h.stop();
    }
  });
}

test('sends under different acks to one partition keep their order', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('acks', { partitions: 1 });
    const p = c.producer({ lingerMs: 5, maxBatchBytes: 200 });
    const sends: Promise<unknown>[] = [];
    const order: string[] = [];
    for (let i = 0; i < 60; i++) {
      order.push(`v${i}`);
      sends.push(p.send('acks', { value: `v${i}` }, { acks: i % 7 < 3 ? 'flushed' : 'written' }));
    }
    await Promise.all(sends);
    t.deepEqual(stored(h.engine, 'acks', 1)[0], order);
  } finally {
    await h.stop();
  }
});

test('keyless records to a topic that does not exist yet: the server picks (auto-create); keyed ones route after', async (t) => {
  const h = await startGateway({ autoCreateTopics: true, partitions: 2 });
  try {
    const c = await h.connect();
    const p = c.producer({ lingerMs: 0 });
    const first = await p.send('auto', { value: 'a' });
    t.true(first.partition === 0 || first.partition === 1);
    const keyed = await p.send('auto', { key: 'k', value: 'b' });
    const { partitionForKey } = await import('../../engine/format/partitioner.js');
    t.is(keyed.partition, partitionForKey('k', 2));
    const keyless = await p.send('auto', [{ value: 'c' }, { value: 'd' }]);
    t.is(keyless[0]!.partition, keyless[1]!.partition, 'one sticky partition per batch');
  } finally {
    await h.stop();
  }
});

test('close() right after send(): records accepted before close are sent, not rejected', async (t) => {
  const h = await startGateway();
  try {
    const setup = await h.connect();
    await setup.createTopic('closing', { partitions: 3 });
    // Fresh clients: their producers must first ask for the partition count.
    const c1 = await h.connect();
    const keyed = c1.send('closing', { key: 'k1', value: 'keyed' });
    const many = c1.send('closing', [{ value: 'x' }, { key: 'k2', value: 'y' }]);
    await c1.close();
    const [m1, m2] = await Promise.all([keyed, many]);
    t.is(m2.length, 2);
    const c2 = await h.connect();
    const p = c2.producer({ lingerMs: 50 });
    const pending = Array.from({ length: 10 }, (_, i) => p.send('closing', { key: `k${i}`, value: `v${i}` }));
    await p.close();
    const metas = await Promise.all(pending);
    t.is(metas.length, 10);
    const total = [0, 1, 2].reduce((n, q) => n + h.engine.offsets('closing', q).endOffset, 0);
    t.is(total, 13);
    t.is(h.engine.read('closing', m1.partition, m1.offset, { maxRecords: 1 })[0]!.value!.toString(), 'keyed');
    await t.throwsAsync(p.send('closing', { value: 'late' }), { code: 'CLOSED' });
  } finally {
    await h.stop();
  }
});

test('a send() with an invalid record stores nothing of that call', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('invalid', { partitions: 1 });
    await t.throwsAsync(c.send('invalid', [{ value: 'ok' }, null as never, { value: 'ok2' }]), { code: 'INVALID_RECORD' });
    await c.send('invalid', { value: 'after' });
    t.deepEqual(stored(h.engine, 'invalid', 1)[0], ['after']);
  } finally {
    await h.stop();
  }
});
