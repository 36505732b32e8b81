import { bothModes } from './helpers.js';

bothModes('K concurrent producers × M records: offsets 0..K·M−1, no gaps or duplicates, each producer\'s order kept', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  const K = 8;
  const M = 250;
  const producer = async (k: number): Promise<number[]> => {
    const offsets: number[] = [];
    // Mixed call sizes, each awaited, interleaving with the other producers.
    for (let m = 0; m < M; ) {
      const n = Math.min(1 + ((k + m) % 4), M - m);
      const res = await engine.produce('t', Array.from({ length: n }, (_, j) => ({ key: null, value: `${k}:${m + j}` })), { partition: 0 });
      offsets.push(...res.map((r) => r.offset));
      m += n;
    }
    return offsets;
  };
  const all = await Promise.all(Array.from({ length: K }, (_, k) => producer(k)));
  const flat = all.flat().sort((a, b) => a - b);
  t.deepEqual(flat, Array.from({ length: K * M }, (_, i) => i));
  t.deepEqual(engine.offsets('t', 0), { startOffset: 0, endOffset: K * M });
  // Each producer's offsets increase, and the stored values follow its order.
  const stored = new Map<number, string>();
  for (let next = 0; next < K * M; ) {
    const rs = engine.read('t', 0, next);
    for (const r of rs) stored.set(r.offset, r.value!.toString());
    next = rs[rs.length - 1]!.offset + 1;
  }
  for (let k = 0; k < K; k++) {
    const offs = all[k]!;
    for (let i = 1; i < offs.length; i++) t.true(offs[i]! > offs[i - 1]!);
    t.deepEqual(offs.map((o) => stored.get(o)), Array.from({ length: M }, (_, m) => `${k}:${m}`));
  }
});

bothModes('concurrent producers without awaiting each call: acceptance order is call order', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 3 });
  // Fire 300 calls without awaiting, keyed so they spread over the partitions.
  const calls = Array.from({ length: 300 }, (_, i) => engine.produce('t', [{ key: `k${i % 5}`, value: `${i}` }]));
  const results = (await Promise.all(calls)).map((r) => r[0]!);
  for (let p = 0; p < 3; p++) {
    const mine = results.map((r, i) => ({ ...r, i })).filter((r) => r.partition === p);
    t.deepEqual(mine.map((r) => r.offset), Array.from({ length: mine.length }, (_, j) => j), `partition ${p} gap-free`);
  }
});

bothModes('concurrent appendBatch, produce and acks=flushed on several partitions', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 4 });
  const { encodeBatch } = await import('../../engine/record-batch.js');
  const batch = encodeBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
  const ops: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    ops.push(engine.appendBatch('t', batch, { partition: i % 4, acks: i % 3 === 0 ? 'flushed' : 'written' }));
    ops.push(engine.produce('t', [{ value: `${i}` }], { partition: i % 4, acks: i % 5 === 0 ? 'flushed' : 'written' }));
  }
  await Promise.all(ops);
  for (let p = 0; p < 4; p++) t.is(engine.offsets('t', p).endOffset, 50 * 3 + 50);
});

bothModes('concurrent commits of many groups: the last commit per key wins', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 2 });
  const ops: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) ops.push(engine.commit(`g${i % 5}`, 't', i % 2, i));
  await Promise.all(ops);
  for (let g = 0; g < 5; g++) {
    for (let p = 0; p < 2; p++) {
      let last = -1;
      for (let i = 0; i < 500; i++) if (i % 5 === g && i % 2 === p) last = i;
      t.is(await engine.committed(`g${g}`, 't', p), last < 0 ? null : last);
    }
  }
});

bothModes('LRU eviction under load (maxOpenPartitions 2): interleaved sync reads and async appends never fail, data intact', async (t, fx) => {
  // Small flush interval: background flushes and evictions' flushes overlap with the traffic.
  const engine = await fx.open({ maxOpenPartitions: 2, flushIntervalMs: 5 });
  const P = 12;
  await engine.createTopic('t', { partitions: P, segmentBytes: 64 * 1024 });
  const expected: string[][] = Array.from({ length: P }, () => []);
  const errors: unknown[] = [];
  let reads = 0;
  // Checks a read against what was acknowledged so far (records acked later may show up too).
  const check = (p: number, from: number): void => {
    const { startOffset, endOffset } = engine.offsets('t', p);
    t.is(startOffset, 0);
    if (from >= endOffset) return;
    const rs = engine.read('t', p, from, { maxRecords: 50 });
    reads++;
    for (const r of rs) {
      const want = expected[p]![r.offset];
      if (want !== undefined && r.value!.toString() !== want) errors.push(new Error(`partition ${p} offset ${r.offset}: ${r.value!.toString()} != ${want}`));
    }
  };
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; i < 150; i++) {
      const p = (w * 7 + i * 5) % P;
      const value = `w${w}-${i}`;
      const res = await engine.produce('t', [{ value }], { partition: p, acks: i % 4 === 0 ? 'flushed' : 'written' });
      expected[p]![res[0]!.offset] = value;
      // Right after the append resolves (a microtask in the same drain as other appends' and
      // evictions' flush completions): sync reads of other partitions, which reopen evicted logs.
      check((p + 1) % P, 0);
      check((p + 5) % P, Math.max(0, expected[(p + 5) % P]!.length - 3));
      if (i % 10 === 0) engine.describeTopic('t');
      if (i % 3 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, w) => worker(w)));
  for (const o of outcomes) if (o.status === 'rejected') errors.push(o.reason);
  t.deepEqual(errors.map((e) => String((e as Error)?.stack ?? e)), []);
  t.true(reads > 0);
  // Every acknowledged record is there, in place, after all that churn.
  for (let p = 0; p < P; p++) {
    const all = engine.read('t', p, 0, { maxRecords: 10_000 });
    t.deepEqual(all.map((r) => r.value!.toString()), expected[p]);
  }
});
