// Micro benchmarks (benchmark.js): the record batch codec under both runtimes (native Node and
// portable JavaScript, as a browser runs it), CRC-32C native vs JavaScript, varints, murmur2 and an
// offset index lookup. Each case times one operation over many items; the table gives items/s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Benchmark from 'benchmark';
import { createBatchCodec } from '../engine/format/batch-codec.js';
import { murmur2 } from '../engine/format/partitioner.js';
import type { RecordInput } from '../engine/format/record-types.js';
import { readVarintAt, sizeOfVarint, writeVarint, type VarintCursor } from '../engine/format/varint.js';
import { crc32cImplementations } from '../engine/crc32c.js';
import { OffsetIndex } from '../engine/offset-index.js';
import { nodeRuntime } from '../engine/record-batch.js';
import { crc32c as clientCrc32c, preferNativeCrc32c } from '../gateway/client/crc32c.js';
import { loadLz4, preferNativeLz4 } from '../gateway/client/lz4.js';
import { portableRuntime } from '../gateway/client/record-codec.js';
import { RECORDS_PER_BATCH, payloads, progress, result, type BenchOptions, type BenchResult } from './harness.js';

const SUITE = 'micro';
const RECORD_BYTES = 100;
const CRC_BUFFER_BYTES = 64 * 1024;
const VARINTS_PER_OP = 1000;
const KEYS_PER_OP = 1000;
const KEY_BYTES = 16;
const INDEX_ENTRIES = 100_000;
const LOOKUPS_PER_OP = 1000;
/** Samples benchmark.js takes at least per case (its default, 5, with a short maxTime). */
const MIN_SAMPLES = 5;

interface Case {
  name: string;
  /** Items (records, buffers, varints, keys, lookups) one call handles, and payload bytes per item. */
  items: number;
  itemBytes: number;
  fn: () => void;
}

/** Runs the cases one after the other, synchronously; benchmark.js picks the iteration counts. */
function runCases(options: BenchOptions, cases: Case[]): BenchResult[] {
  const out: BenchResult[] = [];
  const suite = new Benchmark.Suite();
  for (const c of cases) {
    suite.add(c.name, c.fn, { maxTime: (options.roundMs * options.rounds) / 1000, minSamples: MIN_SAMPLES, onStart: () => progress(c.name) });
  }
  suite.on('cycle', (event: Benchmark.Event) => {
    const bench = event.target as unknown as Benchmark & { name: string; error?: Error };
    if (bench.error !== undefined) throw bench.error;
    const c = cases.find((x) => x.name === bench.name)!;
    out.push(result(SUITE, c.name, c.itemBytes, (bench.hz ?? 0) * c.items));
  });
  suite.run({ async: false });
  return out;
}

export async function runMicroBench(options: BenchOptions): Promise<BenchResult[]> {
  await loadLz4();
  const native = createBatchCodec(nodeRuntime);
  const portable = createBatchCodec(portableRuntime);
  // The client's CRC and LZ4 as in a browser: plain JavaScript (restored at the end).
  preferNativeCrc32c(false);
  preferNativeLz4(false);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-micro-'));
  try {
    const records: RecordInput[] = payloads(RECORDS_PER_BATCH, RECORD_BYTES).map((value) => ({ value }));
    const now = Date.now();
    const plainBatch = native.encodeBatch(records, { now });
    const lz4Batch = native.encodeBatch(records, { now, compression: 'lz4' });
    let sink = 0;
    const touch = (r: { value: Uint8Array | null }): void => {
      sink += r.value!.length;
    };

    const crcInput = payloads(1, CRC_BUFFER_BYTES)[0]!;
    const varintValues = Int32Array.from({ length: VARINTS_PER_OP }, (_, i) => (i * 2654435761) | 0);
    const varintBytes = new Uint8Array(VARINTS_PER_OP * 5);
    const cursor: VarintCursor = { next: 0 };
    const keys = payloads(KEYS_PER_OP, KEY_BYTES);

    const index = OffsetIndex.create(path.join(dir, '0.index'), INDEX_ENTRIES + 1);
    for (let i = 1; i <= INDEX_ENTRIES; i++) index.append(i * 10, i * 4096);
    const targets = Int32Array.from({ length: LOOKUPS_PER_OP }, (_, i) => ((i * 7919) % (INDEX_ENTRIES * 10)) + 1);

    const cases: Case[] = [];
    for (const [runtime, codec] of [['native', native], ['portable JS', portable]] as const) {
      cases.push(
        { name: `record batch encode (none), ${runtime}`, items: RECORDS_PER_BATCH, itemBytes: RECORD_BYTES, fn: () => void codec.encodeBatch(records, { now }) },
        { name: `record batch decode (none), ${runtime}`, items: RECORDS_PER_BATCH, itemBytes: RECORD_BYTES, fn: () => void codec.forEachRecord(plainBatch, touch) },
        { name: `record batch encode (lz4), ${runtime}`, items: RECORDS_PER_BATCH, itemBytes: RECORD_BYTES, fn: () => void codec.encodeBatch(records, { now, compression: 'lz4' }) },
        { name: `record batch decode (lz4), ${runtime}`, items: RECORDS_PER_BATCH, itemBytes: RECORD_BYTES, fn: () => void codec.forEachRecord(lz4Batch, touch) },
      );
    }
    // Every native CRC-32C this process loads (engine/crc32c.ts), the engine's choice first.
    for (const impl of crc32cImplementations) {
      cases.push({ name: `CRC-32C of 64 KiB, native (${impl.name})`, items: 1, itemBytes: CRC_BUFFER_BYTES, fn: () => void (sink ^= impl.crc32c(crcInput)) });
    }
    cases.push(
      { name: 'CRC-32C of 64 KiB, JavaScript (crc-32)', items: 1, itemBytes: CRC_BUFFER_BYTES, fn: () => void (sink ^= clientCrc32c(crcInput)) },
      {
        name: 'varint write + read',
        items: VARINTS_PER_OP,
        itemBytes: 0,
        fn: () => {
          let p = 0;
          for (let i = 0; i < VARINTS_PER_OP; i++) p = writeVarint(varintBytes, p, varintValues[i]!);
          let q = 0;
          for (let i = 0; i < VARINTS_PER_OP; i++) {
            sink ^= readVarintAt(varintBytes, q, p, cursor);
            q = cursor.next;
          }
          if (q !== p) throw new Error(`varints read back to ${q}, written to ${p}`);
        },
      },
      { name: 'varint size', items: VARINTS_PER_OP, itemBytes: 0, fn: () => { for (let i = 0; i < VARINTS_PER_OP; i++) sink += sizeOfVarint(varintValues[i]!); } },
      { name: `murmur2 of ${KEY_BYTES} B keys`, items: KEYS_PER_OP, itemBytes: KEY_BYTES, fn: () => { for (let i = 0; i < KEYS_PER_OP; i++) sink ^= murmur2(keys[i]!); } },
      {
        name: `offset index lookup (${INDEX_ENTRIES / 1000}k entries)`,
        items: LOOKUPS_PER_OP,
        itemBytes: 0,
        fn: () => { for (let i = 0; i < LOOKUPS_PER_OP; i++) sink += index.lookup(targets[i]!)?.position ?? 0; },
      },
    );
    const out = runCases(options, cases);
    index.file.closeFd();
    if (sink === 0.5) console.log(sink); // keeps `sink` (and the work behind it) alive
    return out;
  } finally {
    preferNativeCrc32c(true);
    preferNativeLz4(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
