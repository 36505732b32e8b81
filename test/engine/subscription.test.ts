import test from 'ava';
import { Engine } from '../../engine/index.js';
import type { ConsumedRecord, GapEvent } from '../../engine/types.js';
import { bothModes, manualClock, text, ticks } from './helpers.js';

/** Pulls `n` records, failing instead of hanging if they do not come within `ms`. */
async function take(it: AsyncIterator<ConsumedRecord>, n: number, ms = 5000): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${out.length} of ${n} records`)), Math.max(1, deadline - Date.now()));
    });
    try {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done) break;
      out.push(r.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/** True when next() stays pending for a few event loop turns (nothing to deliver). */
async function staysPending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true), () => (settled = true));
  await ticks(5);
  return !settled;
}

bothModes('subscribing to all partitions sees every record exactly once', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 4 });
  const before = await engine.produce('t', Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
  const sub = engine.subscribe('t', { from: 'earliest' });
  const first = await take(sub, 100);
  // Live: records appended after subscribing arrive without polling.
  const after = engine.produce('t', Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `w${i}` })));
  const second = await take(sub, 100);
  await after;
  const seen = [...first, ...second].map((r) => `${r.partition}:${r.offset}`);
  t.is(new Set(seen).size, 200, 'no duplicates');
  const produced = [...before, ...(await after)].map((r) => `${r.partition}:${r.offset}`);
  t.deepEqual([...seen].sort(), [...produced].sort());
  // In order within each partition.
  for (let p = 0; p < 4; p++) {
    const offs = [...first, ...second].filter((r) => r.partition === p).map((r) => r.offset);
    t.deepEqual(offs, [...offs].sort((a, b) => a - b));
  }
  t.true(await staysPending(sub.next()), 'nothing more to deliver');
  await sub.return();
});

bothModes('from latest / earliest / offset / timestamp, and per-partition offsets', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 2 });
  for (let i = 0; i < 10; i++) await engine.produce('t', [{ value: `p0-${i}`, timestamp: 1000 + i }], { partition: 0 });
  for (let i = 0; i < 5; i++) await engine.produce('t', [{ value: `p1-${i}`, timestamp: 1000 + i }], { partition: 1 });

  const latest = engine.subscribe('t'); // default: latest
  const pending = latest.next();
  await engine.produce('t', [{ value: 'new' }], { partition: 1 });
  const r = await pending;
  t.is(text((r.value as ConsumedRecord).value), 'new');
  t.is((r.value as ConsumedRecord).offset, 5);
  await latest.return();

  const byOffset = engine.subscribe('t', { partitions: 0, from: { offset: 7 } });
  t.deepEqual((await take(byOffset, 3)).map((x) => x.offset), [7, 8, 9]);
  await byOffset.return();

  const byTime = engine.subscribe('t', { partitions: [0], from: { timestamp: 1004 } });
  t.deepEqual((await take(byTime, 6)).map((x) => x.offset), [4, 5, 6, 7, 8, 9]);
  await byTime.return();

  const resume = engine.subscribe('t', { from: 'latest', offsets: { 0: 8 } });
  const got = await take(resume, 2);
  t.deepEqual(got.map((x) => `${x.partition}:${x.offset}`), ['0:8', '0:9']);
  t.deepEqual(resume.positions(), { 0: 10, 1: 6 });
  await resume.return();
});

bothModes('return() ends the iterator and releases its watchers; a pending next() resolves done', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  const sub = engine.subscribe('t', { from: 'earliest' });
  const pending = sub.next();
  await ticks();
  const ret = await sub.return();
  t.true(ret.done);
  t.true((await pending).done);
  t.true((await sub.next()).done);
  // for await ... break calls return()
  await engine.produce('t', [{ value: 'a' }, { value: 'b' }]);
  const sub2 = engine.subscribe('t', { from: 'earliest' });
  for await (const rec of sub2) {
    t.is(rec.offset, 0);
    break;
  }
  t.true(sub2.closed);
});

bothModes('many subscribers read at their own pace; consuming removes nothing', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  await engine.produce('t', Array.from({ length: 50 }, (_, i) => ({ value: `${i}` })));
  const fast = engine.subscribe('t', { from: 'earliest' });
  const slow = engine.subscribe('t', { from: 'earliest' });
  t.is((await take(fast, 50)).length, 50);
  t.deepEqual((await take(slow, 5)).map((r) => r.offset), [0, 1, 2, 3, 4]);
  t.deepEqual(engine.offsets('t', 0), { startOffset: 0, endOffset: 50 });
  const third = engine.subscribe('t', { from: 'earliest' });
  t.is((await take(third, 50)).length, 50);
  await Promise.all([fast.return(), slow.return(), third.return()]);
});

bothModes('pull-based: reads only a bounded fetch ahead of the consumer', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  await engine.produce('t', Array.from({ length: 1000 }, (_, i) => ({ value: `${i}` })));
  const sub = engine.subscribe('t', { from: 'earliest', maxRecordsPerFetch: 10 });
  await take(sub, 3);
  // Buffered at most one fetch: the next position to deliver is 3, the fetch position ≤ 10.
  t.deepEqual(sub.positions(), { 0: 3 });
  const internal = sub as unknown as { buffer: unknown[] };
  t.true(internal.buffer.length <= 10);
  await sub.return();
});

bothModes('fair across partitions: a busy partition does not starve the others', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 3 });
  await engine.produce('t', Array.from({ length: 2000 }, (_, i) => ({ value: `${i}` })), { partition: 0 });
  await engine.produce('t', [{ value: 'one' }], { partition: 1 });
  await engine.produce('t', [{ value: 'two' }], { partition: 2 });
  const sub = engine.subscribe('t', { from: 'earliest', maxRecordsPerFetch: 50 });
  const first = await take(sub, 102);
  const partitions = new Set(first.map((r) => r.partition));
  t.deepEqual([...partitions].sort(), [0, 1, 2]);
  await sub.return();
});

bothModes('whole-topic subscriptions follow partitions added later', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 1 });
  const sub = engine.subscribe('t', { from: 'latest' });
  await engine.addPartitions('t', 3);
  await engine.produce('t', [{ value: 'x' }], { partition: 2 });
  const [r] = await take(sub, 1);
  t.is(r!.partition, 2);
  t.is(text(r!.value), 'x');
  await sub.return();
});

bothModes('deleting the topic ends its subscriptions with TOPIC_NOT_FOUND; closing the engine ends them', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  await engine.createTopic('u');
  const sub = engine.subscribe('t', { from: 'earliest' });
  const pending = sub.next();
  await engine.deleteTopic('t');
  await t.throwsAsync(pending, { code: 'TOPIC_NOT_FOUND' } as never);
  t.true((await sub.next()).done);
  const other = engine.subscribe('u');
  const waiting = other.next();
  await engine.close();
  t.true((await waiting).done);
});

test('[memory] a subscriber behind the retention cut sees a gap event and continues from the new start', async (t) => {
  const clock = manualClock();
  const engine = await Engine.open({ memory: true, now: clock.now, retentionCheckIntervalMs: 3_600_000 });
  t.teardown(() => engine.close());
  await engine.createTopic('t', { segmentBytes: 64 * 1024, retentionMs: 60_000 });
  const value = 'x'.repeat(1000);
  // ~8 records per produce; enough to fill several 64 KiB segments.
  for (let i = 0; i < 40; i++) await engine.produce('t', Array.from({ length: 8 }, () => ({ value })));
  const sub = engine.subscribe('t', { from: 'earliest', maxRecordsPerFetch: 5 });
  const gaps: GapEvent[] = [];
  sub.on('gap', (g) => gaps.push(g));
  const firstFive = await take(sub, 5);
  t.deepEqual(firstFive.map((r) => r.offset), [0, 1, 2, 3, 4]);
  clock.advance(120_000);
  await engine.produce('t', [{ value: 'fresh' }]);
  await engine.runRetention();
  const start = engine.offsets('t', 0).startOffset;
  t.true(start > 5, `start offset moved to ${start}`);
  const next = await take(sub, 1);
  t.is(gaps.length, 1);
  t.deepEqual(gaps[0], { type: 'gap', topic: 't', partition: 0, fromOffset: 5, toOffset: start });
  t.is(next[0]!.offset, start);
  t.is(sub.gapRecords, start - 5);
  await sub.return();
});

test('[memory] a start below the log start reports the gap; a resume point beyond the end continues at the end', async (t) => {
  const engine = await Engine.open({ memory: true, retentionCheckIntervalMs: 3_600_000 });
  t.teardown(() => engine.close());
  await engine.createTopic('t', { segmentBytes: 64 * 1024, retentionBytes: 64 * 1024 });
  const value = 'x'.repeat(1000);
  for (let i = 0; i < 40; i++) await engine.produce('t', Array.from({ length: 8 }, () => ({ value })));
  await engine.runRetention();
  const { startOffset, endOffset } = engine.offsets('t', 0);
  t.true(startOffset > 2, `start offset moved to ${startOffset}`);
  for (const options of [{ from: { offset: 2 } }, { offsets: { 0: 2 } }]) {
    const sub = engine.subscribe('t', options);
    const gaps: GapEvent[] = [];
    sub.on('gap', (g) => gaps.push(g));
    const [first] = await take(sub, 1);
    t.is(first!.offset, startOffset);
    t.deepEqual(gaps, [{ type: 'gap', topic: 't', partition: 0, fromOffset: 2, toOffset: startOffset }]);
    await sub.return();
  }
  const beyond = engine.subscribe('t', { offsets: { 0: endOffset + 100 } });
  await engine.produce('t', [{ value: 'next' }]);
  const [next] = await take(beyond, 1);
  t.is(next!.offset, endOffset);
  await beyond.return();
  t.throws(() => engine.subscribe('t', { from: { offset: endOffset + 2 } }), { code: 'OFFSET_OUT_OF_RANGE' } as never);
});

bothModes('subscribe validates its options', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 2 });
  await engine.produce('t', [{ value: 'a' }], { partition: 0 });
  t.throws(() => engine.subscribe('nope'), { code: 'TOPIC_NOT_FOUND' } as never);
  t.throws(() => engine.subscribe('t', { partitions: 5 }), { code: 'PARTITION_NOT_FOUND' } as never);
  t.throws(() => engine.subscribe('t', { partitions: [] }), { code: 'INVALID_ARGUMENT' } as never);
  t.throws(() => engine.subscribe('t', { from: { offset: -1 } }), { code: 'INVALID_ARGUMENT' } as never);
  t.throws(() => engine.subscribe('t', { partitions: 0, from: { offset: 2 } }), { code: 'OFFSET_OUT_OF_RANGE' } as never);
  t.throws(() => engine.subscribe('t', { from: 'middle' as never }), { code: 'INVALID_ARGUMENT' } as never);
  t.throws(() => engine.subscribe('t', { partitions: 0, offsets: { 1: 0 } }), { code: 'INVALID_ARGUMENT' } as never);
});
