// The engine's own figures: PartitionLog.append of batches of 1000 records, then a sequential
// read back with record decoding (PartitionLog.read + forEachRecord), in a temp dir removed after.
// Written against the PartitionLog contract of issue 2 (engine/partition-log.ts): open({ dir,
// segmentBytes }), append(batch) → { baseOffset, lastOffset }, read(offset, maxBytes) → whole
// batches, close(), endOffset. Acks are `written` (page cache), as in peers.md's baselines.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PartitionLog } from '../engine/partition-log.js';
import { batchLastOffset, encodeBatch, forEachRecord, type DecodedRecord } from '../engine/record-batch.js';
import { RECORDS_PER_BATCH, RECORD_SIZES, measure, payloads, result, type BenchOptions, type BenchResult } from './harness.js';

const SUITE = 'engine';
const SEGMENT_BYTES = 128 * 1024 * 1024;
/** Upper bound on what one append round writes (disk use of the bench: (rounds + 1) × this). */
const APPEND_BYTES_MAX = 512 * 1024 * 1024;
const READ_MAX_BYTES = 1024 * 1024;
const DISTINCT_BATCHES = 16;

export async function runPartitionLogBench(options: BenchOptions): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const recordBytes of RECORD_SIZES) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-log-'));
    try {
      out.push(...(await appendAndRead(dir, recordBytes, options)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

async function appendAndRead(dir: string, recordBytes: number, options: BenchOptions): Promise<BenchResult[]> {
  const values = payloads(RECORDS_PER_BATCH * DISTINCT_BATCHES, recordBytes);
  const batches: Buffer[] = [];
  for (let b = 0; b < DISTINCT_BATCHES; b++) {
    const records = values.slice(b * RECORDS_PER_BATCH, (b + 1) * RECORDS_PER_BATCH).map((value) => ({ value }));
    batches.push(encodeBatch(records, { compression: 'none' }));
  }
  const batchBytes = batches[0]!.length;

  // Each round appends to a fresh log (so every round pays for new segments alike); the logs are
  // closed after the timed rounds, since close() is asynchronous.
  const logs: PartitionLog[] = [];
  let log: PartitionLog | null = null;
  let appended = 0;
  let i = 0;
  try {
    const appendRate = measure(
      options,
      () => {
        if (appended + batchBytes > APPEND_BYTES_MAX) return 0;
        log!.append(batches[i++ % DISTINCT_BATCHES]!);
        appended += batchBytes;
        return RECORDS_PER_BATCH;
      },
      () => {
        log = PartitionLog.open({ dir: path.join(dir, `round-${logs.length}`), segmentBytes: SEGMENT_BYTES, flushIntervalMs: 0 });
        logs.push(log);
        appended = 0;
      },
    );

    // Read back what the last round appended, decoding every record.
    const reader = log!;
    const endOffset = reader.endOffset;
    let offset = 0;
    let checksum = 0;
    const onRecord = (r: DecodedRecord): void => {
      checksum += r.value!.length;
    };
    const readRate = measure(
      options,
      () => {
        if (offset >= endOffset) return 0;
        let records = 0;
        for (const batch of reader.read(offset, READ_MAX_BYTES)) {
          records += forEachRecord(batch, onRecord, offset);
          offset = batchLastOffset(batch) + 1;
        }
        return records;
      },
      () => {
        offset = 0;
      },
    );
    if (checksum === 0) throw new Error('partition log read bench decoded nothing');
    return [
      result(SUITE, 'PartitionLog.append, batches of 1000 · append', recordBytes, appendRate),
      result(SUITE, 'PartitionLog.read + forEachRecord · read', recordBytes, readRate),
    ];
  } finally {
    for (const l of logs) await l.close();
  }
}
