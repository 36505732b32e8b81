import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { PartitionLog } from '../../engine/partition-log.js';
import {
  batchBaseOffset,
  batchLastOffset,
  decodeRecords,
  encodeBatch,
  type DecodedRecord,
} from '../../engine/record-batch.js';
import { BatchTooLargeError, ClosedError, CorruptRecordError, DiskFullError, OffsetOutOfRangeError } from '../../engine/format/errors.js';
import { errno, makeBatch, tempDir } from '../helpers/log-fixtures.js';
import { until } from '../helpers/until.js';

/** All records from `from` to the end, through read() in a loop (bounded). */
function readAll(log: PartitionLog, from = log.startOffset, maxBytes = 64 * 1024): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let next = from;
  for (let guard = 0; next < log.endOffset && guard < 1_000_000; guard++) {
    const batches = log.read(next, maxBytes);
    for (const b of batches) {
      for (const r of decodeRecords(b, next)) out.push(r);
      next = batchLastOffset(b) + 1;
    }
  }
  return out;
}

for (const compression of ['none', 'lz4'] as const) {
  for (const count of [1, 10_000]) {
    test(`round trip of ${count} record(s), ${compression}`, async (t) => {
      const { dir, cleanup } = tempDir();
      t.teardown(cleanup);
      const log = PartitionLog.open({ dir, segmentBytes: 4 * 1024 * 1024, flushIntervalMs: 0 });
      const records = Array.from({ length: count }, (_, i) => ({
        key: i % 3 === 0 ? null : `key-${i}`,
        value: i % 5 === 0 ? '' : `välue ✓ ${i}`,
        headers: i % 2 === 0 ? { h: `x${i}` } : undefined,
        timestamp: 1_000 + i,
      }));
      const batch = encodeBatch(records, { compression });
      const copy = Buffer.from(batch);
      const result = log.append(batch);
      t.deepEqual(result, { baseOffset: 0, lastOffset: count - 1 });
      t.deepEqual(batch, copy, 'caller buffer untouched');
      const r2 = log.append(batch);
      t.deepEqual(r2, { baseOffset: count, lastOffset: 2 * count - 1 });
      const got = readAll(log);
      t.is(got.length, 2 * count);
      for (let i = 0; i < got.length; i++) {
        const src = records[i % count]!;
        const rec = got[i]!;
        if (rec.offset !== i || (rec.key?.toString() ?? null) !== src.key || rec.value!.toString() !== src.value || rec.timestamp !== src.timestamp) {
          t.fail(`record ${i} differs: ${JSON.stringify(rec)}`);
          break;
        }
      }
      t.is(got[0]!.headers[0]!.value!.toString(), 'x0');
      await log.close();
    });
  }
}

test('read from the middle of a batch returns the batch containing the offset', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, segmentBytes: 1024 * 1024, flushIntervalMs: 0 });
  log.append(makeBatch(10));
  log.append(makeBatch(10));
  const batches = log.read(15, 1);
  t.is(batches.length, 1, 'at least one batch even beyond maxBytes');
  t.is(batchBaseOffset(batches[0]!), 10);
  t.deepEqual(decodeRecords(batches[0]!, 15).map((r) => r.offset), [15, 16, 17, 18, 19]);
  t.deepEqual(log.read(20, 1000), []);
  const e = t.throws(() => log.read(21, 1000), { instanceOf: OffsetOutOfRangeError }) as OffsetOutOfRangeError;
  t.is(e.code, 'OFFSET_OUT_OF_RANGE');
  t.is(e.startOffset, 0);
  t.is(e.endOffset, 20);
  t.throws(() => log.read(-1, 1000), { instanceOf: OffsetOutOfRangeError });
  await log.close();
});

test('oversized and corrupt batches are refused and nothing is written', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, segmentBytes: 1024 * 1024, maxBatchBytes: 2000, flushIntervalMs: 0 });
  log.append(makeBatch(2));
  const size = log.sizeBytes;
  const big = makeBatch(10, { valueBytes: 300 });
  t.throws(() => log.append(big), { instanceOf: BatchTooLargeError });
  const bad = makeBatch(3);
  bad[bad.length - 1]! ^= 0xff;
  t.throws(() => log.append(bad), { instanceOf: CorruptRecordError });
  t.throws(() => log.append(makeBatch(3).subarray(0, 70)), { instanceOf: CorruptRecordError });
  t.is(log.sizeBytes, size);
  t.is(log.endOffset, 2);
  t.deepEqual(log.append(makeBatch(1)), { baseOffset: 2, lastOffset: 2 });
  t.is(readAll(log).length, 3);
  await log.close();
});

test('rolls when the next batch does not fit, and on segmentMs with an injected clock', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  let now = 1_000_000;
  const log = PartitionLog.open({ dir, segmentBytes: 64 * 1024, segmentMs: 10_000, flushIntervalMs: 0, now: () => now });
  const batch = makeBatch(20, { valueBytes: 100 }); // ~2.5 KiB
  const perSegment = Math.floor((64 * 1024) / batch.length);
  for (let i = 0; i < perSegment + 1; i++) log.append(batch);
  let segs = log.segments();
  t.is(segs.length, 2);
  t.is(segs[0]!.endOffset, segs[1]!.baseOffset);
  t.is(segs[0]!.sizeBytes, perSegment * batch.length);
  t.false(segs[0]!.active);
  t.true(segs[1]!.active);
  t.true(fs.existsSync(path.join(dir, `${String(segs[1]!.baseOffset).padStart(20, '0')}.log`)));
  now += 9_999;
  log.append(batch);
  t.is(log.segments().length, 2);
  now += 1;
  log.append(batch);
  segs = log.segments();
  t.is(segs.length, 3, 'segmentMs passed since the first batch of the active segment');
  log.roll();
  t.is(log.segments().length, 4);
  log.roll();
  t.is(log.segments().length, 4, 'rolling an empty active segment is a no-op');
  t.is(readAll(log).length, log.endOffset);
  await log.close();
});

test('many small segments: any offset and any timestamp find the right batch (property)', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, segmentBytes: 64 * 1024, indexIntervalBytes: 512, flushIntervalMs: 0 });
  // Batches of 1..40 records; timestamps mostly rising with some going back (not monotone).
  const rand = fc.sample(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: -50, max: 200 })), { numRuns: 1500, seed: 42 });
  const batches: { base: number; last: number; timestamps: number[] }[] = [];
  let ts = 10_000;
  for (const [count, step] of rand) {
    ts += step;
    const records = Array.from({ length: count }, (_, i) => ({ value: `r${i}-${ts}-${count}-padding-padding`, timestamp: ts + ((i * 7) % 13) }));
    const r = log.append(encodeBatch(records, { compression: count % 2 ? 'lz4' : 'none' }));
    batches.push({ base: r.baseOffset, last: r.lastOffset, timestamps: records.map((x) => x.timestamp) });
  }
  t.true(log.segments().length > 5, `${log.segments().length} segments`);
  const end = log.endOffset;
  const allTs = batches.flatMap((b) => b.timestamps);
  const check = (l: PartitionLog) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: end - 1 }), (offset) => {
        const got = l.read(offset, 1)[0]!;
        return batchBaseOffset(got) <= offset && batchLastOffset(got) >= offset;
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 9_000, max: ts + 100 }), (target) => {
        const expected = allTs.findIndex((x) => x >= target);
        const got = l.offsetForTimestamp(target);
        return got === (expected < 0 ? null : expected);
      }),
      { numRuns: 500 },
    );
  };
  check(log);
  await log.close();
  const reopened = PartitionLog.open({ dir, segmentBytes: 64 * 1024, indexIntervalBytes: 512, flushIntervalMs: 0 });
  t.true(reopened.recovery.clean);
  t.is(reopened.endOffset, end);
  t.deepEqual(reopened.segments().map((s) => [s.baseOffset, s.endOffset, s.sizeBytes, s.maxTimestamp]), log.segments().map((s) => [s.baseOffset, s.endOffset, s.sizeBytes, s.maxTimestamp]));
  check(reopened);
  await reopened.close();
});

test('restart continues offsets; close is idempotent and later calls throw ClosedError', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, segmentBytes: 64 * 1024, flushIntervalMs: 0 });
  log.append(makeBatch(5));
  await log.close();
  await log.close();
  t.throws(() => log.append(makeBatch(1)), { instanceOf: ClosedError });
  t.throws(() => log.read(0, 10), { instanceOf: ClosedError });
  await t.throwsAsync(log.flush(), { instanceOf: ClosedError });
  const again = PartitionLog.open({ dir, segmentBytes: 64 * 1024, flushIntervalMs: 0 });
  t.true(again.recovery.clean);
  t.deepEqual(again.append(makeBatch(3)), { baseOffset: 5, lastOffset: 7 });
  t.is(readAll(again).length, 8);
  await again.close();
});

test.serial('flush: group commit, durable checkpoint advances', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, segmentBytes: 1024 * 1024, flushIntervalMs: 0 });
  // Count the syncs: MappedFile calls fs.fdatasync on the shared fs module object.
  const original = fs.fdatasync;
  let syncs = 0;
  (fs as { fdatasync: unknown }).fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    syncs++;
    original(fd, cb);
  };
  t.teardown(() => void ((fs as { fdatasync: unknown }).fdatasync = original));
  log.append(makeBatch(5));
  const first = log.flush();
  log.append(makeBatch(5));
  const waiters = [log.flush(), log.flush(), log.flush()];
  await Promise.all([first, ...waiters]);
  t.is(syncs, 6, 'two cycles (log, index, time index each): the three later callers shared one');
  await log.flush();
  t.is(syncs, 6, 'nothing appended since: no sync');
  await log.close();
  t.is(fs.readFileSync(path.join(dir, 'recovery-point.checkpoint'), 'utf8'), 'v1 10\n');
});

test('deleteSegmentsBefore raises startOffset first; offsets continue after everything is deleted and reopened', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = { dir, segmentBytes: 64 * 1024, flushIntervalMs: 0, fileDeleteDelayMs: 0 };
  const log = PartitionLog.open(opts);
  const batch = makeBatch(20, { valueBytes: 200 });
  for (let i = 0; i < 100; i++) log.append(batch);
  const segs = log.segments();
  t.true(segs.length >= 3);
  const views = log.read(0, 1000); // a view into a segment about to go stays readable
  const cut = segs[1]!.baseOffset + 5;
  t.is(log.deleteSegmentsBefore(cut), 1);
  t.is(log.startOffset, cut);
  t.is(views[0]!.length > 0, true);
  t.is(batchBaseOffset(views[0]!), 0);
  t.throws(() => log.read(cut - 1, 100), { instanceOf: OffsetOutOfRangeError });
  t.is(decodeRecords(log.read(cut, 100)[0]!, cut)[0]!.offset, cut);
  t.false(fs.existsSync(path.join(dir, '00000000000000000000.log')));
  const end = log.endOffset;
  log.roll();
  t.is(log.deleteSegmentsBefore(end), segs.length - 1);
  t.is(log.startOffset, end);
  t.is(log.segments().length, 1);
  t.deepEqual(log.read(end, 100), []);
  t.is(log.offsetForTimestamp(0), null);
  await until(() => fs.readdirSync(dir).filter((f) => f.endsWith('.deleted')).length === 0, 'the delayed deletion ran');
  await log.close();
  const again = PartitionLog.open(opts);
  t.is(again.startOffset, end);
  t.is(again.endOffset, end);
  t.deepEqual(again.append(makeBatch(2)), { baseOffset: end, lastOffset: end + 1 });
  await again.close();
});

test('segments waiting for delayed deletion are removed at close and at open', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = { dir, segmentBytes: 64 * 1024, flushIntervalMs: 0, fileDeleteDelayMs: 3_600_000 };
  const log = PartitionLog.open(opts);
  log.append(makeBatch(3));
  log.roll();
  log.append(makeBatch(3));
  t.is(log.deleteSegmentsBefore(3), 1);
  t.is(fs.readdirSync(dir).filter((f) => f.endsWith('.deleted')).length, 3);
  await log.close();
  t.is(fs.readdirSync(dir).filter((f) => f.endsWith('.deleted')).length, 0);
  fs.writeFileSync(path.join(dir, '00000000000000000000.log.deleted'), 'x');
  const again = PartitionLog.open(opts);
  t.is(fs.readdirSync(dir).filter((f) => f.endsWith('.deleted')).length, 0);
  t.is(again.startOffset, 3);
  await again.destroy();
  t.false(fs.existsSync(dir));
});

test('empty partitions take little disk', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const logs = Array.from({ length: 10 }, (_, i) => PartitionLog.open({ dir: path.join(dir, `p-${i}`), flushIntervalMs: 0 }));
  let blocks = 0;
  let logical = 0;
  for (const l of logs) {
    for (const f of fs.readdirSync(l.dir)) {
      const st = fs.lstatSync(path.join(l.dir, f));
      blocks += st.blocks;
      logical += st.size;
    }
  }
  t.true(logical >= 10 * 128 * 1024 * 1024, 'segments have their full logical size');
  t.true(blocks * 512 < 10 * 1024 * 1024, `10 empty partitions take ${blocks * 512} bytes`);
  for (const l of logs) await l.close();
});

test('a full disk is a clean DiskFullError: nothing written, the log stays usable', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  let full = false;
  const log = PartitionLog.open({
    dir,
    segmentBytes: 8 * 1024 * 1024,
    flushIntervalMs: 0,
    reserveHook: () => {
      if (full) throw errno('ENOSPC');
    },
  });
  const batch = makeBatch(50, { valueBytes: 1000 }); // ~50 KiB
  let appended = 0;
  let error: unknown = null;
  full = false;
  log.append(batch);
  appended++;
  full = true;
  for (let i = 0; i < 200 && error === null; i++) {
    try {
      log.append(batch);
      appended++;
    } catch (e) {
      error = e;
    }
  }
  t.true(error instanceof DiskFullError, String(error));
  t.is((error as DiskFullError).code, 'DISK_FULL');
  t.is(log.endOffset, appended * 50);
  t.is(log.sizeBytes, appended * batch.length);
  t.is(readAll(log).length, appended * 50);
  full = false;
  t.deepEqual(log.append(batch), { baseOffset: appended * 50, lastOffset: appended * 50 + 49 });
  await log.close();
  const again = PartitionLog.open({ dir, segmentBytes: 8 * 1024 * 1024, flushIntervalMs: 0 });
  t.is(readAll(again).length, (appended + 1) * 50);
  await again.close();
});

test('CRCs are checked once per process: data from before open on its first read, appends at append', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = { dir, segmentBytes: 1024 * 1024, flushIntervalMs: 0 };
  let log = PartitionLog.open(opts);
  const batch = makeBatch(10, { valueBytes: 100 });
  for (let i = 0; i < 3; i++) log.append(batch);
  await log.close();
  const file = path.join(dir, '00000000000000000000.log');
  const flip = (position: number): void => {
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([0xee]), 0, 1, position);
    fs.closeSync(fd);
  };
  flip(batch.length + 100); // inside the 2nd batch, before this process opens the log
  log = PartitionLog.open(opts);
  t.true(log.recovery.clean);
  log.append(batch); // offsets 30..39, appended (and validated) by this process
  t.is(log.read(30, 1).length, 1, 'an appended batch reads without a check');
  t.is(log.read(0, 1).length, 1, 'the 1st batch passes its first check');
  t.throws(() => log.read(10, 1), { instanceOf: CorruptRecordError }, 'the 2nd batch fails its first check');
  t.throws(() => log.read(10, 1), { instanceOf: CorruptRecordError }, 'and every later one: a failed check is not remembered as passed');
  t.is(log.read(0, 1 << 20).length, 1, 'a longer read stops before it (the intact batch first)');
  // The shared page cache shows this write through the mapping: a batch already checked is not re-checked.
  flip(100);
  t.is(log.read(0, 1).length, 1);
  await log.close();
  // A new open checks again.
  log = PartitionLog.open(opts);
  t.throws(() => log.read(0, 1), { instanceOf: CorruptRecordError });
  await log.close();
});

test('a trusted append skips only the CRC: header and length are still checked', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, segmentBytes: 1024 * 1024, flushIntervalMs: 0 });
  const batch = makeBatch(10);
  t.deepEqual(log.append(batch, { trusted: true }), { baseOffset: 0, lastOffset: 9 });
  const badCrc = Buffer.from(batch);
  badCrc[batch.length - 1]! ^= 0xff;
  t.throws(() => log.append(badCrc), { instanceOf: CorruptRecordError }, 'untrusted appends check the CRC');
  t.throws(() => log.append(batch.subarray(0, batch.length - 1), { trusted: true }), { instanceOf: CorruptRecordError });
  const badMagic = Buffer.from(batch);
  badMagic[16] = 1;
  t.throws(() => log.append(badMagic, { trusted: true }), { instanceOf: CorruptRecordError });
  t.is(log.endOffset, 10);
  t.is(decodeRecords(log.read(0, 1)[0]!).length, 10);
  await log.close();
});

test('reserveAheadBytes bounds the blocks held ahead of the data; a quiet partition holds little', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const logBlocks = (d: string): number => fs.statSync(path.join(d, '00000000000000000000.log')).blocks * 512;
  const batch = makeBatch(100, { valueBytes: 1000 }); // ~100 KiB
  for (const [name, reserveAheadBytes, batches, slackMax] of [
    ['small', 64 * 1024, 40, 256 * 1024],
    ['default, one batch', undefined, 1, 128 * 1024],
  ] as const) {
    const sub = path.join(dir, name);
    const log = PartitionLog.open({ dir: sub, segmentBytes: 32 * 1024 * 1024, flushIntervalMs: 0, reserveAheadBytes });
    for (let i = 0; i < batches; i++) log.append(batch);
    // Windows below 2 MiB are topped up from a setImmediate the append scheduled (mapped-file.ts):
    // one queued after it runs after it.
    await new Promise((resolve) => setImmediate(resolve));
    const data = log.sizeBytes;
    const blocks = logBlocks(sub);
    t.true(blocks >= data, `${name}: data has blocks`);
    t.true(blocks - data <= slackMax, `${name}: ${blocks - data} bytes reserved ahead of ${data} bytes of data`);
    await log.close();
  }
});
