import test from 'ava';
import fs from 'node:fs';
import { Engine } from '../../engine/index.js';
import { encodeBatch, batchBaseOffset, decodeRecords } from '../../engine/record-batch.js';
import { until } from '../helpers/until.js';
import { bothModes, filesAwaitingDeletion, onDisk, tempDir, text, ticks } from './helpers.js';

bothModes('produce then read returns the records with offsets, keys, values, headers, timestamps', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  const res = await engine.produce('t', [
    { key: 'k1', value: 'v1', headers: { h: 'x' }, timestamp: 1000 },
    { value: Buffer.from([1, 2, 3]), timestamp: 2000 },
    { key: null, value: null },
  ]);
  t.deepEqual(res, [{ partition: 0, offset: 0 }, { partition: 0, offset: 1 }, { partition: 0, offset: 2 }]);
  const records = engine.read('t', 0, 0);
  t.is(records.length, 3);
  t.is(records[0]!.topic, 't');
  t.is(records[0]!.partition, 0);
  t.is(text(records[0]!.key), 'k1');
  t.is(text(records[0]!.value), 'v1');
  t.deepEqual(records[0]!.headers.map((h) => [h.key, text(h.value)]), [['h', 'x']]);
  t.is(records[0]!.timestamp, 1000);
  t.deepEqual([...records[1]!.value!], [1, 2, 3]);
  t.is(records[1]!.key, null);
  t.is(records[2]!.value, null);
  t.deepEqual(records.map((r) => r.offset), [0, 1, 2]);
  // From the middle of a batch: the earlier records are skipped.
  t.deepEqual(engine.read('t', 0, 1).map((r) => r.offset), [1, 2]);
  t.deepEqual(engine.read('t', 0, 3), []);
  t.deepEqual(engine.offsets('t', 0), { startOffset: 0, endOffset: 3 });
});

bothModes('read honours maxRecords and maxBytes across many batches', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  for (let i = 0; i < 50; i++) await engine.produce('t', [{ value: `a${i}` }, { value: `b${i}` }]);
  const some = engine.read('t', 0, 5, { maxRecords: 7 });
  t.deepEqual(some.map((r) => r.offset), [5, 6, 7, 8, 9, 10, 11]);
  const small = engine.read('t', 0, 0, { maxBytes: 1 });
  t.is(small.length, 2, 'one whole batch even when larger than maxBytes');
  const all: number[] = [];
  let next = 0;
  for (let i = 0; i < 200 && next < 100; i++) {
    const rs = engine.read('t', 0, next, { maxRecords: 13 });
    all.push(...rs.map((r) => r.offset));
    next = rs[rs.length - 1]!.offset + 1;
  }
  t.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
});

bothModes('lz4 topics store compressed batches and read back transparently', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('z', { compression: 'lz4' });
  const value = 'compressible '.repeat(200);
  await engine.produce('z', Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value })));
  const { batches } = engine.readBatches('z', 0, 0);
  t.is(batches.length, 1);
  t.is(batches[0]![22]! & 7, 3, 'codec lz4 in the stored batch');
  t.true(batches[0]!.length < value.length * 2);
  const records = engine.read('z', 0, 0);
  t.is(records.length, 20);
  t.true(records.every((r) => text(r.value) === value));
});

bothModes('readBatches returns raw batches with stamped offsets and nextOffset', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  await engine.produce('t', [{ value: 'a' }, { value: 'b' }]);
  await engine.produce('t', [{ value: 'c' }]);
  const r = engine.readBatches('t', 0, 1);
  t.is(r.batches.length, 2);
  t.is(batchBaseOffset(r.batches[0]!), 0);
  t.is(batchBaseOffset(r.batches[1]!), 2);
  t.is(r.nextOffset, 3);
  t.is(r.startOffset, 0);
  t.is(r.endOffset, 3);
  t.deepEqual(decodeRecords(r.batches[0]!, 1).map((x) => text(x.value)), ['b']);
  const atEnd = engine.readBatches('t', 0, 3);
  t.deepEqual(atEnd.batches, []);
  t.is(atEnd.nextOffset, 3);
});

bothModes('appendBatch appends an encoded batch as bytes, round robin without partition', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 3 });
  const batch = encodeBatch([{ value: 'x' }, { value: 'y' }], { compression: 'lz4' });
  const copy = Buffer.from(batch);
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await engine.appendBatch('t', batch));
  t.deepEqual(batch, copy, 'the caller\'s bytes are not modified');
  t.deepEqual(results.map((r) => r.partition).sort(), [0, 0, 1, 1, 2, 2]);
  const first = results.find((r) => r.partition === 1)!;
  const second = results.filter((r) => r.partition === 1)[1]!;
  t.deepEqual([first.baseOffset, first.lastOffset, second.baseOffset, second.lastOffset], [0, 1, 2, 3]);
  const given = await engine.appendBatch('t', batch, { partition: 2, acks: 'flushed' });
  t.deepEqual(given, { partition: 2, baseOffset: 4, lastOffset: 5 });
  t.deepEqual(engine.read('t', 2, 4).map((r) => text(r.value)), ['x', 'y']);
});

bothModes('offsetForTimestamp finds the first offset at or after a timestamp', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  for (let i = 0; i < 10; i++) await engine.produce('t', [{ value: `v${i}`, timestamp: 1000 + i * 100 }]);
  t.is(engine.offsetForTimestamp('t', 0, 0), 0);
  t.is(engine.offsetForTimestamp('t', 0, 1000), 0);
  t.is(engine.offsetForTimestamp('t', 0, 1350), 4);
  t.is(engine.offsetForTimestamp('t', 0, 1900), 9);
  t.is(engine.offsetForTimestamp('t', 0, 1901), null);
});

bothModes('acks flushed resolves after the data is flushed; describeTopic reports partitions', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 2 });
  await engine.produce('t', [{ value: 'a', timestamp: 5000 }], { partition: 1, acks: 'flushed' });
  const d = engine.describeTopic('t');
  t.is(d.name, 't');
  t.is(d.config.partitions, 2);
  t.is(d.partitions.length, 2);
  t.like(d.partitions[0], { partition: 0, startOffset: 0, endOffset: 0, sizeBytes: 0, newestTimestamp: null });
  t.like(d.partitions[1], { partition: 1, startOffset: 0, endOffset: 1, newestTimestamp: 5000 });
  t.true(d.partitions[1]!.sizeBytes > 0);
  t.true(d.partitions[1]!.segments >= 1);
});

bothModes('watch calls the listener after appends and when the engine closes; unsubscribe stops it', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 2 });
  let calls = 0;
  let other = 0;
  const stop = engine.watch('t', 0, () => void calls++);
  engine.watch('t', 1, () => void other++);
  await engine.produce('t', [{ value: 'a' }], { partition: 0 });
  await ticks();
  t.is(calls, 1);
  t.is(other, 0);
  // Several appends in one tick: at least one call, and the data is there when it runs.
  let seen = -1;
  const stop2 = engine.watch('t', 0, () => void (seen = engine.offsets('t', 0).endOffset));
  void engine.produce('t', [{ value: 'b' }], { partition: 0 });
  void engine.produce('t', [{ value: 'c' }], { partition: 0 });
  await ticks();
  t.is(seen, 3);
  stop2();
  stop();
  await engine.produce('t', [{ value: 'd' }], { partition: 0 });
  await ticks();
  t.is(calls, 2);
  await engine.close();
  t.is(other, 1, 'called once on close');
});

bothModes('consumer offsets: commit, committed, listCommitted', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 2 });
  t.is(await engine.committed('g', 't', 0), null);
  await engine.commit('g', 't', 0, 10);
  await engine.commit('g', 't', 1, 3);
  await engine.commit('g', 't', 0, 12);
  t.is(await engine.committed('g', 't', 0), 12);
  t.deepEqual(await engine.listCommitted('g'), [
    { topic: 't', partition: 0, offset: 12 },
    { topic: 't', partition: 1, offset: 3 },
  ]);
  t.deepEqual(await engine.listCommitted('nobody'), []);
});

bothModes('close is idempotent; every call after close gives CLOSED', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  const a = engine.close();
  const b = engine.close();
  await Promise.all([a, b]);
  await engine.close();
  const closed = { code: 'CLOSED' } as never;
  await t.throwsAsync(engine.produce('t', [{ value: 'x' }]), closed);
  await t.throwsAsync(engine.createTopic('u'), closed);
  t.throws(() => engine.read('t', 0, 0), closed);
  t.throws(() => engine.listTopics(), closed);
  t.throws(() => engine.subscribe('t'), closed);
  t.throws(() => engine.watch('t', 0, () => undefined), closed);
  await t.throwsAsync(engine.commit('g', 't', 0, 1), closed);
});

test('[memory] memory mode lives under /dev/shm (or the temp dir) and is removed on close', async (t) => {
  const engine = await Engine.open({ memory: true });
  t.true(engine.memory);
  t.true(fs.existsSync(engine.dir));
  if (fs.existsSync('/dev/shm')) t.true(engine.dir.startsWith('/dev/shm/'));
  await engine.createTopic('t');
  await engine.produce('t', [{ value: 'x' }]);
  t.is(engine.describeTopic('t').config.segmentBytes, 8 * 1024 * 1024, 'small default segments in memory');
  await engine.close();
  t.false(fs.existsSync(engine.dir));
  // Two memory engines are independent.
  const a = await Engine.open({ memory: true });
  const b = await Engine.open({ memory: true });
  await a.createTopic('only-a');
  t.deepEqual(b.listTopics(), []);
  await a.close();
  await b.close();
});

onDisk('a second engine on the same directory is refused with DIRECTORY_LOCKED; after close it opens', async (t, dir, open) => {
  const first = await open();
  await t.throwsAsync(Engine.open({ dir }), { code: 'DIRECTORY_LOCKED' } as never);
  await first.close();
  const second = await open();
  t.deepEqual(second.listTopics(), []);
});

onDisk('restart: topics, configs, offsets and committed offsets come back; produce continues the offsets', async (t, _dir, open) => {
  const first = await open();
  await first.createTopic('a', { partitions: 3, retentionMs: 123456, compression: 'lz4', segmentBytes: 1 << 20 });
  await first.createTopic('b');
  const res = await first.produce('a', Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
  await first.produce('b', [{ value: 'x' }, { value: 'y' }]);
  await first.commit('g', 'a', 1, 4);
  await first.commit('g', 'b', 0, 2);
  const before = first.describeTopic('a');
  await first.close();

  const second = await open();
  t.deepEqual(second.listTopics(), ['a', 'b']);
  const after = second.describeTopic('a');
  t.deepEqual(after.config, before.config);
  t.deepEqual(after.partitions.map((p) => p.endOffset), before.partitions.map((p) => p.endOffset));
  t.is(await second.committed('g', 'a', 1), 4);
  t.is(await second.committed('g', 'b', 0), 2);
  for (let i = 0; i < 30; i++) {
    const { partition, offset } = res[i]!;
    const [r] = second.read('a', partition, offset, { maxRecords: 1 });
    t.is(text(r!.value), `v${i}`);
  }
  const more = await second.produce('b', [{ value: 'z' }]);
  t.deepEqual(more, [{ partition: 0, offset: 2 }]);
  t.deepEqual(second.read('b', 0, 0).map((r) => text(r.value)), ['x', 'y', 'z']);
});

test('Engine.open validates its options', async (t) => {
  await t.throwsAsync(Engine.open({}), { code: 'INVALID_ARGUMENT' } as never);
  await t.throwsAsync(Engine.open({ memory: true, segmentBytes: 1000 }), { code: 'INVALID_ARGUMENT' } as never);
  await t.throwsAsync(Engine.open({ memory: true, compression: 'gzip' as never }), { code: 'INVALID_ARGUMENT' } as never);
  await t.throwsAsync(Engine.open({ memory: true, maxOpenPartitions: 0 }), { code: 'INVALID_ARGUMENT' } as never);
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  await t.throwsAsync(Engine.open({ dir, partitions: 0 }), { code: 'INVALID_ARGUMENT' } as never);
  // A failed open leaves the directory unlocked.
  const ok = await Engine.open({ dir });
  await ok.close();
});

test('decodeRecordsInto (the read path) gives what forEachRecord gives, skips and stops alike, and refuses what it refuses', async (t) => {
  const { decodeRecordsInto, forEachRecord } = await import('../../engine/record-batch.js');
  const records = Array.from({ length: 40 }, (_, i) => ({
    key: i % 3 === 0 ? null : `k${i}`,
    value: i % 7 === 0 ? null : Buffer.alloc(i * 5, i),
    headers: i % 4 === 0 ? [{ key: 'a', value: `h${i}` }, { key: 'b', value: null }] : undefined,
    timestamp: 5000 + i * 3,
  }));
  for (const compression of ['none', 'lz4'] as const) {
    const batch = encodeBatch(records, { compression, baseOffset: 100 });
    for (const [from, max] of [[0, 1000], [100, 1000], [117, 1000], [139, 1000], [100, 5], [120, 7], [140, 10]] as const) {
      const expected: object[] = [];
      forEachRecord(batch, (r) => {
        if (expected.length >= max) return false;
        expected.push({ topic: 'x', partition: 3, ...r });
        return expected.length < max;
      }, from);
      const out: Readonly<import('../../engine/record-batch.js').PartitionRecord>[] = [];
      const n = decodeRecordsInto(batch, 'x', 3, from, out, max);
      t.is(n, out.length);
      // Each field through the record's getters, compared with forEachRecord's plain record.
      const fields = out.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers }));
      t.deepEqual(fields, expected as never, `${compression} from ${from} max ${max}`);
    }
    // Appends to what is there and respects the total.
    const out = [{ topic: 'x', partition: 3, offset: 0, timestamp: 0, key: null, value: null, headers: [] }];
    t.is(decodeRecordsInto(batch, 'x', 3, 0, out, 3), 2);
    t.is(out.length, 3);
  }
  // Corruptions: the same error class and message as forEachRecord.
  const good = encodeBatch(records, { baseOffset: 0 });
  let detected = 0;
  for (const [pos, byte] of [[61, 0x7f], [61, 0x02], [63, 0x55], [64, 0x7f], [70, 0xff], [good.length - 1, 0x09], [57, 0x7f]] as const) {
    const bad = Buffer.from(good);
    bad[pos] = byte;
    let expected: unknown = null;
    try {
      forEachRecord(bad, () => undefined, 0);
    } catch (e) {
      expected = e;
    }
    let actual: unknown = null;
    try {
      decodeRecordsInto(bad, 'x', 0, 0, [], 1_000_000);
    } catch (e) {
      actual = e;
    }
    if (expected === null) {
      t.is(actual, null, `byte ${pos} = ${byte} is accepted by both`);
      continue;
    }
    detected++;
    t.is((actual as Error)?.constructor, (expected as Error).constructor);
    t.is((actual as Error)?.message, (expected as Error).message);
  }
  t.true(detected >= 4);
});

bothModes('a read record: getters for topic, partition, timestamp, key and value, read-only, shown whole by toJSON and inspect', async (t, fx) => {
  const { inspect } = await import('node:util');
  const engine = await fx.open();
  await engine.createTopic('shape');
  await engine.produce('shape', [{ key: 'k', value: 'v', headers: { h: 'x' }, timestamp: 1_700_000_000_123 }], { partition: 0 });
  const [r] = engine.read('shape', 0, 0);
  const whole = { topic: 'shape', partition: 0, offset: 0, timestamp: 1_700_000_000_123, key: Buffer.from('k'), value: Buffer.from('v'), headers: r!.headers };
  t.deepEqual(r!.toJSON(), whole);
  t.is(r!.headers[0]!.key, 'h');
  // Only offset and headers are own properties: a spread does not copy the getters' fields.
  t.deepEqual(Object.keys(r!).sort(), ['headers', 'offset']);
  t.deepEqual(JSON.parse(JSON.stringify(r)), JSON.parse(JSON.stringify(whole)));
  t.regex(inspect(r), /topic: 'shape'.*timestamp: 1700000000123/s);
  // Each access makes a new view of the same bytes; the getters have no setters.
  t.not(r!.value, r!.value);
  t.true(r!.value!.equals(r!.value!));
  t.is(r!.value!.buffer, r!.key!.buffer);
  t.throws(() => {
    (r as { value: unknown }).value = null;
  }, { instanceOf: TypeError });
});

bothModes('read results are copies: they survive writes and stay equal after retention removed their segment', async (t, fx) => {
  let nowMs = 1_000_000;
  const engine = await fx.open({ now: () => nowMs, fileDeleteDelayMs: 0, retentionMs: 1000 });
  await engine.createTopic('c', { segmentBytes: 64 * 1024 });
  const value = Buffer.alloc(20_000, 7);
  for (let i = 0; i < 8; i++) await engine.produce('c', [{ value, timestamp: nowMs }], { partition: 0 });
  const kept = engine.read('c', 0, 0, { maxRecords: 3 });
  t.is(kept.length, 3);
  nowMs += 10_000;
  const report = await engine.runRetention();
  t.true(report.length > 0 && report[0]!.segmentsDeleted > 0);
  await until(() => filesAwaitingDeletion(fx.dir).length === 0, 'the delayed truncation (0 ms) ran');
  for (const r of kept) t.true(r.value!.equals(value));
});
