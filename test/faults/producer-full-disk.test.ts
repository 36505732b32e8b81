// Idempotent producers on a full disk (a small tmpfs, filled to the last page): a producer id that
// cannot be reserved is DISK_FULL, never a crash; a retry is still answered from the producer state
// (it writes nothing); the snapshot that cannot be written at close is skipped with a warning, and
// after space returns a reopen rebuilds the state from the batch headers.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Engine } from '../../engine/index.js';
import { listSnapshots } from '../../engine/producer-state.js';
import { computeBatchCrc, encodeBatch } from '../../engine/record-batch.js';
import { cannotMountReason, mountSmallFs } from '../helpers/small-fs.js';

const FS_BYTES = 4 * 1024 * 1024;
/** Bound on the filler's writes: the filesystem holds FS_BYTES / 4 KiB pages at most. */
const FILL_WRITES_MAX = FS_BYTES / 4096 + 16;

function idempotentBatch(pid: number, seq: number, value: string): Buffer {
  const b = encodeBatch([{ value }]);
  b.writeBigInt64BE(BigInt(pid), 43);
  b.writeInt16BE(0, 51);
  b.writeInt32BE(seq, 53);
  b.writeUInt32BE(computeBatchCrc(b, 0, b.length), 17);
  return b;
}

/** Writes a file until ENOSPC, one page at a time (bounded); returns its path. */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const page = Buffer.alloc(4096, 1);
  try {
    for (let i = 0; i < FILL_WRITES_MAX; i++) {
      try {
        fs.writeSync(fd, page);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return filler;
        throw e;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  throw new Error('the filesystem did not fill up');
}

const skip = cannotMountReason('tmpfs');
(skip === null ? test : test.skip)(`full disk: producer ids DISK_FULL, retries answered, no snapshot at close, state rebuilt after${skip === null ? '' : ` (skipped: ${skip})`}`, async (t) => {
  const small = mountSmallFs('tmpfs', FS_BYTES, 0);
  t.teardown(() => small.unmount());
  const dir = path.join(small.mountPoint, 'data');
  let engine = await Engine.open({ dir, segmentBytes: 64 * 1024, flushIntervalMs: 0 });
  await engine.createTopic('t', { partitions: 1 });
  for (let seq = 0; seq < 3; seq++) await engine.appendBatch('t', idempotentBatch(42, seq, `v${seq}`), { partition: 0, acks: 'flushed' });
  const filler = fill(small.mountPoint);

  // No producer-ids file yet and no free page: the reservation fails as DISK_FULL, and again on retry.
  t.is(t.throws(() => engine.initProducerId())?.name, 'DiskFullError');
  t.throws(() => engine.initProducerId(), { code: 'DISK_FULL' } as never);
  // A retry of a stored batch needs no space: answered with its offsets.
  t.deepEqual(await engine.appendBatch('t', idempotentBatch(42, 1, 'v1'), { partition: 0, acks: 'flushed' }), { partition: 0, baseOffset: 1, lastOffset: 1, duplicate: true });
  // Close cannot write the producer snapshot: skipped (a warning), the close itself succeeds.
  await engine.close();
  t.deepEqual(listSnapshots(path.join(dir, 't-0')), []);

  fs.rmSync(filler);
  engine = await Engine.open({ dir, segmentBytes: 64 * 1024, flushIntervalMs: 0 });
  // Rebuilt from the batch headers: the retry is still a duplicate, a gap still refused.
  t.deepEqual(await engine.appendBatch('t', idempotentBatch(42, 2, 'v2'), { partition: 0 }), { partition: 0, baseOffset: 2, lastOffset: 2, duplicate: true });
  await t.throwsAsync(engine.appendBatch('t', idempotentBatch(42, 9, 'gap'), { partition: 0 }), { code: 'OUT_OF_ORDER_SEQUENCE' } as never);
  t.is(engine.initProducerId().producerId, 0);
  await engine.close();
  t.is(listSnapshots(path.join(dir, 't-0'))[0], 3);
});
