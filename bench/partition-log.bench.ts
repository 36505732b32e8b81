// The engine's own figures: PartitionLog.append of batches of 1000 records, then a sequential
// read back with record decoding (PartitionLog.read + forEachRecord), in a temp dir removed after.
//
// HOOK: this is written against the PartitionLog contract of issue 2 (engine/partition-log.ts on
// branch `storage`): `PartitionLog.open({ dir, segmentBytes?, ... })`, `append(batch)` →
// `{ baseOffset, lastOffset }`, `read(offset, maxBytes)` → whole batches as Buffers, `close()`,
// `endOffset`. It is loaded by a computed specifier so bench/ compiles before that module exists;
// until then the suite reports itself as skipped. Once it is merged, replace the dynamic import
// with a static one to let the compiler check the contract.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchLastOffset, encodeBatch, forEachRecord, type DecodedRecord } from '../engine/record-batch.js';
import { RECORDS_PER_BATCH, RECORD_SIZES, measureAsync, payloads, result, type BenchOptions, type BenchResult } from './harness.js';

const SUITE = 'engine';
const SEGMENT_BYTES = 128 * 1024 * 1024;
/** Upper bound on what one append round writes (disk use of the bench). */
const APPEND_BYTES_MAX = 1024 * 1024 * 1024;
const READ_MAX_BYTES = 1024 * 1024;
const DISTINCT_BATCHES = 16;

interface PartitionLogLike {
  append(batch: Uint8Array): { baseOffset: number; lastOffset: number } | Promise<{ baseOffset: number; lastOffset: number }>;
  read(offset: number, maxBytes: number): Buffer[] | Promise<Buffer[]>;
  close(): Promise<void>;
  readonly endOffset: number;
}
interface PartitionLogClass {
  open(options: { dir: string; segmentBytes?: number }): PartitionLogLike | Promise<PartitionLogLike>;
}

export const PARTITION_LOG_MODULE = '../engine/partition-log.js';

async function loadPartitionLog(): Promise<PartitionLogClass | null> {
  const specifier: string = PARTITION_LOG_MODULE;
  try {
    const mod = (await import(specifier)) as { PartitionLog?: PartitionLogClass };
    return mod.PartitionLog ?? null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw e;
  }
}

export async function runPartitionLogBench(options: BenchOptions): Promise<BenchResult[]> {
  const PartitionLog = await loadPartitionLog();
  if (PartitionLog === null) {
    return [result(SUITE, 'PartitionLog append / read', 0, 0, 'skipped: engine/partition-log.js is not built yet (branch storage)')];
  }
  const out: BenchResult[] = [];
  for (const recordBytes of RECORD_SIZES) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-log-'));
    try {
      out.push(...(await appendAndRead(PartitionLog, dir, recordBytes, options)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

async function appendAndRead(PartitionLog: PartitionLogClass, dir: string, recordBytes: number, options: BenchOptions): Promise<BenchResult[]> {
  const values = payloads(RECORDS_PER_BATCH * DISTINCT_BATCHES, recordBytes);
  const batches: Buffer[] = [];
  for (let b = 0; b < DISTINCT_BATCHES; b++) {
    const records = values.slice(b * RECORDS_PER_BATCH, (b + 1) * RECORDS_PER_BATCH).map((value) => ({ value }));
    batches.push(encodeBatch(records, { compression: 'none' }));
  }
  const batchBytes = batches[0]!.length;

  let log: PartitionLogLike | null = null;
  let round = 0;
  let appended = 0;
  let i = 0;
  // Each round appends to a fresh log, so every round pays for new segments alike.
  const appendRate = await measureAsync(
    options,
    async () => {
      if (appended + batchBytes > APPEND_BYTES_MAX) return 0;
      await log!.append(batches[i++ % DISTINCT_BATCHES]!);
      appended += batchBytes;
      return RECORDS_PER_BATCH;
    },
    async () => {
      if (log !== null) await log.close();
      const roundDir = path.join(dir, `round-${round++}`);
      fs.rmSync(path.join(dir, `round-${round - 2}`), { recursive: true, force: true });
      log = await PartitionLog.open({ dir: roundDir, segmentBytes: SEGMENT_BYTES });
      appended = 0;
    },
  );

  // Read back what the last round appended, decoding every record.
  const endOffset = log!.endOffset;
  let offset = 0;
  let checksum = 0;
  const onRecord = (r: DecodedRecord): void => {
    checksum += r.value!.length;
  };
  const readRate = await measureAsync(
    options,
    async () => {
      if (offset >= endOffset) return 0;
      const got = await log!.read(offset, READ_MAX_BYTES);
      let records = 0;
      for (const batch of got) {
        records += forEachRecord(batch, onRecord, offset);
        offset = batchLastOffset(batch) + 1;
      }
      return records;
    },
    async () => {
      offset = 0;
    },
  );
  await log!.close();
  if (checksum === 0) throw new Error('partition log read bench decoded nothing');
  return [
    result(SUITE, 'PartitionLog.append, batches of 1000 · append', recordBytes, appendRate),
    result(SUITE, 'PartitionLog.read + forEachRecord · read', recordBytes, readRate),
  ];
}
