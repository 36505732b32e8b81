// Recovery on open after an unclean shutdown. The unclean state is made by hand: a cleanly closed
// log, its clean-shutdown marker removed, and the files then damaged or the recovery point moved.
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { writeCheckpointSync } from '../../engine/checkpoint-file.js';
import { PartitionLog, type PartitionLogOptions } from '../../engine/partition-log.js';
import { batchBaseOffset, batchLastOffset, decodeRecords, setBatchBaseOffset } from '../../engine/record-batch.js';
import { CLEAN_SHUTDOWN_MARKER, RECOVERY_BATCH_BYTES_MAX, RECOVERY_POINT_FILE } from '../../engine/recovery.js';
import { makeBatch, tempDir } from '../helpers/log-fixtures.js';

const segmentFile = (dir: string, base: number, ext = 'log') => path.join(dir, `${String(base).padStart(20, '0')}.${ext}`);

async function build(dir: string, batches: number, options: Partial<PartitionLogOptions> = {}, valueBytes = 40): Promise<PartitionLogOptions> {
  const opts: PartitionLogOptions = { dir, segmentBytes: 64 * 1024, indexIntervalBytes: 1024, flushIntervalMs: 0, ...options };
  const log = PartitionLog.open(opts);
  for (let i = 0; i < batches; i++) log.append(makeBatch((i % 5) + 1, { tag: `b${i}`, ts0: 1000 + i * 10, valueBytes }));
  await log.close();
  return opts;
}

async function closeUnclean(log: PartitionLog, dir: string): Promise<void> {
  await log.close();
  fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_MARKER));
}

function checkAll(t: { is: (a: unknown, b: unknown, m?: string) => void; fail: (m: string) => void }, log: PartitionLog): void {
  let next = log.startOffset;
  for (let guard = 0; next < log.endOffset && guard < 100_000; guard++) {
    for (const b of log.read(next, 64 * 1024)) {
      if (batchBaseOffset(b) !== next) t.fail(`gap at ${next}`);
      decodeRecords(b);
      next = batchLastOffset(b) + 1;
    }
  }
  t.is(next, log.endOffset, 'all batches readable and contiguous');
  // every offset finds its batch through the (rebuilt) index
  for (let o = log.startOffset; o < log.endOffset; o += 3) {
    const b = log.read(o, 1)[0]!;
    if (batchBaseOffset(b) > o || batchLastOffset(b) < o) t.fail(`offset ${o} found the wrong batch`);
  }
}

test('a clean shutdown skips the scan; the marker is removed right after open', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = await build(dir, 50);
  const log = PartitionLog.open(opts);
  t.deepEqual(log.recovery, { clean: true, scannedBytes: 0, truncated: null });
  t.false(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_MARKER)));
  await log.close();
});

test('a torn tail (half a batch written by hand) is cut on open and zeroed', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = await build(dir, 20);
  let log = PartitionLog.open(opts);
  const end = log.endOffset;
  const active = log.segments().at(-1)!;
  await closeUnclean(log, dir);
  const torn = makeBatch(10, { valueBytes: 50 });
  setBatchBaseOffset(torn, 0, end);
  const fd = fs.openSync(segmentFile(dir, active.baseOffset), 'r+');
  fs.writeSync(fd, torn, 0, torn.length >> 1, active.sizeBytes);
  fs.closeSync(fd);

  log = PartitionLog.open(opts);
  t.false(log.recovery.clean);
  t.not(log.recovery.truncated, null);
  t.is(log.recovery.truncated!.segment, path.basename(segmentFile(dir, active.baseOffset)));
  t.is(log.recovery.truncated!.position, active.sizeBytes);
  t.is(log.recovery.truncated!.bytes, torn.length >> 1);
  t.is(log.endOffset, end);
  const bytes = fs.readFileSync(segmentFile(dir, active.baseOffset));
  t.is(bytes.subarray(active.sizeBytes).findIndex((b) => b !== 0), -1, 'the cut bytes are zeroed');
  t.deepEqual(log.append(makeBatch(2)), { baseOffset: end, lastOffset: end + 1 });
  checkAll(t, log);
  await log.close();
});

test('a valid batch behind a torn one is cut too (never read as data later)', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = await build(dir, 10, { segmentBytes: 1024 * 1024 });
  let log = PartitionLog.open(opts);
  const end = log.endOffset;
  const size = log.sizeBytes;
  await closeUnclean(log, dir);
  const torn = makeBatch(3);
  setBatchBaseOffset(torn, 0, end);
  torn[torn.length - 1]! ^= 1; // bad CRC
  const good = makeBatch(3);
  setBatchBaseOffset(good, 0, end + 3);
  const fd = fs.openSync(segmentFile(dir, 0), 'r+');
  fs.writeSync(fd, torn, 0, torn.length, size);
  fs.writeSync(fd, good, 0, good.length, size + torn.length);
  fs.closeSync(fd);

  log = PartitionLog.open(opts);
  t.is(log.endOffset, end);
  t.is(log.recovery.truncated!.position, size);
  // up to the last non-zero byte of the good batch
  t.true(log.recovery.truncated!.bytes > torn.length && log.recovery.truncated!.bytes <= torn.length + good.length);
  t.regex(log.recovery.truncated!.reason, /CRC/);
  t.is(log.append(makeBatch(1)).baseOffset, end);
  checkAll(t, log);
  await log.close();
});

test('recovery scans only the tail, however many sealed segments there are', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = await build(dir, 1500, {}, 400);
  let log = PartitionLog.open(opts);
  const segs = log.segments();
  t.true(segs.length >= 30, `${segs.length} segments`);
  const total = log.sizeBytes;
  const activeBytes = segs.at(-1)!.sizeBytes;
  const end = log.endOffset;
  await closeUnclean(log, dir);

  log = PartitionLog.open(opts);
  t.false(log.recovery.clean);
  t.is(log.recovery.truncated, null);
  t.true(log.recovery.scannedBytes <= Math.min(activeBytes, 1024 + 2500), `scanned ${log.recovery.scannedBytes} of ${total}`);
  t.is(log.endOffset, end);
  await closeUnclean(log, dir);

  // Without a recovery point everything is checked: the figure above really measures the scan.
  writeCheckpointSync(path.join(dir, RECOVERY_POINT_FILE), 0);
  log = PartitionLog.open(opts);
  t.is(log.recovery.scannedBytes, total);
  t.is(log.endOffset, end);
  checkAll(t, log);
  await log.close();
});

test('segments after the recovery point are all checked and re-indexed; a bad batch there cuts the rest', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = await build(dir, 400, {}, 400);
  let log = PartitionLog.open(opts);
  const segs = log.segments();
  t.true(segs.length >= 8);
  await closeUnclean(log, dir);
  const point = segs[3]!.baseOffset + 7;
  writeCheckpointSync(path.join(dir, RECOVERY_POINT_FILE), point);
  // Wipe the index of a segment after the point: it must be rebuilt.
  fs.writeFileSync(segmentFile(dir, segs[5]!.baseOffset, 'index'), Buffer.alloc(fs.statSync(segmentFile(dir, segs[5]!.baseOffset, 'index')).size));
  log = PartitionLog.open(opts);
  t.is(log.recovery.truncated, null);
  const scanned = segs.slice(4).reduce((n, s) => n + s.sizeBytes, 0);
  t.true(log.recovery.scannedBytes >= scanned && log.recovery.scannedBytes <= scanned + segs[3]!.sizeBytes);
  t.deepEqual(log.segments(), segs);
  checkAll(t, log);
  await closeUnclean(log, dir);

  // Flip a byte inside a batch of segment 6: cut there, segments 7.. removed.
  writeCheckpointSync(path.join(dir, RECOVERY_POINT_FILE), point);
  const victim = segs[6]!;
  const fd = fs.openSync(segmentFile(dir, victim.baseOffset), 'r+');
  fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, 20_000);
  fs.closeSync(fd);
  log = PartitionLog.open(opts);
  const cut = log.recovery.truncated!;
  t.is(cut.segment, path.basename(segmentFile(dir, victim.baseOffset)));
  t.true(cut.position <= 20_000 && cut.position > 15_000);
  t.regex(cut.reason, /later segment\(s\) removed/);
  t.is(log.segments().length, 7);
  t.true(log.segments().at(-1)!.active);
  t.false(fs.existsSync(segmentFile(dir, segs[7]!.baseOffset)));
  const end = log.endOffset;
  t.true(end > victim.baseOffset && end < victim.endOffset);
  t.is(log.append(makeBatch(1)).baseOffset, end);
  checkAll(t, log);
  await log.close();
  log = PartitionLog.open(opts);
  t.true(log.recovery.clean);
  checkAll(t, log);
  await log.close();
});

test('a segment sealed right before a crash (no successor yet) opens as the active one', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const opts = await build(dir, 30);
  let log = PartitionLog.open(opts);
  const before = log.segments();
  log.roll();
  const after = log.segments();
  await closeUnclean(log, dir);
  // remove the new empty active segment: the sealed one is last again
  const newest = after.at(-1)!.baseOffset;
  for (const ext of ['log', 'index', 'timeindex']) fs.rmSync(segmentFile(dir, newest, ext));
  log = PartitionLog.open(opts);
  t.deepEqual(log.segments().map((s) => [s.baseOffset, s.endOffset, s.sizeBytes]), before.map((s) => [s.baseOffset, s.endOffset, s.sizeBytes]));
  for (let i = 0; i < 20; i++) log.append(makeBatch(3, { valueBytes: 40 }));
  checkAll(t, log);
  await log.close();
});

test('recovery does not trust the index entry it starts from: a damaged one is not a reason to cut good data', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-rec-entry-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = PartitionLog.open({ dir, indexIntervalBytes: 256, flushIntervalMs: 0 });
  for (let i = 0; i < 40; i++) log.append(makeBatch(5, { valueBytes: 100 }));
  await log.flush(); // the recovery point is now the end: recovery will start from the last entry below it
  await log.close();
  fs.rmSync(path.join(dir, '.clean-shutdown'));
  const indexPath = path.join(dir, '00000000000000000000.index');
  const index = fs.readFileSync(indexPath);
  let entries = 0;
  while (entries * 8 < index.length && index.readUInt32BE(entries * 8 + 4) !== 0) entries++;
  t.true(entries > 2, `the index has entries (${entries})`);
  // A recovery point in the middle: recovery starts at the last entry below offset 100, which now
  // points 7 bytes into its batch.
  writeCheckpointSync(path.join(dir, RECOVERY_POINT_FILE), 100);
  let chosen = -1;
  for (let i = 0; i < entries; i++) if (index.readUInt32BE(i * 8) <= 99) chosen = i;
  t.true(chosen >= 0 && chosen < entries - 1, `an inner entry is chosen (${chosen} of ${entries})`);
  index.writeUInt32BE(index.readUInt32BE(chosen * 8 + 4) + 7, chosen * 8 + 4);
  fs.writeFileSync(indexPath, index);
  const again = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.teardown(() => again.close().catch(() => undefined));
  t.false(again.recovery.clean);
  t.is(again.recovery.truncated, null, JSON.stringify(again.recovery.truncated));
  t.is(again.endOffset, 200);
});

test('a torn header claiming a batch larger than any batch may be is cut without reading its bytes', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-rec-huge-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // 128 MiB segment (sparse): room for the claimed length, so only the batch-size bound refuses it.
  const log = PartitionLog.open({ dir, segmentBytes: 128 * 1024 * 1024, flushIntervalMs: 0 });
  log.append(makeBatch(3));
  const end = log.segments()[0]!.sizeBytes;
  await log.close();
  fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_MARKER));
  const header = Buffer.from(makeBatch(1).subarray(0, 61));
  header.writeInt32BE(RECOVERY_BATCH_BYTES_MAX + 1, 8); // batchLength: size = length + 12 > the bound
  const fd = fs.openSync(path.join(dir, '00000000000000000000.log'), 'r+');
  fs.writeSync(fd, header, 0, header.length, end);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(dir, RECOVERY_POINT_FILE), 'v1 0\n');
  const again = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.teardown(() => again.close().catch(() => undefined));
  t.is(again.endOffset, 3);
  t.is(again.recovery.truncated?.position, end);
  t.regex(again.recovery.truncated!.reason, new RegExp(`batch length beyond the ${RECOVERY_BATCH_BYTES_MAX} bytes`));
});
