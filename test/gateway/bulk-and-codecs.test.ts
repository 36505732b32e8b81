// sendBatch() (one answer per call), ordering between send() and sendBatch(), the consumer's
// positions with lazy decoding, and the native/JavaScript codec choice of the client.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { decodeBatches, encodeRecordBatch, batchProblem } from '../../gateway/client/record-codec.js';
import { crc32c, crc32cImplementation, loadNativeCrc32c, preferNativeCrc32c } from '../../gateway/client/crc32c.js';
import { loadLz4, lz4CompressFrame, lz4DecompressFrame, lz4Implementation, preferNativeLz4 } from '../../gateway/client/lz4.js';
import { startGateway, take, text } from './helpers.js';

test('sendBatch resolves once with partition, baseOffset and count; the records read back in order', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('bulk', { partitions: 3 });
    await c.send('bulk', { value: 'before' }, { partition: 2 });
    const res = await c.producer().sendBatch('bulk', [{ value: 'a' }, { key: 'k', value: 'b' }, { value: 'c', headers: { x: 'y' } }], { partition: 2 });
    t.deepEqual(res, { topic: 'bulk', partition: 2, baseOffset: 1, count: 3 });
    const stored = h.engine.read('bulk', 2, res.baseOffset);
    t.deepEqual(stored.map((r) => r.offset), [1, 2, 3]);
    t.deepEqual(stored.map((r) => r.value!.toString()), ['a', 'b', 'c']);
    // Without a partition, the server picks one; count and offsets still describe the call.
    const any = await c.sendBatch('bulk', [{ value: 'p' }, { value: 'q' }]);
    t.is(any.count, 2);
    t.deepEqual(h.engine.read('bulk', any.partition, any.baseOffset).slice(0, 2).map((r) => r.value!.toString()), ['p', 'q']);
    t.deepEqual(await c.producer().sendBatch('bulk', []), { topic: 'bulk', partition: -1, baseOffset: -1, count: 0 });
  } finally {
    await h.stop();
  }
});

test('sendBatch keeps order with send() on the same partition', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('order', { partitions: 1 });
    const p = c.producer({ lingerMs: 20 });
    const first = p.send('order', { value: '1' }, { partition: 0 });
    const bulk = p.sendBatch('order', [{ value: '2' }, { value: '3' }], { partition: 0 });
    const last = p.send('order', { value: '4' }, { partition: 0 });
    const [a, b, d] = await Promise.all([first, bulk, last]);
    t.is(a.offset, 0);
    t.is(b.baseOffset, 1);
    t.is(d.offset, 3);
    t.deepEqual(h.engine.read('order', 0, 0).map((r) => r.value!.toString()), ['1', '2', '3', '4']);
  } finally {
    await h.stop();
  }
});

test('sendBatch over the server limit fails with BATCH_TOO_LARGE, writes nothing, and the producer goes on', async (t) => {
  const h = await startGateway({}, { maxBatchBytes: 64 * 1024 });
  try {
    const c = await h.connect();
    await c.createTopic('big', { partitions: 1 });
    const p = c.producer();
    const records = Array.from({ length: 100 }, () => ({ value: randomBytes(1000) }));
    await t.throwsAsync(p.sendBatch('big', records), { code: 'BATCH_TOO_LARGE' } as never);
    t.is(h.engine.offsets('big', 0).endOffset, 0);
    await t.throwsAsync(p.sendBatch('big', [null as never]), { code: 'INVALID_RECORD' } as never);
    await t.throwsAsync(p.sendBatch('big', [{ value: 'x' }], { partition: -3 }), { code: 'INVALID_ARGUMENT' } as never);
    // send() splits the same records into batches that fit.
    const sent = await p.send('big', records);
    t.deepEqual(sent.map((m) => m.offset), records.map((_, i) => i));
    t.true(h.engine.readBatches('big', 0, 0, { maxBytes: 1 << 24 }).batches.length > 1);
    const ok = await p.sendBatch('big', records.slice(0, 10));
    t.is(ok.baseOffset, 100);
  } finally {
    await h.stop();
  }
});

test('many single sends: each resolves with its own offset, across batches', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('singles', { partitions: 1 });
    const p = c.producer({ lingerMs: 0, maxBatchBytes: 4096, maxInFlightBatches: 2 });
    const pending = Array.from({ length: 3000 }, (_, i) => p.send('singles', { value: `r${i}` }));
    const results = await Promise.all(pending);
    t.deepEqual(results.map((m) => m.offset), results.map((_, i) => i));
    const stored = h.engine.read('singles', 0, 2990);
    t.deepEqual(stored.map((r) => r.value!.toString()), Array.from({ length: 10 }, (_, i) => `r${2990 + i}`));
  } finally {
    await h.stop();
  }
});

test('consumer positions follow what was yielded, across deliveries of many batches (stopAtEnd)', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('pos', { partitions: 1 });
    for (let b = 0; b < 20; b++) await c.send('pos', Array.from({ length: 50 }, (_, i) => ({ value: `v${b * 50 + i}` })));
    const consumer = c.subscribe('pos', { from: 'earliest', stopAtEnd: true, maxBufferedBytes: 4096 });
    const first = await take(consumer, 123);
    t.deepEqual(first.map((r) => r.offset), first.map((_, i) => i));
    t.deepEqual([...consumer.positions()], [[0, 123]]);
    const rest: string[] = [];
    for await (const r of consumer) rest.push(text(r.value)!);
    t.is(rest.length, 1000 - 123);
    t.is(rest[0], 'v123');
    t.is(rest.at(-1), 'v999');
    t.deepEqual([...consumer.positions()], [[0, 1000]]);
  } finally {
    await h.stop();
  }
});

test('native and JavaScript CRC-32C agree; the client uses the native one in Node', async (t) => {
  t.true(await loadNativeCrc32c());
  t.is(crc32cImplementation(), 'native');
  const data = randomBytes(100_000);
  const native = crc32c(data);
  preferNativeCrc32c(false);
  try {
    t.is(crc32cImplementation(), 'js');
    t.is(crc32c(data), native);
    t.is(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
    // A batch encoded with the JavaScript CRC validates (and is the same bytes).
    const js = encodeRecordBatch([{ value: 'x' }, { value: data }], { now: 7 });
    preferNativeCrc32c(true);
    t.is(batchProblem(js, 0, js.byteLength), null);
    t.deepEqual(encodeRecordBatch([{ value: 'x' }, { value: data }], { now: 7 }), js);
  } finally {
    preferNativeCrc32c(true);
  }
});

test('native and JavaScript LZ4 read each other; bad frames are CorruptRecord errors either way', async (t) => {
  t.true(await loadLz4());
  t.is(lz4Implementation(), 'native');
  const src = new Uint8Array(300_000);
  for (let i = 0; i < src.length; i++) src[i] = (i * 7919) % 251 < 200 ? 65 : i & 0xff;
  const nativeFrame = lz4CompressFrame(src);
  t.false(nativeFrame.constructor !== Uint8Array, 'a plain Uint8Array view');
  preferNativeLz4(false);
  try {
    t.is(lz4Implementation(), 'js');
    const jsFrame = lz4CompressFrame(src);
    t.deepEqual(lz4DecompressFrame(nativeFrame), src);
    t.throws(() => lz4DecompressFrame(jsFrame.subarray(0, jsFrame.length - 9)), { message: /LZ4/ });
    preferNativeLz4(true);
    t.deepEqual(lz4DecompressFrame(jsFrame), src);
    t.throws(() => lz4DecompressFrame(nativeFrame.subarray(0, nativeFrame.length - 9)), { message: /LZ4/ });
    t.throws(() => lz4DecompressFrame(new Uint8Array(20)), { message: /LZ4/ });
    const batch = encodeRecordBatch([{ value: src }], { compression: 'lz4', now: 1 });
    t.deepEqual(decodeBatches(batch, 't', 0)[0]!.value, src);
  } finally {
    preferNativeLz4(true);
  }
});
