// The reserver thread (engine/reserver.ts) writes zeros ahead of active segments while appends copy
// batches into the mapping. These tests hammer that concurrency: any zero written over data, or any
// copy into a page before its blocks were confirmed, shows up as a byte that does not read back.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { setImmediate as tick } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { DiskFullError } from '../../engine/format/errors.js';
import { MappedFile } from '../../engine/mapped-file.js';
import { PartitionLog } from '../../engine/partition-log.js';
import { batchLastOffset, encodeBatch } from '../../engine/record-batch.js';
import { CHUNK_BUSY, CHUNK_DONE, SLOT_HEADER_INTS } from '../../engine/reserver.js';
import { CLAIMED, RELEASING, TIMED_OUT } from '../helpers/chunk-holder.js';
import { errno, makeBatch, tempDir } from '../helpers/log-fixtures.js';
import { until } from '../helpers/until.js';

/** Deterministic pseudo-random batches of varied sizes (1..120 records of 0..3000 random bytes). */
function randomBatches(seed: number, totalBytesMax: number): Buffer[] {
  let state = seed >>> 0;
  const next = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const out: Buffer[] = [];
  let total = 0;
  while (total < totalBytesMax) {
    const count = 1 + next(120);
    const records = Array.from({ length: count }, () => ({ key: null, value: crypto.randomBytes(next(3000)) }));
    const batch = encodeBatch(records);
    out.push(batch);
    total += batch.length;
  }
  return out;
}

/** Reads the whole log back as batches, checking each against what was appended (all but baseOffset). */
function verifyAll(t: { fail: (m: string) => void; is: (a: unknown, b: unknown, m?: string) => void }, log: PartitionLog, batches: Buffer[]): void {
  let offset = 0;
  let k = 0;
  for (let guard = 0; offset < log.endOffset && guard < 1_000_000; guard++) {
    for (const got of log.read(offset, 1024 * 1024)) {
      const want = batches[k]!;
      if (got.length !== want.length || got.compare(want, 8, want.length, 8, got.length) !== 0) {
        t.fail(`batch ${k} at offset ${offset} does not read back as appended`);
        return;
      }
      offset = batchLastOffset(got) + 1;
      k++;
    }
  }
  t.is(k, batches.length, 'every batch read back');
}

for (const reserveAheadBytes of [64 * 1024, 2 * 1024 * 1024, 8 * 1024 * 1024]) {
  test(`appends racing the reserver read back byte for byte, before and after reopen (reserve ahead ${reserveAheadBytes})`, async (t) => {
    const { dir, cleanup } = tempDir();
    t.teardown(cleanup);
    // Small segments: many rolls, so reservation starts over (and detaches) often.
    const options = { dir, segmentBytes: 4 * 1024 * 1024, flushIntervalMs: 0, reserveAheadBytes };
    const batches = randomBatches(reserveAheadBytes, 48 * 1024 * 1024);
    const log = PartitionLog.open(options);
    for (let i = 0; i < batches.length; i++) {
      log.append(batches[i]!);
      // Mostly back to back (the appender catches up with the reserver), sometimes a pause (it does not).
      if (i % 97 === 0) await tick();
    }
    t.true(log.segments().length > 8, 'rolled several times');
    verifyAll(t, log, batches);
    await log.close();
    // The page cache is what we read above; a fresh open re-reads through new mappings, checks CRCs.
    const again = PartitionLog.open(options);
    verifyAll(t, again, batches);
    // The zeros ahead of the data must not have moved the end or left garbage behind it.
    t.is(again.sizeBytes, batches.reduce((n, b) => n + b.length, 0));
    await again.close();
  });
}

test('a full disk hit by the reserver thread is a DiskFullError from append with nothing written', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const failFrom = 3 * 1024 * 1024 + 12345;
  const log = PartitionLog.open({ dir, segmentBytes: 16 * 1024 * 1024, flushIntervalMs: 0, failReservationFromBytes: failFrom });
  const batch = makeBatch(50, { valueBytes: 1000 }); // ~50 KiB
  let appended = 0;
  let error: unknown = null;
  for (let i = 0; i < 400 && error === null; i++) {
    try {
      log.append(batch);
      appended++;
      if (i % 5 === 0) await tick(); // give the reserver time to run into the full disk first
    } catch (e) {
      error = e;
    }
  }
  t.true(error instanceof DiskFullError, String(error));
  t.true(appended * batch.length <= failFrom, 'no data beyond what could be reserved');
  t.is(log.endOffset, appended * 50);
  t.is(log.sizeBytes, appended * batch.length);
  // Still usable: reads work, further appends fail cleanly again, and close is clean.
  t.is(log.read(0, 1 << 20).length > 0, true);
  t.throws(() => log.append(batch), { instanceOf: DiskFullError });
  t.is(log.endOffset, appended * 50);
  await log.close();
  const again = PartitionLog.open({ dir, segmentBytes: 16 * 1024 * 1024, flushIntervalMs: 0 });
  t.is(again.endOffset, appended * 50);
  t.deepEqual(again.append(batch), { baseOffset: appended * 50, lastOffset: appended * 50 + 49 });
  await again.close();
});

for (const backgroundReserve of [true, false]) {
  test(`a full disk (reserve hook) is DiskFullError and the log recovers when space returns (backgroundReserve ${backgroundReserve})`, async (t) => {
    const { dir, cleanup } = tempDir();
    t.teardown(cleanup);
    let full = false;
    const log = PartitionLog.open({
      dir,
      segmentBytes: 32 * 1024 * 1024,
      flushIntervalMs: 0,
      backgroundReserve,
      reserveHook: () => {
        if (full) throw errno('ENOSPC');
      },
    });
    const batch = makeBatch(100, { valueBytes: 1000 }); // ~100 KiB
    for (let i = 0; i < 100; i++) log.append(batch); // ~10 MiB: the window is at its full 8 MiB
    await tick();
    full = true;
    let appended = 100;
    let error: unknown = null;
    for (let i = 0; i < 400 && error === null; i++) {
      try {
        log.append(batch);
        appended++;
        await tick();
      } catch (e) {
        error = e;
      }
    }
    t.true(error instanceof DiskFullError, String(error));
    t.is(log.endOffset, appended * 100);
    full = false;
    for (let i = 0; i < 50; i++) log.append(batch);
    appended += 50;
    await log.close();
    const again = PartitionLog.open({ dir, segmentBytes: 32 * 1024 * 1024, flushIntervalMs: 0 });
    t.is(again.endOffset, appended * 100);
    t.is(again.read(0, 1).length, 1);
    await again.close();
  });
}

test('stopReserving waits for the chunk in flight; afterwards the reserver never writes to the file', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const file = MappedFile.create(path.join(dir, 'f.log'), 32 * 1024 * 1024, { background: true, reserveAheadBytes: 16 * 1024 * 1024 });
  file.ensureReserved(4096);
  file.reserveAhead(16 * 1024 * 1024); // hands a 16 MiB target to the reserver
  await tick();
  file.stopReserving();
  const reserved = file.reservedBytes;
  const blocksAtStop = fs.statSync(path.join(dir, 'f.log')).blocks;
  // Wait until the reserver has made several passes over its files since the detach: a second file
  // gets a target of four chunks, and the reserver writes one chunk per pass (and drops a detached
  // file from its list at the first pass that sees it).
  const second = MappedFile.create(path.join(dir, 'g.log'), 32 * 1024 * 1024, { background: true, reserveAheadBytes: 4 * 1024 * 1024 });
  second.reserveAhead(4 * 1024 * 1024); // target 8 MiB: the reserver writes chunks 1..7 (chunk 0 is left to the appender)
  const secondSlot = (second as unknown as { slot: Int32Array | null }).slot;
  t.truthy(secondSlot, 'the second file was handed to the reserver');
  const doneChunks = (): number => Array.from({ length: 8 }, (_, i) => Atomics.load(secondSlot!, SLOT_HEADER_INTS + i)).filter((s) => s === CHUNK_DONE).length;
  await until(() => doneChunks() >= 3, 'the reserver wrote three chunks of the second file');
  t.is(fs.statSync(path.join(dir, 'f.log')).blocks, blocksAtStop, 'no zeros written after the detach');
  second.stopReserving();
  second.closeFd();
  t.true(blocksAtStop * 512 >= reserved, 'what is confirmed has blocks');
  file.closeFd();
});

test('the appender waits for a chunk the reserver is writing before it writes there', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const chunkBytes = 1024 * 1024;
  const claims: number[] = [];
  const file = MappedFile.create(path.join(dir, 'f.log'), 16 * chunkBytes, {
    background: true,
    reserveAheadBytes: 4 * chunkBytes,
    // Called before each chunk this (the appending) thread claims and writes itself.
    reserveHook: (_path, position, bytes) => {
      if (bytes === chunkBytes) claims.push(position / chunkBytes);
    },
  });
  file.reserveAhead(3 * chunkBytes); // a 3 MiB window: handed to the reserver, target 6 MiB (chunks 0..5)
  const slot = (file as unknown as { slot: Int32Array | null }).slot; // shared state (test only)
  t.truthy(slot, 'the file was handed to the reserver');
  // Chunk 8 lies beyond the target, so the reserver thread never touches it, and neither 6 nor 7:
  // a second thread takes the reserver's part for chunk 8 and holds it BUSY until the appender has
  // written 6 and 7 itself (so it is inside ensureReserved, at chunk 8), then writes it and sets DONE.
  const control = new Int32Array(new SharedArrayBuffer(3 * 4));
  const holder = new Worker(new URL('../helpers/chunk-holder.js', import.meta.url), {
    workerData: { slot: slot!.buffer, control: control.buffer, chunk: 8, waitForDone: [6, 7], timeoutMs: 20_000 },
  });
  const exited = once(holder, 'exit');
  t.is(Atomics.wait(control, CLAIMED, 0, 20_000) === 'timed-out' ? 0 : Atomics.load(control, CLAIMED), 1, 'the holder claimed chunk 8');
  t.is(Atomics.load(slot!, SLOT_HEADER_INTS + 8), CHUNK_BUSY);

  file.ensureReserved(9 * chunkBytes); // needs chunks 0..8: waits for 8, which the holder has BUSY

  t.is(Atomics.load(control, TIMED_OUT), 0, 'the holder saw the appender write chunks 6 and 7');
  t.is(Atomics.load(control, RELEASING), 1, 'ensureReserved returned only after the holder released chunk 8');
  t.is(Atomics.load(slot!, SLOT_HEADER_INTS + 8), CHUNK_DONE);
  t.true(claims.includes(6) && claims.includes(7), `the appender claimed ${claims.join(',')}`);
  t.false(claims.includes(8), 'the appender never claimed the chunk held BUSY');
  t.true(file.reservedBytes >= 9 * chunkBytes);
  // Data copied into chunk 8 now stays: its zeros were written before ensureReserved returned.
  // Back to front, so a zero write still running front to back would be caught arriving after it.
  for (let p = 9 * chunkBytes - 4096; p >= 8 * chunkBytes; p -= 4096) file.buffer.fill(0xab, p, p + 4096);
  await exited;
  file.stopReserving();
  const bad = file.buffer.subarray(8 * chunkBytes, 9 * chunkBytes).findIndex((b) => b !== 0xab);
  t.is(bad, -1, `zeros landed over data at +${bad}`);
  file.closeFd();
});
