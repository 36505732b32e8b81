import test from 'ava';
import { planRetention, type RetentionSegment } from '../../engine/retention.js';

const seg = (base: number, end: number, size: number, ts: number | null, active = false): RetentionSegment => ({
  baseOffset: base, endOffset: end, sizeBytes: size, maxTimestamp: ts, active,
});

const SEGS = [seg(0, 10, 100, 1000), seg(10, 20, 100, 2000), seg(20, 30, 100, 3000), seg(30, 35, 50, 4000, true)];

test('nothing when retention is off', (t) => {
  t.is(planRetention(SEGS, { retentionMs: -1, retentionBytes: -1 }, 1e12).segments, 0);
});

test('age: exactly the segments whose newest record is older than retentionMs', (t) => {
  const plan = planRetention(SEGS, { retentionMs: 1000, retentionBytes: -1 }, 3500);
  // now - maxTs: 2500, 1500, 500, -500 → the first two are due
  t.is(plan.segments, 2);
  t.is(plan.deleteBeforeOffset, 20);
  t.false(plan.rollActive);
  t.is(plan.reason, 'age');
  // Exactly retentionMs old is not yet due (strictly older).
  t.is(planRetention(SEGS, { retentionMs: 1500, retentionBytes: -1 }, 3500).segments, 1);
});

test('age: stops at the first segment that is not due (contiguous prefix)', (t) => {
  const segs = [seg(0, 10, 100, 1000), seg(10, 20, 100, 9000), seg(20, 30, 100, 1000), seg(30, 31, 10, 9000, true)];
  t.is(planRetention(segs, { retentionMs: 100, retentionBytes: -1 }, 5000).segments, 1);
});

test('age: an expired active segment is rolled and goes with the rest', (t) => {
  const plan = planRetention(SEGS, { retentionMs: 10, retentionBytes: -1 }, 100_000);
  t.is(plan.segments, 4);
  t.true(plan.rollActive);
  t.is(plan.deleteBeforeOffset, 35);
});

test('an empty active segment is never rolled', (t) => {
  const segs = [seg(0, 10, 100, 1000), seg(10, 10, 0, null, true)];
  const plan = planRetention(segs, { retentionMs: 10, retentionBytes: -1 }, 100_000);
  t.is(plan.segments, 1);
  t.false(plan.rollActive);
});

test('size: oldest segments go while the partition keeps at least retentionBytes', (t) => {
  // total 350
  t.is(planRetention(SEGS, { retentionMs: -1, retentionBytes: 350 }, 0).segments, 0);
  t.is(planRetention(SEGS, { retentionMs: -1, retentionBytes: 251 }, 0).segments, 0);
  t.is(planRetention(SEGS, { retentionMs: -1, retentionBytes: 250 }, 0).segments, 1);
  const plan = planRetention(SEGS, { retentionMs: -1, retentionBytes: 120 }, 0);
  t.is(plan.segments, 2);
  t.is(plan.deleteBeforeOffset, 20);
  t.is(plan.reason, 'size');
  t.is(plan.bytes, 200);
  // retentionBytes 0: everything, the active segment rolled
  const all = planRetention(SEGS, { retentionMs: -1, retentionBytes: 0 }, 0);
  t.is(all.segments, 4);
  t.true(all.rollActive);
});

test('age and size together', (t) => {
  const plan = planRetention(SEGS, { retentionMs: 2000, retentionBytes: 150 }, 3500);
  // age: first due (2500 > 2000); size: excess 200 → first (age) then second by size (100 left ≥ 0)
  t.is(plan.segments, 2);
  t.is(plan.reason, 'age+size');
});

test('no segments, nothing to do', (t) => {
  t.is(planRetention([], { retentionMs: 0, retentionBytes: 0 }, 1).deleteBeforeOffset, null);
});

// --- the engine applying retention (64 KiB segments, an injected clock, no sleeps) ---------------

import fs from 'node:fs';
import path from 'node:path';
import { until } from '../helpers/until.js';
import { bothModes, filesAwaitingDeletion, manualClock, onDisk } from './helpers.js';

const VALUE = 'r'.repeat(1000);

bothModes('age retention: exactly the expired segments go, the start offset moves, offsets continue', async (t, fx) => {
  const clock = manualClock(1_000_000_000_000);
  const engine = await fx.open({ now: clock.now, retentionCheckIntervalMs: 3_600_000, fileDeleteDelayMs: 0 });
  await engine.createTopic('t', { segmentBytes: 64 * 1024, retentionMs: 10_000 });
  // Three generations of data, 5 s apart, each filling a few segments.
  const generationEnd: number[] = [];
  for (let g = 0; g < 3; g++) {
    for (let i = 0; i < 20; i++) {
      await engine.produce('t', Array.from({ length: 8 }, () => ({ value: VALUE })));
    }
    generationEnd.push(engine.offsets('t', 0).endOffset);
    clock.advance(5_000);
  }
  const segmentsBefore = engine.describeTopic('t').partitions[0]!.segments;
  t.true(segmentsBefore >= 6, `${segmentsBefore} segments`);
  // now = t0 + 15 s: generation 0 (newest record at t0) is 15 s old, generation 1 10 s (not strictly older), 2 5 s.
  const report = await engine.runRetention();
  t.is(report.length, 1);
  const { startOffset, endOffset } = engine.offsets('t', 0);
  t.is(endOffset, generationEnd[2]);
  // Every segment wholly of generation 0 went; the segment holding the generation boundary
  // (its newest record from generation 1) stays.
  t.true(startOffset > 0 && startOffset <= generationEnd[0]!, `start ${startOffset}, gen0 end ${generationEnd[0]}`);
  const segs = engine.describeTopic('t').partitions[0]!.segments;
  t.is(segs, segmentsBefore - report[0]!.segmentsDeleted);
  t.throws(() => engine.read('t', 0, 0), { code: 'OFFSET_OUT_OF_RANGE' } as never);
  t.is(engine.read('t', 0, startOffset, { maxRecords: 1 })[0]!.offset, startOffset);
  // Nothing more to do at the same time.
  t.deepEqual(await engine.runRetention(), []);
  // Everything expires: the active segment is rolled, offsets keep going.
  clock.advance(60_000);
  await engine.runRetention();
  t.deepEqual(engine.offsets('t', 0), { startOffset: generationEnd[2]!, endOffset: generationEnd[2]! });
  const [next] = await engine.produce('t', [{ value: 'after' }]);
  t.is(next!.offset, generationEnd[2]!);
  t.deepEqual(engine.read('t', 0, next!.offset).map((r) => r.value?.toString()), ['after']);
});

bothModes('size retention: oldest segments go while the partition keeps at least retentionBytes', async (t, fx) => {
  const clock = manualClock();
  const engine = await fx.open({ now: clock.now, retentionCheckIntervalMs: 3_600_000, fileDeleteDelayMs: 0 });
  await engine.createTopic('t', { segmentBytes: 64 * 1024, retentionMs: -1, retentionBytes: 200 * 1024 });
  for (let i = 0; i < 80; i++) await engine.produce('t', Array.from({ length: 8 }, () => ({ value: VALUE })));
  const before = engine.describeTopic('t').partitions[0]!;
  t.true(before.sizeBytes > 400 * 1024);
  const report = await engine.runRetention();
  const after = engine.describeTopic('t').partitions[0]!;
  t.true(report[0]!.segmentsDeleted > 0);
  t.true(after.sizeBytes >= 200 * 1024, `kept ${after.sizeBytes}`);
  // Kafka's rule: it stops when deleting the next oldest segment (at most 64 KiB) would go below the limit.
  t.true(after.sizeBytes < 200 * 1024 + 64 * 1024, `kept ${after.sizeBytes}`);
  t.is(after.endOffset, before.endOffset);
  t.true(after.startOffset > 0);
  t.is(after.segments, before.segments - report[0]!.segmentsDeleted);
});

bothModes('retention off (-1/-1) deletes nothing; the background task runs on its interval', async (t, fx) => {
  const clock = manualClock();
  const engine = await fx.open({ now: clock.now, retentionCheckIntervalMs: 20 });
  await engine.createTopic('keep', { segmentBytes: 64 * 1024, retentionMs: -1, retentionBytes: -1 });
  await engine.createTopic('expire', { segmentBytes: 64 * 1024, retentionMs: 1000 });
  for (let i = 0; i < 20; i++) {
    await engine.produce('keep', Array.from({ length: 8 }, () => ({ value: VALUE })));
    await engine.produce('expire', Array.from({ length: 8 }, () => ({ value: VALUE })));
  }
  clock.advance(1_000_000);
  // The background task (every 20 ms) must get to it; bounded wait.
  await until(() => engine.offsets('expire', 0).startOffset !== 0, 'the background retention task ran');
  t.is(engine.offsets('expire', 0).startOffset, 160);
  t.is(engine.offsets('keep', 0).startOffset, 0);
});

onDisk('retained data survives a restart with the raised start offset', async (t, dir, open) => {
  const clock = manualClock();
  const first = await open({ now: clock.now, retentionCheckIntervalMs: 3_600_000, fileDeleteDelayMs: 0 });
  await first.createTopic('t', { segmentBytes: 64 * 1024, retentionBytes: 100 * 1024, retentionMs: -1 });
  for (let i = 0; i < 40; i++) await first.produce('t', Array.from({ length: 8 }, () => ({ value: VALUE })));
  await first.runRetention();
  const range = first.offsets('t', 0);
  t.true(range.startOffset > 0);
  await first.close();
  const second = await open({ now: clock.now });
  t.deepEqual(second.offsets('t', 0), range);
  const files = fs.readdirSync(path.join(dir, 't-0')).filter((f) => f.endsWith('.log'));
  t.true(files.length >= 2);
});

bothModes('records read before retention stay valid after their segment files were truncated and removed', async (t, fx) => {
  const clock = manualClock();
  const engine = await fx.open({ now: clock.now, retentionCheckIntervalMs: 3_600_000, fileDeleteDelayMs: 0 });
  await engine.createTopic('t', { segmentBytes: 64 * 1024, retentionMs: 1000 });
  for (let i = 0; i < 30; i++) await engine.produce('t', Array.from({ length: 8 }, (_, j) => ({ key: `k${i}-${j}`, value: `${i}-${j}-`.padEnd(1000, 'v') })));
  const kept = engine.read('t', 0, 0, { maxRecords: 50 });
  const sub = engine.subscribe('t', { from: 'earliest' });
  const first = await sub.next();
  clock.advance(10_000);
  await engine.produce('t', [{ value: 'new' }]);
  await engine.runRetention();
  t.true(engine.offsets('t', 0).startOffset > 50);
  // The delayed deletion (0 ms here) truncates the files; touching a view into them would fault.
  await until(() => filesAwaitingDeletion(fx.dir).length === 0, 'the delayed deletion (0 ms) ran');
  t.is(kept[0]!.value!.toString().slice(0, 4), '0-0-');
  t.is(kept[49]!.key!.toString(), 'k6-1');
  t.is((first.value as { value: Buffer }).value.toString().slice(0, 4), '0-0-');
  await sub.return();
});
