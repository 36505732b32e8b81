// The Engine API's own figures (what an embedding application gets), in a temp dir removed after:
//   - Engine.produce of 1000 records per call (acks written): routing, encoding, append, results.
//   - Engine.appendBatch of pre-encoded batches of 1000 (acks written): the gateway's path.
//   - Engine.read with record decoding, sequentially over what was appended.
//   - Subscription replay: for await over subscribe(from earliest) until caught up.
//   - acks flushed with several concurrent producers: one msync resolves many (group commit).
// Rounds are bounded by time and by bytes written (APPEND_BYTES_MAX per round).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../engine/engine.js';
import { encodeBatch, forEachRecord, type DecodedRecord, type RecordInput } from '../engine/record-batch.js';
import { RECORDS_PER_BATCH, RECORD_SIZES, bytesBound, measureAsync, payloads, progress, result, type BenchOptions, type BenchResult } from './harness.js';

const SUITE = 'engine api';
const SEGMENT_BYTES = 128 * 1024 * 1024;
/** Upper bound on what one produce/append round writes. */
const APPEND_BYTES_MAX_FULL = 384 * 1024 * 1024;
const DISTINCT_BATCHES = 16;
const FLUSHED_PRODUCERS = 8;
const FLUSHED_RECORDS_PER_CALL = 100;
/** The large Engine.read row: bytes and records per call. */
const LARGE_READ_BYTES = 4 * 1024 * 1024;
const LARGE_READ_RECORDS_MAX = 100_000;

export async function runEngineBench(options: BenchOptions): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const recordBytes of RECORD_SIZES) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-engine-'));
    let engine: Engine | null = null;
    try {
      engine = await Engine.open({ dir, segmentBytes: SEGMENT_BYTES, flushIntervalMs: 0, retentionMs: -1 });
      out.push(...(await benchOneSize(engine, recordBytes, options)));
    } finally {
      await engine?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

async function benchOneSize(engine: Engine, recordBytes: number, options: BenchOptions): Promise<BenchResult[]> {
  const values = payloads(RECORDS_PER_BATCH * DISTINCT_BATCHES, recordBytes);
  const recordSets: RecordInput[][] = [];
  for (let b = 0; b < DISTINCT_BATCHES; b++) {
    recordSets.push(values.slice(b * RECORDS_PER_BATCH, (b + 1) * RECORDS_PER_BATCH).map((value) => ({ value })));
  }
  const batches = recordSets.map((records) => encodeBatch(records, { compression: 'none' }));
  const batchBytes = batches[0]!.length;
  const out: BenchResult[] = [];
  const APPEND_BYTES_MAX = bytesBound(options, APPEND_BYTES_MAX_FULL);
  const seglog = (scenario: 'append' | 'read') => ({ system: 'seglog', scenario }) as const;
  let round = 0;
  let topic = '';
  let written = 0;
  let i = 0;
  // Each round writes to a fresh topic, so every round pays for new segments alike.
  // The previous round's topic is deleted first (disk use stays at one round's worth).
  const freshTopic = async (prefix: string): Promise<void> => {
    if (topic !== '') await engine.deleteTopic(topic);
    topic = `${prefix}-${recordBytes}-${round++}`;
    await engine.createTopic(topic, { partitions: 1 });
    written = 0;
  };

  progress(`Engine.produce, ${recordBytes} B`);
  const produceRate = await measureAsync(
    options,
    async () => {
      if (written + batchBytes > APPEND_BYTES_MAX) return 0;
      const res = await engine.produce(topic, recordSets[i++ % DISTINCT_BATCHES]!, { partition: 0 });
      written += batchBytes;
      return res.length;
    },
    () => freshTopic('produce'),
  );
  out.push(result(SUITE, 'Engine.produce, 1000 records per call, acks written', recordBytes, produceRate, undefined, seglog('append')));
  progress(`Engine.appendBatch, ${recordBytes} B`);

  const appendRate = await measureAsync(
    options,
    async () => {
      if (written + batchBytes > APPEND_BYTES_MAX) return 0;
      await engine.appendBatch(topic, batches[i++ % DISTINCT_BATCHES]!, { partition: 0 });
      written += batchBytes;
      return RECORDS_PER_BATCH;
    },
    () => freshTopic('append'),
  );
  out.push(result(SUITE, 'Engine.appendBatch, batches of 1000, acks written', recordBytes, appendRate, undefined, seglog('append')));
  progress(`Engine.read, ${recordBytes} B`);

  // Read back the last append round's topic, decoding every record (the reader touches each value).
  // The target row calls Engine.read with its defaults (1 MiB / 10,000 records per call, what an
  // application gets); a second row reads 4 MiB per call, where more records are alive at each
  // young-generation GC and the copy is a larger external allocation (bench/README.md "Engine.read").
  const readTopic = topic;
  const endOffset = engine.offsets(readTopic, 0).endOffset;
  let checksum = 0;
  const readRate = async (readOptions: { maxRecords: number; maxBytes: number } | undefined) => {
    let offset = 0;
    return measureAsync(
      options,
      async () => {
        if (offset >= endOffset) return 0;
        const records = readOptions === undefined ? engine.read(readTopic, 0, offset) : engine.read(readTopic, 0, offset, readOptions);
        for (let k = 0; k < records.length; k++) checksum += records[k]!.value!.length;
        offset = records[records.length - 1]!.offset + 1;
        return records.length;
      },
      () => {
        offset = 0;
      },
    );
  };
  out.push(result(SUITE, 'Engine.read with decoding', recordBytes, await readRate(undefined), 'Engine.read defaults: 1 MiB or 10,000 records per call', seglog('read')));
  progress(`Engine.read 4 MiB per call, ${recordBytes} B`);
  out.push(
    result(SUITE, 'Engine.read with decoding, 4 MiB per call', recordBytes, await readRate({ maxRecords: LARGE_READ_RECORDS_MAX, maxBytes: LARGE_READ_BYTES }), undefined, seglog('read')),
  );
  progress(`Engine.readBatches + forEachRecord, ${recordBytes} B`);

  // The zero-copy path for callers that decode in place: batches as views into the segment, each
  // record decoded by forEachRecord (its key and value views into the batch, nothing copied).
  const onRecord = (r: DecodedRecord): void => {
    checksum += r.value!.length;
  };
  let offset = 0;
  const batchesRate = await measureAsync(
    options,
    async () => {
      if (offset >= endOffset) return 0;
      const read = engine.readBatches(readTopic, 0, offset, { maxBytes: LARGE_READ_BYTES });
      let n = 0;
      for (const batch of read.batches) n += forEachRecord(batch, onRecord, offset);
      offset = read.nextOffset;
      return n;
    },
    () => {
      offset = 0;
    },
  );
  out.push(result(SUITE, 'Engine.readBatches + forEachRecord (zero-copy views)', recordBytes, batchesRate, undefined, seglog('read')));
  progress(`Subscription replay, ${recordBytes} B`);

  // Replay through a subscription: for await over every record up to the end offset.
  let sub: ReturnType<Engine['subscribe']> | null = null;
  let seen = 0;
  const replayRate = await measureAsync(
    options,
    async () => {
      if (seen >= endOffset) return 0;
      let n = 0;
      const it = sub!;
      // Pull in chunks of ~10,000 so the clock is read rarely.
      for (; n < 10_000 && seen < endOffset; n++, seen++) {
        const r = await it.next();
        if (r.done === true) throw new Error('subscription ended early');
        checksum += r.value.value!.length;
      }
      return n;
    },
    () => {
      void sub?.return();
      sub = engine.subscribe(readTopic, { partitions: 0, from: 'earliest' });
      seen = 0;
    },
  );
  void (sub as ReturnType<Engine['subscribe']> | null)?.return();
  out.push(result(SUITE, 'Subscription replay (for await)', recordBytes, replayRate, undefined, seglog('read')));
  progress(`Engine.produce acks flushed, ${recordBytes} B`);
  if (checksum === 0) throw new Error('engine read bench decoded nothing');

  // acks 'flushed' from several concurrent producers: their appends share msyncs (group commit).
  const small = recordSets.map((records) => records.slice(0, FLUSHED_RECORDS_PER_CALL));
  const flushedRate = await measureAsync(
    options,
    async () => {
      if (written > APPEND_BYTES_MAX) return 0;
      const calls: Promise<unknown>[] = [];
      for (let p = 0; p < FLUSHED_PRODUCERS; p++) calls.push(engine.produce(topic, small[i++ % DISTINCT_BATCHES]!, { partition: 0, acks: 'flushed' }));
      await Promise.all(calls);
      written += FLUSHED_PRODUCERS * FLUSHED_RECORDS_PER_CALL * (recordBytes + 8);
      return FLUSHED_PRODUCERS * FLUSHED_RECORDS_PER_CALL;
    },
    () => freshTopic('flushed'),
  );
  out.push(result(SUITE, `Engine.produce acks flushed, ${FLUSHED_PRODUCERS} concurrent producers × ${FLUSHED_RECORDS_PER_CALL} records`, recordBytes, flushedRate));
  return out;
}
