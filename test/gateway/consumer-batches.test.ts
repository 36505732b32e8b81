// Consumer.batches()/nextBatch(): one array per delivered record batch, with the same start
// offsets, credit, stopAtEnd and commit positions as the per-record iterator.
import test from 'ava';
import type { ClientRecord } from '../../gateway/client/client.js';
import { startGateway, text } from './helpers.js';

/** Batch sizes sent to each partition: batch boundaries the consumer should hand back. */
const SIZES = [5, 1, 12, 7, 30, 3, 9, 20, 2, 11];

async function fillTopic(h: Awaited<ReturnType<typeof startGateway>>, topic: string): Promise<void> {
  const c = await h.connect();
  await c.createTopic(topic, { partitions: 2 });
  for (const partition of [0, 1]) {
    let n = 0;
    for (const size of SIZES) {
      await c.sendBatch(topic, Array.from({ length: size }, () => ({ value: `p${partition}-${n++}`.padEnd(60, '.') })), { partition });
    }
  }
}

const total = SIZES.reduce((a, b) => a + b, 0);

test('batches(): one array per stored batch, from the start offset, every record once, through a small credit window', async (t) => {
  const h = await startGateway();
  try {
    await fillTopic(h, 'b');
    const c = await h.connect();
    // Window smaller than the topic: credit must flow back as arrays are consumed.
    const consumer = c.subscribe('b', { partitions: 0, from: { offset: 3 }, stopAtEnd: true, maxBufferedBytes: 1024 });
    const arrays: ClientRecord[][] = [];
    for await (const records of consumer.batches()) {
      arrays.push(records);
      if (arrays.length > 100) break;
    }
    const expectedSizes = [SIZES[0]! - 3, ...SIZES.slice(1)];
    t.deepEqual(arrays.map((a) => a.length), expectedSizes, 'batch boundaries as stored, first one cut at the start offset');
    const offsets = arrays.flat().map((r) => r.offset);
    t.deepEqual(offsets, Array.from({ length: total - 3 }, (_, i) => i + 3));
    t.true(arrays.flat().every((r) => r.partition === 0 && text(r.value)!.startsWith(`p0-${r.offset}.`)));
    t.deepEqual(consumer.positions(), new Map([[0, total]]));
  } finally {
    await h.stop();
  }
});

test('nextBatch() mixes with next(): the rest of a batch comes back; stopAtEnd ends at the end offsets seen at start; both partitions', async (t) => {
  const h = await startGateway();
  try {
    await fillTopic(h, 'mix');
    const c = await h.connect();
    const producer = c.producer({ lingerMs: 0 });
    const consumer = c.subscribe('mix', { from: 'earliest', stopAtEnd: true, maxBufferedBytes: 2048 });
    await consumer.ready;
    // Appended after the subscription started: beyond stopAtEnd's end, never handed out.
    await producer.sendBatch('mix', [{ value: 'late-1' }, { value: 'late-2' }], { partition: 0 });
    const first = await consumer.next();
    t.false(first.done);
    const rest = await consumer.nextBatch();
    t.not(rest, null);
    const firstPartition = (first.value as ClientRecord).partition;
    t.deepEqual([(first.value as ClientRecord).offset, ...rest!.map((r) => r.offset)], [0, 1, 2, 3, 4], 'the rest of the first batch');
    t.true(rest!.every((r) => r.partition === firstPartition));
    const seen = new Map<number, number[]>([[firstPartition, [0, 1, 2, 3, 4]]]);
    for (let i = 0; i < 100; i++) {
      const records = i % 2 === 0 ? await consumer.nextBatch() : await consumer.next().then((r) => (r.done ? null : [r.value]));
      if (records === null) break;
      for (const r of records) {
        if (!seen.has(r.partition)) seen.set(r.partition, []);
        seen.get(r.partition)!.push(r.offset);
      }
    }
    for (const p of [0, 1]) t.deepEqual(seen.get(p), Array.from({ length: total }, (_, i) => i), `partition ${p}: every record once, none past the end`);
    t.is(await consumer.nextBatch(), null, 'over');
  } finally {
    await h.stop();
  }
});

test('batches() with a group: commit() stores the offset after the last array handed out; a new consumer starts there', async (t) => {
  const h = await startGateway();
  try {
    await fillTopic(h, 'g');
    const c = await h.connect();
    const consumer = c.subscribe('g', { partitions: 1, from: 'earliest', group: 'batchers', autoCommit: false });
    const it = consumer.batches();
    const a = await it.next();
    const b = await it.next();
    t.false(a.done || b.done);
    await consumer.commit();
    const expected = SIZES[0]! + SIZES[1]!;
    t.is(await c.committed('batchers', 'g', 1), expected);
    await it.return!();
    const again = c.subscribe('g', { partitions: 1, from: 'earliest', group: 'batchers' });
    const next = await again.nextBatch();
    t.is(next![0]!.offset, expected);
    t.is(next!.length, SIZES[2]);
    await again.close();
  } finally {
    await h.stop();
  }
});
