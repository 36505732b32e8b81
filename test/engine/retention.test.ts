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
