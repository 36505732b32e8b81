// Idempotent producers in the engine: dedupe by producer id, epoch and sequence (Kafka's rules, the
// last 5 batches), refusal of gaps and old epochs, the state kept across close/reopen (snapshot)
// and rebuilt from the batch headers when there is no usable snapshot, bounded per partition, and
// producer ids that never repeat.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Engine } from '../../engine/engine.js';
import { OutOfOrderSequenceError, ProducerFencedError, type SeglogError } from '../../engine/format/errors.js';
import { PRODUCER_STATE_LIMITS } from '../../engine/limits.js';
import { PartitionLog } from '../../engine/partition-log.js';
import { listSnapshots, snapshotFileName } from '../../engine/producer-state.js';
import { PRODUCER_IDS_FILE } from '../../engine/producer-ids.js';
import { computeBatchCrc, decodeRecords, encodeBatch } from '../../engine/record-batch.js';
import { tempDir } from '../helpers/log-fixtures.js';
import { until } from '../helpers/until.js';

/** The registry code `fn` throws with (null when it does not throw). */
function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return (e as SeglogError).code;
  }
}

/** A batch of `count` records from producer `pid`, epoch, first sequence `seq` (CRC recomputed: the producer fields are inside it). */
function idempotentBatch(pid: number, epoch: number, seq: number, count = 1, tag = 'v'): Buffer {
  const b = encodeBatch(Array.from({ length: count }, (_, i) => ({ value: `${tag}-${seq + i}` })));
  b.writeBigInt64BE(BigInt(pid), 43);
  b.writeInt16BE(epoch, 51);
  b.writeInt32BE(seq, 53);
  b.writeUInt32BE(computeBatchCrc(b, 0, b.length), 17);
  return b;
}

function allValues(log: PartitionLog): string[] {
  const out: string[] = [];
  let next = log.startOffset;
  for (let guard = 0; next < log.endOffset && guard < 10_000; guard++) {
    for (const b of log.read(next, 1 << 20)) {
      for (const r of decodeRecords(b, next)) {
        out.push(r.value!.toString());
        next = r.offset + 1;
      }
    }
  }
  return out;
}

test('a batch sent again gets its stored offsets and is stored once; the next sequence goes on; a gap is refused', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.teardown(() => log.close());
  t.deepEqual(log.append(idempotentBatch(7, 0, 0, 3)), { baseOffset: 0, lastOffset: 2 });
  t.deepEqual(log.append(idempotentBatch(7, 0, 0, 3)), { baseOffset: 0, lastOffset: 2, duplicate: true });
  t.deepEqual(log.append(idempotentBatch(7, 0, 3, 2)), { baseOffset: 3, lastOffset: 4 });
  // Another producer interleaves; its own sequence is independent.
  t.deepEqual(log.append(idempotentBatch(8, 0, 40, 1)), { baseOffset: 5, lastOffset: 5 });
  t.deepEqual(log.append(idempotentBatch(7, 0, 0, 3)), { baseOffset: 0, lastOffset: 2, duplicate: true });
  const gap = t.throws(() => log.append(idempotentBatch(7, 0, 9, 1)));
  t.true(gap instanceof OutOfOrderSequenceError);
  t.is((gap as SeglogError).code, 'OUT_OF_ORDER_SEQUENCE');
  t.is(log.endOffset, 6);
  t.deepEqual(allValues(log), ['v-0', 'v-1', 'v-2', 'v-3', 'v-4', 'v-40']);
  // Plain batches (producer id -1) are never deduplicated.
  log.append(encodeBatch([{ value: 'plain' }]));
  log.append(encodeBatch([{ value: 'plain' }]));
  t.is(log.endOffset, 8);
});

test('epochs: an older one is fenced, a newer one must start at sequence 0 and forgets the old batches', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.teardown(() => log.close());
  log.append(idempotentBatch(1, 3, 0, 2));
  t.is(codeOf(() => log.append(idempotentBatch(1, 2, 2))), 'PRODUCER_FENCED');
  t.true(t.throws(() => log.append(idempotentBatch(1, 2, 2))) instanceof ProducerFencedError);
  t.is(codeOf(() => log.append(idempotentBatch(1, 4, 5))), 'OUT_OF_ORDER_SEQUENCE');
  t.deepEqual(log.append(idempotentBatch(1, 4, 0, 1, 'e4')), { baseOffset: 2, lastOffset: 2 });
  // The old epoch's batch is now fenced, not a duplicate.
  t.is(codeOf(() => log.append(idempotentBatch(1, 3, 0, 2))), 'PRODUCER_FENCED');
  t.is(log.endOffset, 3);
});

test('the last 5 batches of a producer are remembered: an older retry is out of sequence, not a duplicate', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.teardown(() => log.close());
  const kept = PRODUCER_STATE_LIMITS.batchesKeptPerProducer;
  for (let i = 0; i <= kept; i++) log.append(idempotentBatch(5, 0, i));
  // Batch 0 left the window; batches 1..5 are still answered from it.
  t.is(codeOf(() => log.append(idempotentBatch(5, 0, 0))), 'OUT_OF_ORDER_SEQUENCE');
  for (let i = 1; i <= kept; i++) t.deepEqual(log.append(idempotentBatch(5, 0, i)), { baseOffset: i, lastOffset: i, duplicate: true });
  t.is(log.endOffset, kept + 1);
});

test('sequence numbers wrap from 2^31-1 to 0', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.teardown(() => log.close());
  log.append(idempotentBatch(2, 0, 0x7ffffffe, 2)); // sequences 2^31-2, 2^31-1
  t.deepEqual(log.append(idempotentBatch(2, 0, 0, 1)), { baseOffset: 2, lastOffset: 2 });
  t.is(log.endOffset, 3);
});

test('maxProducers: beyond it the least recently appended producer is forgotten (and then accepted at any sequence, as Kafka does for an unknown one)', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, flushIntervalMs: 0, maxProducers: 2 });
  t.teardown(() => log.close());
  log.append(idempotentBatch(1, 0, 0));
  log.append(idempotentBatch(2, 0, 0));
  log.append(idempotentBatch(1, 0, 1)); // producer 1 is now the most recent
  log.append(idempotentBatch(3, 0, 0)); // producer 2 goes
  t.is(log.producerCount, 2);
  t.deepEqual(log.append(idempotentBatch(1, 0, 1)), { baseOffset: 2, lastOffset: 2, duplicate: true });
  t.deepEqual(log.append(idempotentBatch(2, 0, 0)), { baseOffset: 4, lastOffset: 4 }); // not known any more: stored again
  t.throws(() => PartitionLog.open({ dir: path.join(dir, 'x'), maxProducers: 0 }), { code: 'INVALID_ARGUMENT' });
});

test('kept across a clean close (snapshot at the end, no log read) and rebuilt from the batch headers when the snapshot is damaged', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  let log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  log.append(idempotentBatch(9, 1, 0, 2));
  log.append(encodeBatch([{ value: 'plain' }]));
  log.append(idempotentBatch(9, 1, 2, 2));
  await log.close();
  t.deepEqual(listSnapshots(dir), [5]);

  log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.deepEqual(log.append(idempotentBatch(9, 1, 2, 2)), { baseOffset: 3, lastOffset: 4, duplicate: true });
  t.deepEqual(log.append(idempotentBatch(9, 1, 0, 2)), { baseOffset: 0, lastOffset: 1, duplicate: true });
  t.is(codeOf(() => log.append(idempotentBatch(9, 1, 7))), 'OUT_OF_ORDER_SEQUENCE');
  await log.close();
  // Nothing appended since: the snapshot was current, not rewritten.
  t.deepEqual(listSnapshots(dir), [5]);

  // A flipped byte fails the snapshot's CRC: it is ignored and the state comes from the log.
  const file = path.join(dir, snapshotFileName(5));
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 1]! ^= 0xff;
  fs.writeFileSync(file, bytes);
  log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.deepEqual(log.append(idempotentBatch(9, 1, 2, 2)), { baseOffset: 3, lastOffset: 4, duplicate: true });
  t.deepEqual(log.append(idempotentBatch(9, 1, 4, 1)), { baseOffset: 5, lastOffset: 5 });
  await log.close();
  log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.deepEqual(allValues(log), ['v-0', 'v-1', 'plain', 'v-2', 'v-3', 'v-4']);
  await log.close();
});

test('a snapshot is written at each roll once the sealed segment is synced; a snapshot past the recovered end is dropped at open', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  let log = PartitionLog.open({ dir, flushIntervalMs: 0, segmentBytes: 64 * 1024 });
  const value = 'x'.repeat(1000);
  let seq = 0;
  // Bounded: 64 KiB segments roll after about 60 of these batches; 200 make at least 2 rolls.
  for (let i = 0; i < 200; i++) {
    const b = encodeBatch([{ value }]);
    b.writeBigInt64BE(4n, 43);
    b.writeInt16BE(0, 51);
    b.writeInt32BE(seq++, 53);
    b.writeUInt32BE(computeBatchCrc(b, 0, b.length), 17);
    log.append(b);
  }
  await log.flush();
  const sealedEnds = log.segments().filter((s) => !s.active).map((s) => s.endOffset);
  t.true(sealedEnds.length >= 2);
  // The newest roll's snapshot (taken at the last sealed segment's end) is written by a flush cycle
  // after the sync that flush() waited for (rolls that come quicker than syncs replace the pending one).
  const newestSealedEnd = sealedEnds[sealedEnds.length - 1]!;
  await until(() => listSnapshots(dir)[0] === newestSealedEnd, `snapshot ${newestSealedEnd}`);
  t.true(listSnapshots(dir).every((o) => sealedEnds.includes(o)));
  await log.close();
  t.is(listSnapshots(dir)[0], 200);
  t.true(listSnapshots(dir).length <= PRODUCER_STATE_LIMITS.snapshotsKept);

  // A snapshot beyond the end (as a crash that cut the log below it would leave) goes at open.
  fs.writeFileSync(path.join(dir, snapshotFileName(500)), fs.readFileSync(path.join(dir, snapshotFileName(200))));
  log = PartitionLog.open({ dir, flushIntervalMs: 0, segmentBytes: 64 * 1024 });
  t.false(listSnapshots(dir).includes(500));
  const retry = encodeBatch([{ value }]);
  retry.writeBigInt64BE(4n, 43);
  retry.writeInt16BE(0, 51);
  retry.writeInt32BE(199, 53);
  retry.writeUInt32BE(computeBatchCrc(retry, 0, retry.length), 17);
  t.deepEqual(log.append(retry), { baseOffset: 199, lastOffset: 199, duplicate: true });
  await log.close();
});

test('Engine: producer ids never repeat across close/reopen (a block reserved on disk first); appendBatch reports duplicates', async (t) => {
  const dir = tempDir().dir;
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let engine = await Engine.open({ dir });
  const first = [engine.initProducerId(), engine.initProducerId()];
  t.deepEqual(first, [{ producerId: 0, producerEpoch: 0 }, { producerId: 1, producerEpoch: 0 }]);
  t.is(fs.readFileSync(path.join(dir, PRODUCER_IDS_FILE), 'utf8'), `v1 ${PRODUCER_STATE_LIMITS.producerIdBlockSize}\n`);
  await engine.createTopic('t', { partitions: 1 });
  const b = idempotentBatch(1, 0, 0, 2);
  t.deepEqual(await engine.appendBatch('t', b, { partition: 0, acks: 'flushed' }), { partition: 0, baseOffset: 0, lastOffset: 1 });
  t.deepEqual(await engine.appendBatch('t', b, { partition: 0, acks: 'flushed' }), { partition: 0, baseOffset: 0, lastOffset: 1, duplicate: true });
  await engine.close();
  engine = await Engine.open({ dir });
  // The ids after the reserved block: none given out before can come again.
  t.is(engine.initProducerId().producerId, PRODUCER_STATE_LIMITS.producerIdBlockSize);
  t.deepEqual(await engine.appendBatch('t', b, { partition: 0 }), { partition: 0, baseOffset: 0, lastOffset: 1, duplicate: true });
  await t.throwsAsync(engine.appendBatch('t', idempotentBatch(1, 0, 5), { partition: 0 }), { code: 'OUT_OF_ORDER_SEQUENCE' });
  t.is(engine.offsets('t', 0).endOffset, 2);
  await engine.close();
});
