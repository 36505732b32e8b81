import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { CorruptRecordError } from '../../engine/format/errors.js';
import { PartitionLog } from '../../engine/partition-log.js';
import { batchBaseOffset } from '../../engine/record-batch.js';
import { Segment, indexEntriesFor, segmentFileName } from '../../engine/segment.js';
import { makeBatch, tempDir } from '../helpers/log-fixtures.js';

const config = { segmentBytes: 64 * 1024, indexIntervalBytes: 256, reserveAheadBytes: 16 * 1024 };

test('segment files are named by their 20-digit base offset and have a fixed logical size', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  t.is(segmentFileName(42), '00000000000000000042');
  const seg = Segment.create(dir, 42, config);
  t.deepEqual(fs.readdirSync(dir).sort(), ['00000000000000000042.index', '00000000000000000042.log', '00000000000000000042.timeindex']);
  t.is(fs.statSync(seg.logPath).size, 64 * 1024);
  t.is(fs.statSync(seg.indexPath).size, indexEntriesFor(64 * 1024, 256) * 8);
  t.is(fs.statSync(seg.timeIndexPath).size, indexEntriesFor(64 * 1024, 256) * 12);
  t.is(fs.statSync(seg.logPath).blocks, 0, 'nothing reserved before the first append');
  seg.dropAll();
});

test('append stamps the base offset into the segment copy, reserves ahead, and indexes', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const seg = Segment.create(dir, 100, config);
  const batch = makeBatch(4, { valueBytes: 30 });
  let offset = 100;
  for (let i = 0; i < 40 && seg.canFit(batch.length, 3); i++) {
    seg.append(batch, offset, 0);
    offset += 4;
  }
  t.is(batchBaseOffset(batch), 0, 'caller buffer not stamped');
  t.is(batchBaseOffset(seg.log.buffer, batch.length), 104);
  t.is(seg.endOffset, offset);
  t.is(seg.dataBytes, 40 * batch.length);
  t.true(seg.log.reservedBytes >= seg.dataBytes);
  t.true(fs.statSync(seg.logPath).blocks * 512 >= seg.dataBytes);
  t.true(seg.offsetIndex.entries >= Math.floor(seg.dataBytes / (256 + batch.length)) - 1);
  for (let o = 100; o < offset; o++) {
    const pos = seg.positionOf(o);
    t.true(batchBaseOffset(seg.log.buffer, pos) <= o && batchBaseOffset(seg.log.buffer, pos) + 3 >= o);
  }
  t.throws(() => seg.append(batch, offset + 1, 0), { message: /does not continue/ });
  seg.dropAll();
});

test('a flipped byte in a sealed segment is CORRUPT_RECORD on read, naming file and position', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = { dir, segmentBytes: 64 * 1024, flushIntervalMs: 0 };
  let log = PartitionLog.open(opts);
  const batch = makeBatch(10, { valueBytes: 100 });
  for (let i = 0; i < 60; i++) log.append(batch);
  const sealed = log.segments()[0]!;
  t.false(sealed.active);
  await log.close();
  const file = path.join(dir, `${segmentFileName(sealed.baseOffset)}.log`);
  const position = batch.length * 3; // the 4th batch
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([0xee]), 0, 1, position + 100);
  fs.closeSync(fd);
  log = PartitionLog.open(opts);
  t.true(log.recovery.clean, 'sealed segments are not scanned at open');
  t.is(log.read(0, 1).length, 1);
  const e = t.throws(() => log.read(35, 1), { instanceOf: CorruptRecordError }) as CorruptRecordError;
  t.is(e.code, 'CORRUPT_RECORD');
  t.is(e.file, file);
  t.is(e.position, position);
  t.deepEqual(log.read(0, 1_000_000).map((b) => batchBaseOffset(b)), [0, 10, 20], 'a longer read returns the intact batches before it, no garbage');
  t.deepEqual([e.offset, e.nextOffset], [30, 40], 'the damaged range');
  t.is(log.read(40, 1).length, 1, 'the rest stays readable');
  await log.close();
});
