// The browser-safe batch codec must produce and read the same bytes as the engine's.
import test from 'ava';
import fc from 'fast-check';
import { decodeRecords, encodeBatch, validateProducerBatch, setBatchBaseOffset } from '../../engine/record-batch.js';
import type { RecordInput } from '../../engine/types.js';
import { batchProblem, decodeBatches, encodeRecordBatch } from '../../gateway/client/record-codec.js';
import { loadLz4, lz4DecompressFrame } from '../../gateway/client/lz4.js';
import { compressFrameSync } from 'lz4-napi';

const enc = new TextEncoder();

const bytesArb = fc.oneof(fc.constant(null), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.uint8Array({ maxLength: 64 }));
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: bytesArb,
  value: bytesArb,
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 10 }), value: bytesArb }), { maxLength: 3 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
});

function asBytes(v: string | Uint8Array | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.from(typeof v === 'string' ? enc.encode(v) : v);
}

test.before(async () => {
  await loadLz4();
});

test('uncompressed batches are byte-for-byte identical to the engine encoder', (t) => {
  fc.assert(
    fc.property(fc.array(recordArb, { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 2 ** 45 }), (records, now) => {
      const ours = encodeRecordBatch(records, { now });
      const theirs = encodeBatch(records, { now });
      t.deepEqual(Buffer.from(ours), theirs);
    }),
    { numRuns: 200 },
  );
});

test('engine-encoded batches (none and lz4) decode the same with the client codec', (t) => {
  fc.assert(
    fc.property(fc.array(recordArb, { minLength: 1, maxLength: 20 }), fc.constantFrom('none', 'lz4'), fc.nat(1e9), (records, compression, base) => {
      const batch = encodeBatch(records, { compression: compression as 'none' | 'lz4', now: 1 });
      setBatchBaseOffset(batch, 0, base);
      const expected = decodeRecords(batch);
      const got = decodeBatches(batch, 't', 0, 0, true);
      t.is(got.length, expected.length);
      got.forEach((r, i) => {
        const e = expected[i]!;
        t.is(r.offset, e.offset);
        t.is(r.timestamp, e.timestamp);
        t.deepEqual(asBytes(r.key), asBytes(e.key));
        t.deepEqual(asBytes(r.value), asBytes(e.value));
        t.deepEqual(r.headers.map((h) => [h.key, asBytes(h.value)]), e.headers.map((h) => [h.key, asBytes(h.value)]));
      });
    }),
    { numRuns: 100 },
  );
});

test('client lz4 batches validate and decode with the engine codec', (t) => {
  fc.assert(
    fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), (records) => {
      const ours = Buffer.from(encodeRecordBatch(records, { compression: 'lz4', now: 7 }));
      t.notThrows(() => validateProducerBatch(ours));
      const plain = encodeBatch(records, { now: 7 });
      const a = decodeRecords(ours);
      const b = decodeRecords(plain);
      t.deepEqual(a, b);
    }),
    { numRuns: 100 },
  );
});

test('headroom leaves room for a frame header and the batch is unchanged', (t) => {
  const records = [{ key: 'k', value: 'v' }];
  const a = encodeRecordBatch(records, { now: 5, headroomBytes: 17 });
  const b = encodeRecordBatch(records, { now: 5 });
  t.deepEqual(a.subarray(17), b);
  const c = encodeRecordBatch(records, { now: 5, headroomBytes: 9, compression: 'lz4' });
  t.is(batchProblem(c, 9, c.byteLength), null);
});

test('lz4 frames from lz4-napi decompress with the client decoder, large and small', (t) => {
  for (const n of [0, 1, 1000, 300_000, 1_500_000]) {
    const src = new Uint8Array(n);
    for (let i = 0; i < n; i++) src[i] = (i * 7919) % 251 < 200 ? 65 : i & 0xff;
    t.deepEqual(lz4DecompressFrame(compressFrameSync(Buffer.from(src))), src);
  }
});

test('corruption is detected: bad CRC, lying length, truncated lz4', (t) => {
  const batch = encodeRecordBatch([{ value: 'hello' }], { now: 1 });
  const bad = batch.slice();
  bad[bad.length - 1]! ^= 0xff;
  t.regex(batchProblem(bad, 0, bad.length) ?? '', /CRC/);
  const lying = batch.slice();
  lying[11] = lying[11]! + 5;
  t.regex(batchProblem(lying, 0, lying.length) ?? '', /does not fit/);
  t.throws(() => decodeBatches(bad, 't', 0, 0, true), { message: /CRC/ });
  const frame = compressFrameSync(Buffer.alloc(10000, 3));
  t.throws(() => lz4DecompressFrame(frame.subarray(0, frame.length - 9)), { message: /LZ4/ });
});

test('decode skips records before fromOffset', (t) => {
  const batch = Buffer.from(encodeRecordBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }], { now: 1 }));
  setBatchBaseOffset(batch, 0, 10);
  t.deepEqual(decodeBatches(batch, 't', 0, 11).map((r) => r.offset), [11, 12]);
  t.deepEqual(decodeBatches(batch, 't', 0, 13), []);
});
