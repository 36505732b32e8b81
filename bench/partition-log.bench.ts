// The engine's own figures for one PartitionLog, batches of 1000 records, acks `written` (page
// cache), like the baselines (bench/README.md). In a temp dir removed after.
//
// What the append rows measure, and why this way: one log kept open across rounds, as a user keeps
// it. Each round appends a burst of at most APPEND_BYTES_MAX (or roundMs) and is preceded, untimed,
// by a flush of what the previous round wrote and the deletion of its sealed segments. So every
// round starts from the same state — no dirty pages of earlier rounds being written back under it
// (that made the median swing by 4× between rounds), no ever-growing disk use — and the figure is
// the rate at which appends are accepted into the page cache. It is not a sustained rate to disk:
// a disk slower than this bounds how long such a burst can last (the kernel throttles writers once
// dirty pages pass vm.dirty_ratio).
//   - "CRC-checked": append(batch), the path of bytes from elsewhere (the gateway): header, length
//     and CRC-32C are checked, then the copy.
//   - "trusted": append(batch, { trusted: true }), the path of Engine.produce, which encodes the
//     batch itself (no CRC check).
//   - "reservation on the calling thread": the CRC-checked append with backgroundReserve: false, to
//     show what the reserver thread (engine/reserver.ts) takes off the appender.
// The read rows decode every record (forEachRecord) of everything the log holds: once in the
// process that appended it (whose CRCs were checked at append, so reads check none), and once right
// after a reopen (every round reopens the log, so every batch's CRC is checked on its first read).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PartitionLog, type PartitionLogOptions } from '../engine/partition-log.js';
import { batchLastOffset, encodeBatch, forEachRecord, type DecodedRecord } from '../engine/record-batch.js';
import { RECORDS_PER_BATCH, RECORD_SIZES, bytesBound, measureAsync, payloads, progress, result, type BenchOptions, type BenchResult, type RoundRates } from './harness.js';

const SUITE = 'engine';
const SEGMENT_BYTES = 128 * 1024 * 1024;
/** Upper bound on what one append round writes; disk use of the bench stays about twice this. */
const APPEND_BYTES_MAX = 256 * 1024 * 1024;
const READ_MAX_BYTES = 1024 * 1024;
const DISTINCT_BATCHES = 16;

export async function runPartitionLogBench(options: BenchOptions): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const recordBytes of RECORD_SIZES) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-log-'));
    try {
      const batches = makeBatches(recordBytes);
      const appends: Array<[string, Partial<PartitionLogOptions>, boolean]> = [
        ['PartitionLog.append, CRC-checked · append', {}, false],
        ['PartitionLog.append, trusted · append', {}, true],
        ['PartitionLog.append, CRC-checked, reservation on the calling thread · append', { backgroundReserve: false }, false],
      ];
      for (const [k, [operation, logOptions, trusted]] of appends.entries()) {
        progress(`${operation}, ${recordBytes} B`);
        const rate = await appendRate(path.join(dir, `append-${k}`), batches, logOptions, trusted, options);
        // The CRC-checked append (the gateway's path) is what other systems' appends are compared to.
        out.push(result(SUITE, operation, recordBytes, rate, undefined, { system: 'seglog', scenario: 'append', reference: k === 0 }));
      }
      progress(`PartitionLog.read + forEachRecord, ${recordBytes} B`);
      out.push(...(await readRates(path.join(dir, 'read'), batches, recordBytes, options)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

export function makeBatches(recordBytes: number): Buffer[] {
  const values = payloads(RECORDS_PER_BATCH * DISTINCT_BATCHES, recordBytes);
  const batches: Buffer[] = [];
  for (let b = 0; b < DISTINCT_BATCHES; b++) {
    const records = values.slice(b * RECORDS_PER_BATCH, (b + 1) * RECORDS_PER_BATCH).map((value) => ({ value }));
    batches.push(encodeBatch(records, { compression: 'none' }));
  }
  return batches;
}

function openLog(dir: string, extra: Partial<PartitionLogOptions> = {}): PartitionLog {
  return PartitionLog.open({ dir, segmentBytes: SEGMENT_BYTES, flushIntervalMs: 0, fileDeleteDelayMs: 0, ...extra });
}

export async function appendRate(
  dir: string,
  batches: Buffer[],
  logOptions: Partial<PartitionLogOptions>,
  trusted: boolean,
  options: BenchOptions,
): Promise<RoundRates> {
  const log = openLog(dir, logOptions);
  const batchBytes = batches[0]!.length;
  const appendOptions = { trusted };
  const appendBytesMax = bytesBound(options, APPEND_BYTES_MAX);
  let appended = 0;
  let i = 0;
  try {
    return await measureAsync(
      options,
      () => {
        if (appended + batchBytes > appendBytesMax) return 0;
        log.append(batches[i++ % DISTINCT_BATCHES]!, appendOptions);
        appended += batchBytes;
        return RECORDS_PER_BATCH;
      },
      async () => {
        // Untimed: the previous round's data goes to disk and its segments away (retention).
        await log.flush();
        log.roll();
        log.deleteSegmentsBefore(log.endOffset);
        await new Promise((resolve) => setTimeout(resolve, 1)); // the delayed file deletion (0 ms)
        appended = 0;
      },
    );
  } finally {
    await log.close();
  }
}

async function readRates(dir: string, batches: Buffer[], recordBytes: number, options: BenchOptions): Promise<BenchResult[]> {
  let log = openLog(dir);
  for (let appended = 0, i = 0; appended + batches[0]!.length <= bytesBound(options, APPEND_BYTES_MAX); appended += batches[0]!.length) {
    log.append(batches[i++ % DISTINCT_BATCHES]!);
  }
  let offset = 0;
  let checksum = 0;
  const onRecord = (r: DecodedRecord): void => {
    checksum += r.value!.length;
  };
  const step = (): number => {
    const end = log.endOffset;
    if (offset >= end) return 0;
    let records = 0;
    for (const batch of log.read(offset, READ_MAX_BYTES)) {
      records += forEachRecord(batch, onRecord, offset);
      offset = batchLastOffset(batch) + 1;
    }
    return records;
  };
  try {
    const sameProcess = await measureAsync(options, step, async () => {
      offset = 0;
    });
    const afterReopen = await measureAsync(options, step, async () => {
      await log.close();
      log = openLog(dir);
      offset = 0;
    });
    if (checksum === 0) throw new Error('partition log read bench decoded nothing');
    return [
      result(SUITE, 'PartitionLog.read + forEachRecord, data appended by this process · read', recordBytes, sameProcess, undefined, { system: 'seglog', scenario: 'read', reference: true }),
      result(SUITE, 'PartitionLog.read + forEachRecord, right after reopen (CRCs checked) · read', recordBytes, afterReopen, undefined, { system: 'seglog', scenario: 'read' }),
    ];
  } finally {
    await log.close();
  }
}
