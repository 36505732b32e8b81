import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { CorruptRecordError, InvalidRecordError, SeglogError } from '../../engine/format/errors.js';
import {
  HEADER_BYTES,
  OFF_ATTRIBUTES,
  OFF_BATCH_LENGTH,
  OFF_CRC,
  OFF_LEADER_EPOCH,
  OFF_MAGIC,
  OFF_RECORD_COUNT,
  batchBaseOffset,
  batchBaseTimestamp,
  batchCodec,
  batchCrc,
  batchLastOffset,
  batchLastOffsetDelta,
  batchMaxTimestamp,
  batchProblem,
  batchRecordCount,
  batchSize,
  computeBatchCrc,
  decodeRecords,
  decompressBatch,
  encodeBatch,
  forEachRecord,
  setBatchBaseOffset,
  validateProducerBatch,
  walkBatches,
  type Bytes,
  type Compression,
  type DecodedRecord,
  type RecordInput,
} from '../../engine/record-batch.js';
import {
  KAFKAJS_LZ4,
  KAFKAJS_NONE,
  kafkajsDecodeBatch,
  kafkajsEncodeBatch,
  kafkajsRawHeader,
  type KafkajsRecordInput,
} from './kafkajs-helpers.js';

const NOW = 1_700_000_000_000;
const CODECS: Compression[] = ['none', 'lz4'];

// --- expectations, computed from the input independently of the codec -------------------------

function bytesOf(v: Bytes | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
}

function headerPairs(h: RecordInput['headers']): { key: string; value: Buffer | null }[] {
  if (h === undefined) return [];
  if (Array.isArray(h)) return h.map((x) => ({ key: x.key, value: bytesOf(x.value) }));
  return Object.keys(h).map((key) => ({ key, value: bytesOf(h[key]) }));
}

/** Records as plain comparable data (hex for bytes). */
function plain(r: DecodedRecord): unknown {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
    headers: r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
  };
}

function expected(records: readonly RecordInput[], baseOffset: number, now: number): unknown[] {
  return records.map((r, i) => ({
    offset: baseOffset + i,
    timestamp: r.timestamp ?? now,
    key: bytesOf(r.key)?.toString('hex') ?? null,
    value: bytesOf(r.value)?.toString('hex') ?? null,
    headers: headerPairs(r.headers).map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
  }));
}

function roundTrip(t: ExecutionContext, records: RecordInput[], compression: Compression, baseOffset = 0): Buffer {
  const batch = encodeBatch(records, { compression, baseOffset, now: NOW });
  t.is(batchProblem(batch, 0, batch.length), null);
  t.notThrows(() => validateProducerBatch(batch));
  t.is(batchSize(batch), batch.length);
  t.is(batchCodec(batch), compression === 'lz4' ? 3 : 0);
  t.is(batchBaseOffset(batch), baseOffset);
  t.is(batchRecordCount(batch), records.length);
  t.is(batchLastOffsetDelta(batch), records.length - 1);
  t.is(batchLastOffset(batch), baseOffset + records.length - 1);
  const timestamps = records.map((r) => r.timestamp ?? NOW);
  t.is(batchBaseTimestamp(batch), timestamps[0]);
  t.is(batchMaxTimestamp(batch), Math.max(...timestamps));
  t.deepEqual(decodeRecords(batch).map(plain), expected(records, baseOffset, NOW));
  return batch;
}

// --- round trips --------------------------------------------------------------------------------

const SHAPES: [string, RecordInput[]][] = [
  ['empty key and value', [{ key: '', value: '' }, { key: new Uint8Array(0), value: new Uint8Array(0) }]],
  ['null and missing keys and values', [{ key: null, value: null }, { value: null }, { value: 'v' }, { key: 'k', value: null }]],
  ['unicode strings', [{ key: 'ключ-🔑', value: '值 — ünïcödé 🚀 \u0000 end' }, { key: '𝄞', value: 'e\u0301' }]],
  ['binary bytes', [{ key: Uint8Array.from([0, 255, 128]), value: Buffer.from([1, 2, 3, 0, 0xff]) }]],
  [
    'headers as an object, with null values',
    [{ value: 'x', headers: { 'content-type': 'application/json', trace: Buffer.from([9, 8]), empty: '', none: null } }],
  ],
  [
    'headers as an array, repeated keys in order',
    [
      {
        value: 'x',
        headers: [
          { key: 'a', value: '1' },
          { key: 'b', value: null },
          { key: 'a', value: '2' },
          { key: '', value: Uint8Array.from([7]) },
          { key: 'ü', value: '🙂' },
        ],
      },
    ],
  ],
  ['one record', [{ key: 'only', value: 'one' }]],
];

for (const compression of CODECS) {
  for (const [name, records] of SHAPES) {
    test(`round trip (${compression}): ${name}`, (t) => {
      roundTrip(t, records, compression, 42);
    });
  }

  test(`round trip (${compression}): 10,000 records with varied sizes`, (t) => {
    const records: RecordInput[] = [];
    for (let i = 0; i < 10_000; i++) {
      records.push({
        key: i % 7 === 0 ? null : `key-${i}`,
        value: Buffer.alloc(i % 300, i & 0xff),
        headers: i % 3 === 0 ? { n: String(i) } : undefined,
        timestamp: NOW + (i % 100) - 50,
      });
    }
    const batch = roundTrip(t, records, compression, 1_000_000);
    if (compression === 'lz4') t.true(batch.length < 500_000, 'repetitive data compresses');
  });

  test(`timestamps (${compression}): given, default, negative deltas and deltas beyond 2^31`, (t) => {
    const records: RecordInput[] = [
      { value: 'a', timestamp: NOW },
      { value: 'b' }, // defaults to `now`
      { value: 'c', timestamp: NOW - 10_000 },
      { value: 'd', timestamp: NOW + 2 ** 31 + 5 },
      { value: 'e', timestamp: NOW - 2 ** 33 },
      { value: 'f', timestamp: 0 },
    ];
    roundTrip(t, records, compression, 0);
    // With no timestamps at all, every record gets `now` and the batch's base and max are `now`.
    const batch = encodeBatch([{ value: 'x' }, { value: 'y' }], { compression, now: NOW + 1 });
    t.is(batchBaseTimestamp(batch), NOW + 1);
    t.is(batchMaxTimestamp(batch), NOW + 1);
    t.deepEqual(decodeRecords(batch).map((r) => r.timestamp), [NOW + 1, NOW + 1]);
  });

  test(`default clock is Date.now (${compression})`, (t) => {
    const before = Date.now();
    const batch = encodeBatch([{ value: 'x' }], { compression });
    const after = Date.now();
    const ts = decodeRecords(batch)[0]!.timestamp;
    t.true(ts >= before && ts <= after);
  });

  test(`forEachRecord (${compression}): fromOffset, early stop, position inside a larger buffer`, (t) => {
    const records = Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` }));
    const batch = encodeBatch(records, { compression, baseOffset: 100, now: NOW });
    const seen: number[] = [];
    t.is(forEachRecord(batch, (r) => void seen.push(r.offset), 113), 7);
    t.deepEqual(seen, [113, 114, 115, 116, 117, 118, 119]);
    t.is(forEachRecord(batch, () => undefined, 120), 0);
    t.is(forEachRecord(batch, () => undefined, 0), 20);

    const stopped: string[] = [];
    const delivered = forEachRecord(batch, (r) => {
      stopped.push(r.value!.toString());
      return stopped.length < 3 ? undefined : false;
    }, 105);
    t.is(delivered, 3);
    t.deepEqual(stopped, ['v5', 'v6', 'v7']);

    // A batch at a position inside a larger buffer (as a segment slice holds it).
    const padded = Buffer.concat([Buffer.alloc(37, 0xee), batch, Buffer.alloc(11, 0xdd)]);
    t.deepEqual(decodeRecords(padded, 118, 37).map((r) => r.value!.toString()), ['v18', 'v19']);
  });

  test(`forEachRecord (${compression}): a callback may decode another batch`, (t) => {
    const outer = encodeBatch([{ value: 'o1' }, { value: 'o2' }, { value: 'o3' }], { compression, baseOffset: 10 });
    const inner = encodeBatch([{ value: 'i1', headers: { h: 'x' } }], { compression: 'none', baseOffset: 99 });
    const seen: string[] = [];
    forEachRecord(outer, (r) => {
      seen.push(`${r.offset}:${r.value!.toString()}`);
      forEachRecord(inner, (x) => void seen.push(`${x.offset}:${x.value!.toString()}`));
    });
    t.deepEqual(seen, ['10:o1', '99:i1', '11:o2', '99:i1', '12:o3', '99:i1']);
  });
}

test('decoded keys and values are real Buffers equal to the input', (t) => {
  const batch = encodeBatch([{ key: 'k', value: 'héllo', headers: { a: 'b' } }]);
  const [r] = decodeRecords(batch);
  t.true(Buffer.isBuffer(r!.value));
  t.deepEqual(r!.value, Buffer.from('héllo'));
  t.deepEqual(r!.key, Buffer.from('k'));
  t.deepEqual(r!.headers, [{ key: 'a', value: Buffer.from('b') }]);
  t.is(r!.value!.subarray(1).toString(), 'éllo');
});

test('decompressBatch: an LZ4 batch becomes an equal uncompressed batch with a fresh CRC', (t) => {
  const records: RecordInput[] = Array.from({ length: 50 }, (_, i) => ({
    key: `k${i}`,
    value: 'payload '.repeat(i),
    headers: [{ key: 'i', value: String(i) }],
    timestamp: NOW + i * 3,
  }));
  const lz4 = encodeBatch(records, { compression: 'lz4', baseOffset: 7 });
  const plainBatch = decompressBatch(lz4);
  t.is(batchCodec(plainBatch), 0);
  t.is(batchProblem(plainBatch, 0, plainBatch.length), null);
  t.is(batchBaseOffset(plainBatch), 7);
  t.is(batchBaseTimestamp(plainBatch), batchBaseTimestamp(lz4));
  t.is(batchMaxTimestamp(plainBatch), batchMaxTimestamp(lz4));
  t.is(batchRecordCount(plainBatch), 50);
  t.deepEqual(decodeRecords(plainBatch).map(plain), decodeRecords(lz4).map(plain));
  // Byte for byte what the encoder writes without compression.
  t.deepEqual(plainBatch, encodeBatch(records, { compression: 'none', baseOffset: 7 }));
  // An uncompressed batch comes back as it is (a view at its position).
  const padded = Buffer.concat([Buffer.alloc(5), plainBatch]);
  t.deepEqual(decompressBatch(padded, 5), plainBatch);
});

test('setBatchBaseOffset rewrites offsets without touching the CRC', (t) => {
  const batch = encodeBatch([{ value: 'a' }, { value: 'b' }], { compression: 'none' });
  const crc = batchCrc(batch);
  setBatchBaseOffset(batch, 0, 2 ** 40 + 3);
  t.is(batchCrc(batch), crc);
  t.is(batchProblem(batch, 0, batch.length), null);
  t.deepEqual(decodeRecords(batch).map((r) => r.offset), [2 ** 40 + 3, 2 ** 40 + 4]);
});

test('walkBatches visits consecutive batches and stops before a partial one', (t) => {
  const a = encodeBatch([{ value: 'a' }], { baseOffset: 0 });
  const b = encodeBatch([{ value: 'b' }, { value: 'c' }], { baseOffset: 1, compression: 'lz4' });
  const buf = Buffer.concat([a, b, b.subarray(0, 30)]);
  const seen: [number, number][] = [];
  const end = walkBatches(buf, (pos, size) => void seen.push([pos, size]));
  t.deepEqual(seen, [
    [0, a.length],
    [a.length, b.length],
  ]);
  t.is(end, a.length + b.length);
  t.is(walkBatches(buf, () => false), a.length);
});

// --- encoder input errors ---------------------------------------------------------------------------

test('encodeBatch refuses bad input with InvalidRecordError', (t) => {
  const bad: [string, () => unknown][] = [
    ['no records', () => encodeBatch([])],
    ['value of a wrong type', () => encodeBatch([{ value: 42 as unknown as string }])],
    ['key of a wrong type', () => encodeBatch([{ key: {} as unknown as string, value: 'x' }])],
    ['header without a string key', () => encodeBatch([{ value: 'x', headers: [{ key: 1 as unknown as string, value: 'v' }] }])],
    ['header value of a wrong type', () => encodeBatch([{ value: 'x', headers: { a: 5 as unknown as string } }])],
    ['fractional timestamp', () => encodeBatch([{ value: 'x', timestamp: 1.5 }])],
    ['NaN timestamp', () => encodeBatch([{ value: 'x', timestamp: Number.NaN }])],
    ['unknown compression', () => encodeBatch([{ value: 'x' }], { compression: 'zstd' as Compression })],
    ['a record that is not an object', () => encodeBatch([null as unknown as RecordInput])],
  ];
  for (const [what, f] of bad) t.throws(f, { instanceOf: InvalidRecordError }, what);
});

// --- kafkajs: seglog writes, kafkajs reads --------------------------------------------------------

/** kafkajs's header object: a repeated key holds an array of its values, in order. */
function kafkajsHeaders(h: RecordInput['headers']): Record<string, Buffer | null | (Buffer | null)[]> {
  const out: Record<string, Buffer | null | (Buffer | null)[]> = {};
  for (const { key, value } of headerPairs(h)) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

async function checkWithKafkajs(t: ExecutionContext, records: RecordInput[], compression: Compression, baseOffset: number): Promise<void> {
  const batch = encodeBatch(records, { compression, baseOffset, now: NOW });
  const raw = kafkajsRawHeader(batch);
  t.is(raw.magic, 2);
  t.is(raw.crc, raw.crcComputed, 'CRC-32C agrees with kafkajs’s own implementation');
  t.is(raw.attributes, compression === 'lz4' ? 3 : 0);
  t.is(raw.recordCount, records.length);

  const k = await kafkajsDecodeBatch(batch);
  const timestamps = records.map((r) => r.timestamp ?? NOW);
  t.is(k.firstOffset, String(baseOffset));
  t.is(k.firstTimestamp, String(timestamps[0]));
  t.is(k.maxTimestamp, String(Math.max(...timestamps)));
  t.is(k.lastOffsetDelta, records.length - 1);
  t.is(k.partitionLeaderEpoch, -1);
  t.is(k.producerId, '-1');
  t.is(k.producerEpoch, -1);
  t.is(k.firstSequence, -1);
  t.false(k.inTransaction);
  t.false(k.isControlBatch);
  t.is(k.timestampType, 0); // CreateTime
  t.is(k.records.length, records.length);
  records.forEach((r, i) => {
    const kr = k.records[i]!;
    t.is(kr.attributes, 0);
    t.is(kr.offset, String(baseOffset + i));
    t.is(kr.timestamp, String(timestamps[i]));
    t.deepEqual(kr.key, bytesOf(r.key));
    t.deepEqual(kr.value, bytesOf(r.value));
    t.deepEqual(kr.headers, kafkajsHeaders(r.headers));
  });
}

for (const compression of CODECS) {
  test(`kafkajs decodes seglog batches field by field (${compression})`, async (t) => {
    for (const [, records] of SHAPES) await checkWithKafkajs(t, records, compression, 5);
    await checkWithKafkajs(
      t,
      [
        { value: 'a', timestamp: NOW },
        { value: 'b', timestamp: NOW - 5000 },
        { value: 'c', timestamp: NOW + 2 ** 31 + 1 },
        { value: 'd', timestamp: NOW - 2 ** 34 },
      ],
      compression,
      2 ** 40,
    );
    const many = Array.from({ length: 2000 }, (_, i) => ({ key: i % 2 ? null : `k${i}`, value: `value-${i}`.repeat(i % 5), timestamp: NOW + i }));
    await checkWithKafkajs(t, many, compression, 123_456);
  });
}

// fast-check arbitraries for records -----------------------------------------------------------

const bytesArb: fc.Arbitrary<Bytes | null> = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary-ascii', maxLength: 20 }),
);
const headerKeyArb = fc.string({ unit: 'grapheme', maxLength: 8 });
const headersArb: fc.Arbitrary<RecordInput['headers']> = fc.oneof(
  fc.constant(undefined),
  fc.array(fc.record({ key: headerKeyArb, value: bytesArb }), { maxLength: 4 }),
  fc.dictionary(fc.string({ unit: 'grapheme-ascii', maxLength: 6 }), bytesArb, { maxKeys: 4 }),
);
const timestampArb = fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined });
const recordArb: fc.Arbitrary<RecordInput> = fc
  .record({ key: fc.option(bytesArb, { nil: undefined }), value: bytesArb, headers: headersArb, timestamp: timestampArb })
  .map((r) => {
    const out: RecordInput = { value: r.value };
    if (r.key !== undefined) out.key = r.key;
    if (r.headers !== undefined) out.headers = r.headers;
    if (r.timestamp !== undefined) out.timestamp = r.timestamp;
    return out;
  });
const recordsArb = fc.array(recordArb, { minLength: 1, maxLength: 25 });
const baseOffsetArb = fc.integer({ min: 0, max: 2 ** 50 });

for (const compression of CODECS) {
  test(`property (${compression}): arbitrary records round-trip exactly`, (t) => {
    fc.assert(
      fc.property(recordsArb, baseOffsetArb, (records, baseOffset) => {
        const batch = encodeBatch(records, { compression, baseOffset, now: NOW });
        t.is(batchProblem(batch, 0, batch.length), null);
        t.deepEqual(decodeRecords(batch).map(plain), expected(records, baseOffset, NOW));
      }),
      { numRuns: 300 },
    );
  });

  test(`property (${compression}): kafkajs decodes arbitrary seglog batches`, async (t) => {
    await fc.assert(
      fc.asyncProperty(recordsArb, baseOffsetArb, async (records, baseOffset) => {
        await checkWithKafkajs(t, records, compression, baseOffset);
      }),
      { numRuns: 100 },
    );
  });
}

// --- kafkajs writes, seglog reads ----------------------------------------------------------------

const kafkajsBytesArb = fc.oneof(fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)), fc.string({ unit: 'grapheme', maxLength: 20 }));
const kafkajsRecordArb: fc.Arbitrary<KafkajsRecordInput> = fc.record({
  key: fc.option(kafkajsBytesArb, { nil: null }),
  value: fc.option(kafkajsBytesArb, { nil: null }),
  headers: fc.dictionary(
    fc.string({ unit: 'grapheme-ascii', maxLength: 6 }),
    fc.oneof(kafkajsBytesArb, fc.array(kafkajsBytesArb, { minLength: 1, maxLength: 3 })),
    { maxKeys: 3 },
  ),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
});

function fromKafkajsInput(r: KafkajsRecordInput, offset: number): unknown {
  const headers: [string, string][] = [];
  for (const key of Object.keys(r.headers)) {
    const v = r.headers[key]!;
    for (const one of Array.isArray(v) ? v : [v]) headers.push([key, bytesOf(one)!.toString('hex')]);
  }
  return {
    offset,
    timestamp: r.timestamp,
    key: bytesOf(r.key)?.toString('hex') ?? null,
    value: bytesOf(r.value)?.toString('hex') ?? null,
    headers,
  };
}

for (const [name, codec] of [
  ['none', KAFKAJS_NONE],
  ['lz4', KAFKAJS_LZ4],
] as const) {
  test(`seglog decodes kafkajs-encoded batches (${name})`, async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.array(kafkajsRecordArb, { minLength: 1, maxLength: 20 }), baseOffsetArb, async (records, baseOffset) => {
        const batch = await kafkajsEncodeBatch(records, { compression: codec, baseOffset, leaderEpoch: 3 });
        t.notThrows(() => validateProducerBatch(batch));
        t.is(batchCodec(batch), name === 'lz4' ? 3 : 0);
        t.is(batchBaseOffset(batch), baseOffset);
        t.is(batchRecordCount(batch), records.length);
        t.is(batchLastOffsetDelta(batch), records.length - 1);
        t.is(batchBaseTimestamp(batch), records[0]!.timestamp);
        t.is(batchMaxTimestamp(batch), Math.max(...records.map((r) => r.timestamp)));
        t.is(batch.readInt32BE(OFF_LEADER_EPOCH), 3);
        t.deepEqual(decodeRecords(batch).map(plain), records.map((r, i) => fromKafkajsInput(r, baseOffset + i)));
        // And seglog's own encoding of the same records is byte-identical once the header fields
        // kafkajs sets differently (leader epoch, producer fields) are aligned, for no compression.
      }),
      { numRuns: 100 },
    );
  });
}

test('seglog and kafkajs produce identical bytes for the same uncompressed batch', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(kafkajsRecordArb, { minLength: 1, maxLength: 10 }), async (records) => {
      const theirs = await kafkajsEncodeBatch(records, {
        compression: KAFKAJS_NONE,
        baseOffset: 9,
        leaderEpoch: -1,
        producerId: -1,
        producerEpoch: -1,
        baseSequence: -1,
      });
      const ours = encodeBatch(
        records.map((r) => ({
          key: r.key,
          value: r.value,
          timestamp: r.timestamp,
          headers: Object.keys(r.headers).flatMap((key) => {
            const v = r.headers[key]!;
            return (Array.isArray(v) ? v : [v]).map((value) => ({ key, value }));
          }),
        })),
        { baseOffset: 9 },
      );
      t.is(ours.toString('hex'), theirs.toString('hex'));
    }),
    { numRuns: 100 },
  );
});

// --- corruption -------------------------------------------------------------------------------------

/** Decodes with the checks a reader makes; returns records or the thrown error. */
function decodeChecked(batch: Buffer): { records: unknown[] } | { error: unknown } {
  const problem = batchProblem(batch, 0, batch.length);
  if (problem !== null) return { error: new CorruptRecordError(problem) };
  try {
    return { records: decodeRecords(batch).map(plain) };
  } catch (error) {
    return { error };
  }
}

function mutationArb(compression: Compression) {
  return fc
    .record({ records: recordsArb, baseOffset: baseOffsetArb })
    .map(({ records, baseOffset }) => encodeBatch(records, { compression, baseOffset, now: NOW }))
    .chain((batch) =>
      fc.record({
        batch: fc.constant(batch),
        at: fc.integer({ min: 0, max: batch.length - 1 }),
        xor: fc.integer({ min: 1, max: 255 }),
      }),
    );
}

for (const compression of CODECS) {
  test(`property (${compression}): a flipped byte is caught, never decoded as other data`, (t) => {
    fc.assert(
      fc.property(mutationArb(compression), ({ batch, at, xor }) => {
        const good = decodeRecords(batch).map(plain) as { offset: number }[];
        const bad = Buffer.from(batch);
        bad[at]! ^= xor;
        const result = decodeChecked(bad);
        if (at < 8) {
          // baseOffset is outside the CRC by design (the server stamps it): same records at other
          // offsets, or an error when the offset is one no log can hold (negative, beyond 2^53).
          const newBase = batchBaseOffset(bad);
          if (newBase >= 0 && Number.isSafeInteger(newBase + good.length)) {
            const shift = newBase - batchBaseOffset(batch);
            t.deepEqual(result, { records: good.map((r) => ({ ...r, offset: r.offset + shift })) });
          } else {
            t.true('error' in result && result.error instanceof CorruptRecordError);
          }
        } else if (at >= OFF_LEADER_EPOCH && at < OFF_MAGIC) {
          // partitionLeaderEpoch is outside the CRC too (Kafka's choice); records are unaffected.
          t.deepEqual(result, { records: good });
        } else {
          t.true('error' in result, `flip at ${at} went unnoticed`);
          t.true((result as { error: unknown }).error instanceof CorruptRecordError);
        }
      }),
      { numRuns: 400 },
    );
  });

  test(`property (${compression}): without the CRC, the decoder never throws anything but a seglog error`, (t) => {
    fc.assert(
      fc.property(mutationArb(compression), fc.integer({ min: 0, max: 3 }), ({ batch, at, xor }, extraFlips) => {
        const bad = Buffer.from(batch);
        // Flip inside the records section (where only the CRC would notice), sometimes several bytes.
        const base = Math.max(at, HEADER_BYTES) % bad.length;
        bad[base]! ^= xor;
        for (let i = 1; i <= extraFlips; i++) bad[(base + i * 7) % bad.length]! ^= 0x80;
        try {
          forEachRecord(bad, () => undefined);
        } catch (e) {
          t.true(e instanceof SeglogError, `threw ${String(e)}`);
          t.true(e instanceof CorruptRecordError || e instanceof InvalidRecordError);
        }
      }),
      { numRuns: 400 },
    );
  });

  test(`property (${compression}): a truncated batch is caught by every entry point`, (t) => {
    fc.assert(
      fc.property(
        recordsArb.chain((records) => {
          const batch = encodeBatch(records, { compression, now: NOW });
          return fc.record({ batch: fc.constant(batch), keep: fc.integer({ min: 0, max: batch.length - 1 }) });
        }),
        ({ batch, keep }) => {
          const cut = Buffer.from(batch.subarray(0, keep));
          t.not(batchProblem(cut, 0, cut.length), null);
          t.throws(() => validateProducerBatch(cut), { instanceOf: CorruptRecordError });
          t.throws(() => forEachRecord(cut, () => undefined), { instanceOf: CorruptRecordError });
          t.is(walkBatches(cut, () => undefined), 0);
        },
      ),
      { numRuns: 300 },
    );
  });
}

// --- crafted batches with a valid CRC: the decoder's own checks -----------------------------------

/** A none-codec batch whose records section is `section`, with a correct header and CRC. */
function craft(section: number[], count: number): Buffer {
  const template = encodeBatch(Array.from({ length: count }, () => ({ value: null })), { now: NOW });
  const batch = Buffer.concat([template.subarray(0, HEADER_BYTES), Buffer.from(section)]);
  batch.writeInt32BE(batch.length - 12, OFF_BATCH_LENGTH);
  batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), OFF_CRC);
  t_assertGood(batch);
  return batch;
}
function t_assertGood(batch: Buffer): void {
  if (batchProblem(batch, 0, batch.length) !== null) throw new Error('crafted batch should pass the header checks');
}
// Zigzag of small numbers: 0→0, -1→1, 1→2, n→2n.
const z = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

test('the decoder refuses well-checksummed batches whose records do not parse', (t) => {
  // A good record for reference: len, attrs, tsDelta 0, offsetDelta 0, key null, value "a", 0 headers.
  const good = [z(7), 0, z(0), z(0), z(-1), z(1), 0x61, z(0)];
  t.deepEqual(decodeRecords(craft(good, 1)).map((r) => r.value!.toString()), ['a']);

  const cases: [string, number[], number][] = [
    ['record length past the section', [z(50), 0, 0, 0, z(-1), z(-1), 0], 1],
    ['negative record length', [z(-3), 0, 0, 0, z(-1), z(-1), 0], 1],
    ['key length past the record', [z(6), 0, 0, 0, z(9), z(-1), 0], 1],
    ['key length below -1', [z(6), 0, 0, 0, z(-2), z(-1), 0], 1],
    ['value length past the record', [z(6), 0, 0, 0, z(-1), z(4), 0], 1],
    ['fields shorter than the record length', [z(7), 0, 0, 0, z(-1), z(-1), 0, 0x00], 1],
    ['negative header count', [z(6), 0, 0, 0, z(-1), z(-1), z(-1)], 1],
    ['header count beyond the bytes left', [z(6), 0, 0, 0, z(-1), z(-1), z(40)], 1],
    ['null header key at the record end', [z(7), 0, 0, 0, z(-1), z(-1), z(1), z(-1)], 1],
    ['header value past the record', [z(8), 0, 0, 0, z(-1), z(-1), z(1), z(0), z(5)], 1],
    ['offsetDelta not the record index', [z(7), 0, z(0), z(3), z(-1), z(1), 0x61, z(0)], 1],
    ['fewer records than the count', good, 2],
    ['bytes after the last record', [...good, 0x00], 1],
    ['varint longer than 5 bytes', [z(9), 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, z(-1)], 1],
  ];
  for (const [what, section, count] of cases) {
    const batch = craft(section, count);
    t.throws(() => decodeRecords(batch), { instanceOf: CorruptRecordError }, what);
  }
});

test('an LZ4 batch whose frame does not decompress is a CorruptRecordError', (t) => {
  const batch = encodeBatch([{ value: 'x'.repeat(100) }], { compression: 'lz4' });
  const bad = Buffer.from(batch);
  bad.fill(0x11, HEADER_BYTES + 4, HEADER_BYTES + 12); // inside the frame header, after the magic
  bad.writeUInt32BE(computeBatchCrc(bad, 0, bad.length), OFF_CRC);
  t.is(batchProblem(bad, 0, bad.length), null);
  t.throws(() => decodeRecords(bad), { instanceOf: CorruptRecordError });
  t.throws(() => decompressBatch(bad), { instanceOf: CorruptRecordError });
});

// --- validateProducerBatch ----------------------------------------------------------------------------

test('validateProducerBatch: lying lengths, wrong magic, bad CRC, unknown codec and flags', (t) => {
  const batch = encodeBatch([{ key: 'k', value: 'v' }, { value: 'w' }], { now: NOW });
  const withFreshCrc = (b: Buffer): Buffer => {
    b.writeUInt32BE(computeBatchCrc(b, 0, b.length), OFF_CRC);
    return b;
  };
  const mutate = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(batch);
    f(b);
    return b;
  };
  const corrupt: [string, Buffer][] = [
    ['length claims more than was sent', mutate((b) => b.writeInt32BE(b.length, OFF_BATCH_LENGTH))],
    ['length claims less than was sent', withFreshCrc(Buffer.concat([batch, Buffer.alloc(4)]))],
    ['length smaller than a header', mutate((b) => b.writeInt32BE(20, OFF_BATCH_LENGTH))],
    ['negative length', mutate((b) => b.writeInt32BE(-5, OFF_BATCH_LENGTH))],
    ['wrong magic', withFreshCrc(mutate((b) => (b[OFF_MAGIC] = 1)))],
    ['bad CRC', mutate((b) => (b[b.length - 1]! ^= 1))],
    ['CRC field itself changed', mutate((b) => (b[OFF_CRC]! ^= 0x40))],
    ['record count zero', withFreshCrc(mutate((b) => b.writeInt32BE(0, OFF_RECORD_COUNT)))],
    ['record count disagrees with lastOffsetDelta', withFreshCrc(mutate((b) => b.writeInt32BE(3, OFF_RECORD_COUNT)))],
    ['shorter than a header', batch.subarray(0, 40)],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [what, b] of corrupt) {
    const e = t.throws(() => validateProducerBatch(b), { instanceOf: CorruptRecordError }, what);
    t.is(e?.code, 'CORRUPT_RECORD');
  }
  const invalid: [string, Buffer][] = [
    ['gzip codec', withFreshCrc(mutate((b) => b.writeInt16BE(1, OFF_ATTRIBUTES)))],
    ['zstd codec', withFreshCrc(mutate((b) => b.writeInt16BE(4, OFF_ATTRIBUTES)))],
    ['codec 7', withFreshCrc(mutate((b) => b.writeInt16BE(7, OFF_ATTRIBUTES)))],
    ['transactional batch', withFreshCrc(mutate((b) => b.writeInt16BE(0x10, OFF_ATTRIBUTES)))],
    ['control batch', withFreshCrc(mutate((b) => b.writeInt16BE(0x20, OFF_ATTRIBUTES)))],
  ];
  for (const [what, b] of invalid) {
    const e = t.throws(() => validateProducerBatch(b), { instanceOf: InvalidRecordError }, what);
    t.is(e?.code, 'INVALID_RECORD');
  }
  // The untouched batch, and one with a stamped base offset, pass.
  t.notThrows(() => validateProducerBatch(batch));
  t.notThrows(() => validateProducerBatch(mutate((b) => setBatchBaseOffset(b, 0, 77))));
});

test('decoding an unknown codec is an InvalidRecordError, not garbage', (t) => {
  const b = Buffer.from(encodeBatch([{ value: 'v' }]));
  b.writeInt16BE(2, OFF_ATTRIBUTES); // snappy
  b.writeUInt32BE(computeBatchCrc(b, 0, b.length), OFF_CRC);
  t.throws(() => decodeRecords(b), { instanceOf: InvalidRecordError });
});
