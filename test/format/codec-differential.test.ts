// The one record batch codec under both of its runtimes: native Node (Buffers, @node-rs/crc32,
// lz4-napi) and portable JavaScript (Uint8Arrays, crc-32, lz4js), as the engine and a browser client
// run it. fast-check builds valid batches and damaged ones (byte flips, truncation, wrong counts,
// wrong offsetDelta, bad varints, bad lengths) and both runtimes must agree: the same records, or
// a refusal with the same error code.
import test from 'ava';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import { compressFrameSync } from 'lz4-napi';
import { createBatchCodec, type BatchCodec } from '../../engine/format/batch-codec.js';
import {
  CODEC_LZ4,
  CODEC_NONE,
  HEADER_BYTES,
  LOG_OVERHEAD,
  OFF_ATTRIBUTES,
  OFF_BATCH_LENGTH,
  OFF_CRC,
  OFF_LAST_OFFSET_DELTA,
  OFF_RECORD_COUNT,
  writeInt32,
  writeInt64,
} from '../../engine/format/batch-header.js';
import { isSeglogError } from '../../engine/format/errors.js';
import { writeVarint, writeVarlong } from '../../engine/format/varint.js';
import { nodeRuntime } from '../../engine/record-batch.js';
import { crc32cImplementation, preferNativeCrc32c } from '../../gateway/client/crc32c.js';
import { loadLz4, lz4Implementation, preferNativeLz4 } from '../../gateway/client/lz4.js';
import { portableRuntime } from '../../gateway/client/record-codec.js';

const RUNS = 400;
const BASE_OFFSET = 1000;
const BASE_TIMESTAMP = 1_700_000_000_000;

const native = createBatchCodec(nodeRuntime);
const portable = createBatchCodec(portableRuntime);

test.before(async () => {
  await loadLz4();
  // The portable runtime as a browser has it, even in Node.
  preferNativeCrc32c(false);
  preferNativeLz4(false);
});

/** One record as the test writes it: each field may be set to a wrong value. */
interface RecordSpec {
  tsDelta: number;
  offsetDelta: number | null; // null: the right one (its index)
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: Uint8Array; value: Uint8Array | null }[];
  lengthAdjust: number;
  /** Raw bytes written in place of the key length (a bad varint). */
  badKeyVarint: readonly number[] | null;
  headerCountAdjust: number;
}

function varint(v: number): number[] {
  const b = new Uint8Array(5);
  return [...b.subarray(0, writeVarint(b, 0, v))];
}

function varlong(v: number): number[] {
  const b = new Uint8Array(10);
  return [...b.subarray(0, writeVarlong(b, 0, v))];
}

function bytesField(v: Uint8Array | null): number[] {
  return v === null ? varint(-1) : [...varint(v.length), ...v];
}

function recordBytes(r: RecordSpec, i: number): number[] {
  const body = [
    0,
    ...varlong(r.tsDelta),
    ...varint(r.offsetDelta ?? i),
    ...(r.badKeyVarint ?? bytesField(r.key)),
    ...bytesField(r.value),
    ...varint(r.headers.length + r.headerCountAdjust),
    ...r.headers.flatMap((h) => [...bytesField(h.key), ...bytesField(h.value)]),
  ];
  return [...varint(body.length + r.lengthAdjust), ...body];
}

/** A whole batch around `section` (plain record bytes), compressed with LZ4 when asked. */
function frame(section: Uint8Array, count: number, lz4: boolean, lastDelta = count - 1): Buffer {
  const payload = lz4 ? compressFrameSync(Buffer.from(section)) : section;
  const b = Buffer.alloc(HEADER_BYTES + payload.length);
  b.set(payload, HEADER_BYTES);
  writeInt64(b, 0, BASE_OFFSET);
  writeInt32(b, OFF_BATCH_LENGTH, b.length - LOG_OVERHEAD);
  writeInt32(b, 12, -1);
  b[16] = 2;
  b.writeInt16BE(lz4 ? CODEC_LZ4 : CODEC_NONE, OFF_ATTRIBUTES);
  writeInt32(b, OFF_LAST_OFFSET_DELTA, lastDelta);
  writeInt64(b, 27, BASE_TIMESTAMP);
  writeInt64(b, 35, BASE_TIMESTAMP);
  writeInt64(b, 43, -1);
  b.writeInt16BE(-1, 51);
  writeInt32(b, 53, -1);
  writeInt32(b, OFF_RECORD_COUNT, count);
  writeInt32(b, OFF_CRC, crc32c(b.subarray(OFF_ATTRIBUTES)) >>> 0);
  return b;
}

const bytesArb = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => new TextEncoder().encode(s)));
const goodRecord: fc.Arbitrary<RecordSpec> = fc.record({
  tsDelta: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
  offsetDelta: fc.constant(null),
  key: bytesArb,
  value: bytesArb,
  headers: fc.array(fc.record({ key: fc.uint8Array({ maxLength: 8 }), value: bytesArb }), { maxLength: 3 }),
  lengthAdjust: fc.constant(0),
  badKeyVarint: fc.constant(null),
  headerCountAdjust: fc.constant(0),
});

/** How a batch is damaged (or not). Index-like numbers are taken modulo what they index. */
type Mutation =
  | { kind: 'none' }
  | { kind: 'offsetDelta'; record: number; delta: number }
  | { kind: 'recordLength'; record: number; adjust: number }
  | { kind: 'badVarint'; record: number; bytes: readonly number[] }
  | { kind: 'headerCount'; record: number; adjust: number }
  | { kind: 'sectionFlip'; at: number; mask: number }
  | { kind: 'sectionTruncate'; cut: number }
  | { kind: 'sectionJunk'; bytes: number[] }
  | { kind: 'recordCount'; adjust: number; keepLastDelta: boolean }
  | { kind: 'batchFlip'; at: number; mask: number }
  | { kind: 'batchTruncate'; cut: number }
  | { kind: 'batchLength'; adjust: number };

const nonZero = fc.integer({ min: -3, max: 3 }).filter((n) => n !== 0);
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('offsetDelta' as const), record: fc.nat(), delta: nonZero }),
  fc.record({ kind: fc.constant('recordLength' as const), record: fc.nat(), adjust: nonZero }),
  fc.record({
    kind: fc.constant('badVarint' as const),
    record: fc.nat(),
    // Longer than an int32 allows (6 bytes; a fifth byte over 0x0f), a huge length, a very negative one.
    bytes: fc.constantFrom([0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x80, 0x80, 0x80, 0x80, 0x10], [0xfe, 0xff, 0xff, 0xff, 0x07], [0xff, 0xff, 0xff, 0xff, 0x0f]),
  }),
  fc.record({ kind: fc.constant('headerCount' as const), record: fc.nat(), adjust: nonZero }),
  fc.record({ kind: fc.constant('sectionFlip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('sectionTruncate' as const), cut: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('sectionJunk' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('recordCount' as const), adjust: nonZero, keepLastDelta: fc.boolean() }),
  fc.record({ kind: fc.constant('batchFlip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('batchTruncate' as const), cut: fc.integer({ min: 1, max: 80 }) }),
  fc.record({ kind: fc.constant('batchLength' as const), adjust: fc.integer({ min: -70, max: 70 }).filter((n) => n !== 0) }),
);

function build(records: RecordSpec[], m: Mutation, lz4: boolean): Buffer {
  const specs = records.map((r) => ({ ...r }));
  const pick = (n: number): RecordSpec => specs[n % specs.length]!;
  if (m.kind === 'offsetDelta') {
    const i = m.record % specs.length;
    pick(i).offsetDelta = Math.max(0, i + m.delta) === i ? i + 1 : Math.max(0, i + m.delta);
  }
  if (m.kind === 'recordLength') pick(m.record).lengthAdjust = m.adjust;
  if (m.kind === 'badVarint') pick(m.record).badKeyVarint = m.bytes;
  if (m.kind === 'headerCount') pick(m.record).headerCountAdjust = m.adjust;
  let section = Uint8Array.from(specs.flatMap((r, i) => recordBytes(r, i)));
  if (m.kind === 'sectionFlip') section[m.at % section.length] ^= m.mask;
  if (m.kind === 'sectionTruncate') section = section.subarray(0, Math.max(0, section.length - m.cut));
  if (m.kind === 'sectionJunk') section = Uint8Array.from([...section, ...m.bytes]);
  let count = specs.length;
  let lastDelta = count - 1;
  if (m.kind === 'recordCount') {
    count = Math.max(0, count + m.adjust);
    lastDelta = m.keepLastDelta ? lastDelta : count - 1;
  }
  let batch = frame(section, count, lz4, lastDelta);
  // Damage after the CRC was computed: what the CRC (or the length checks) must catch.
  if (m.kind === 'batchFlip') batch[m.at % batch.length] ^= m.mask;
  if (m.kind === 'batchTruncate') batch = batch.subarray(0, Math.max(0, batch.length - m.cut));
  if (m.kind === 'batchLength') writeInt32(batch, OFF_BATCH_LENGTH, batch.length - LOG_OVERHEAD + m.adjust);
  return batch;
}

const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));

/** What a codec makes of a batch received from a producer: its records, or the error code. */
function outcome(codec: BatchCodec<Uint8Array>, bytes: Uint8Array): unknown {
  try {
    codec.validateProducerBatch(bytes);
    const records = codec.decodeRecords(bytes).map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: hex(r.key),
      value: hex(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: hex(h.value) })),
    }));
    return { records, plain: hex(codec.decompressBatch(bytes)) };
  } catch (e) {
    if (isSeglogError(e)) return { code: e.code };
    return { thrown: String(e) }; // never expected: fails the comparison below with its message
  }
}

const batchCase = fc.record({
  records: fc.array(goodRecord, { minLength: 1, maxLength: 8 }),
  mutation: mutationArb,
  lz4: fc.boolean(),
});

test('the portable runtime really is the JavaScript one here', (t) => {
  t.is(crc32cImplementation(), 'js');
  t.is(lz4Implementation(), 'js');
});

test('valid and damaged batches: both runtimes yield the same records or the same error code', (t) => {
  const seen = { records: 0, refused: 0 };
  fc.assert(
    fc.property(batchCase, ({ records, mutation, lz4 }) => {
      const batch = build(records, mutation, lz4);
      const a = outcome(native as unknown as BatchCodec<Uint8Array>, Buffer.from(batch));
      const b = outcome(portable, new Uint8Array(batch));
      t.deepEqual(b, a, `mutation ${JSON.stringify(mutation)}, lz4 ${lz4}`);
      t.false('thrown' in (a as object), `a non-seglog error: ${JSON.stringify(a)}`);
      if ('records' in (a as object)) seen.records++;
      else seen.refused++;
      if (mutation.kind === 'none') {
        t.true('records' in (a as object), 'an undamaged batch decodes');
        t.is((a as { records: unknown[] }).records.length, records.length);
      }
      if (mutation.kind === 'offsetDelta' || mutation.kind === 'badVarint' || mutation.kind === 'recordCount') {
        t.deepEqual(a, { code: 'CORRUPT_RECORD' }, `the strict rules refuse ${mutation.kind}`);
      }
    }),
    { numRuns: RUNS },
  );
  // Both kinds of outcome were exercised, not only one.
  t.true(seen.records > 0 && seen.refused > 0, JSON.stringify(seen));
});

test('both runtimes encode the same records to the same bytes (uncompressed) and the same records (LZ4)', (t) => {
  const inputArb = fc.array(
    fc.record({
      key: fc.oneof(fc.constant(null), fc.string({ maxLength: 12 }), fc.uint8Array({ maxLength: 12 })),
      value: fc.oneof(fc.constant(null), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.uint8Array({ maxLength: 40 })),
      headers: fc.array(fc.record({ key: fc.string({ maxLength: 6 }), value: fc.oneof(fc.constant(null), fc.string({ maxLength: 6 })) }), { maxLength: 2 }),
      timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    }),
    { minLength: 1, maxLength: 10 },
  );
  fc.assert(
    fc.property(inputArb, (inputs) => {
      const plainNative = native.encodeBatch(inputs, { now: 1, baseOffset: 7 });
      const plainPortable = portable.encodeBatch(inputs, { now: 1, baseOffset: 7 });
      t.is(hex(plainPortable), hex(plainNative));
      const lz4Native = native.encodeBatch(inputs, { now: 1, compression: 'lz4' });
      const lz4Portable = portable.encodeBatch(inputs, { now: 1, compression: 'lz4' });
      // Each runtime reads the other's LZ4 batch as the records it was given.
      t.deepEqual(outcome(portable, lz4Native), outcome(native as unknown as BatchCodec<Uint8Array>, lz4Portable));
    }),
    { numRuns: 150 },
  );
});
