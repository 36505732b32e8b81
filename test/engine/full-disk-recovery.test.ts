// Recovery on a full disk: when the bytes after a recovery cut cannot be zeroed for lack of space,
// the partition opens anyway and serves reads, refuses appends with DISK_FULL saying why, and becomes
// writable by itself once space exists (the next append zeros the tail first).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DiskFullError } from '../../engine/format/errors.js';
import { PartitionLog } from '../../engine/partition-log.js';
import { forEachRecord } from '../../engine/record-batch.js';
import { partitionDirName } from '../../engine/topic-name.js';
import { makeBatch } from '../helpers/log-fixtures.js';
import { makeTornTail, TORN_BYTES } from '../helpers/torn-tail.js';

test('a cut that cannot be zeroed leaves the partition read-only until space exists', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-fullrec-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { cutPosition } = await makeTornTail(dir, 'torn');
  const partitionDir = path.join(dir, partitionDirName('torn', 0));
  let full = true;
  const hookCalls: number[] = [];
  const log = PartitionLog.open({
    dir: partitionDir,
    flushIntervalMs: 0,
    reserveHook: (_file, position) => {
      hookCalls.push(position);
      if (full) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
    },
  });
  t.teardown(() => log.close().catch(() => undefined));
  t.false(log.recovery.clean);
  t.is(log.recovery.truncated?.position, cutPosition);
  t.regex(log.recovery.truncated!.reason, /read-only until space exists/);
  t.regex(log.readOnlyReason ?? '', /read-only until space exists/);
  // Reads work: the two records before the cut.
  const values: string[] = [];
  for (const b of log.read(0, 1 << 20)) forEachRecord(b, (r) => void values.push(r.value!.toString()));
  t.deepEqual(values, ['a', 'b']);
  t.is(log.endOffset, 2);
  // Appends are refused, saying why; nothing changes.
  const e = t.throws(() => log.append(makeBatch(1)), { instanceOf: DiskFullError });
  t.is(e!.code, 'DISK_FULL');
  t.regex(e!.message, /read-only until space exists/);
  t.is(log.endOffset, 2);
  // Space is back: the next append zeros the torn bytes first, then appends.
  full = false;
  t.deepEqual(log.append(makeBatch(1)), { baseOffset: 2, lastOffset: 2 });
  t.is(log.readOnlyReason, null);
  await log.close();
  // Reopened: clean, the appended record follows the two, and the torn bytes are gone.
  const again = PartitionLog.open({ dir: partitionDir, flushIntervalMs: 0 });
  t.true(again.recovery.clean);
  t.is(again.endOffset, 3);
  await again.close();
  const bytes = fs.readFileSync(path.join(partitionDir, '00000000000000000000.log'));
  const appendedEnd = again.segments()[0]!.sizeBytes;
  t.true(appendedEnd > cutPosition);
  t.true(bytes.subarray(appendedEnd, cutPosition + TORN_BYTES + 4096).every((b) => b === 0), 'nothing but zeros after the data');
});
