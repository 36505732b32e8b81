// Damage at rest (part 2 of "storage under real faults"): bytes of a closed partition changed on
// disk are detected, contained to their range, reported with it, and never served as other data.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import { CorruptRecordError, Engine, type ConsumedRecord, type CorruptEvent } from '../../engine/index.js';
import {
  RECORDS_PER_BATCH,
  TOPIC,
  batchesOf,
  engineOptions,
  flipBaseOffsetBit,
  flipRecordByte,
  indexEntries,
  segments,
  valueOf,
  writeIndexEntry,
  writeTopic,
  xorByte,
  type Written,
} from '../helpers/damage.js';

/** Every record must be the one written at its offset. */
function checkRecords(t: ExecutionContext, records: readonly ConsumedRecord[]): void {
  for (const r of records) {
    if (r.value?.toString() !== valueOf(r.offset) || r.key?.toString() !== `k${r.offset}`) {
      t.fail(`offset ${r.offset} returned ${r.key?.toString()} = ${r.value?.toString().slice(0, 20)}`);
    }
  }
}

interface Sweep {
  offsets: number[];
  errors: CorruptRecordError[];
}

/** Reads the whole partition from 0, skipping each damaged range at its nextOffset. Bounded. */
function readAll(t: ExecutionContext, engine: Engine, total: number, maxRecords = 37): Sweep {
  const out: Sweep = { offsets: [], errors: [] };
  let next = 0;
  for (let guard = 0; guard < 10_000 && next < total; guard++) {
    try {
      const records = engine.read(TOPIC, 0, next, { maxRecords });
      if (records.length === 0) break;
      checkRecords(t, records);
      for (const r of records) out.offsets.push(r.offset);
      next = records[records.length - 1]!.offset + 1;
    } catch (e) {
      if (!(e instanceof CorruptRecordError)) throw e;
      out.errors.push(e);
      t.true(e.nextOffset! > next, 'nextOffset moves past the read position');
      next = e.nextOffset!;
    }
  }
  return out;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let o = from; o < to; o++) out.push(o);
  return out;
}

/** Offsets 0..total-1 without [from, to). */
function allBut(total: number, from: number, to: number): number[] {
  return [...range(0, from), ...range(to, total)];
}

async function setup(t: ExecutionContext): Promise<Written> {
  const w = await writeTopic();
  t.teardown(w.cleanup);
  t.true(segments(w.partitionDir).length >= 3, 'several sealed segments');
  return w;
}

async function reopen(t: ExecutionContext, w: Written): Promise<Engine> {
  const engine = await Engine.open(engineOptions(w.dir));
  t.teardown(() => engine.close().catch(() => {}));
  return engine;
}

for (const [byte, bit] of [
  [7, 0],
  [7, 3],
  [6, 1],
  [2, 7],
  [0, 6],
] as const) {
  test(`a flipped bit (byte ${byte}, bit ${bit}) in a sealed batch's baseOffset is CORRUPT_RECORD for its ten records, nothing else`, async (t) => {
    const w = await setup(t);
    const seg = segments(w.partitionDir)[1]!;
    const batches = batchesOf(seg.log);
    const victim = batches[7]!;
    flipBaseOffsetBit(seg.log, victim, byte, bit);
    const engine = await reopen(t, w);

    // A read whose window reaches the damage returns the intact records before it.
    const before = engine.read(TOPIC, 0, victim.base - 25, { maxRecords: 1000 });
    checkRecords(t, before);
    t.deepEqual(before.map((r) => r.offset), range(victim.base - 25, victim.base));
    // A read at (or inside) the damaged range reports it.
    for (const at of [victim.base, victim.base + 4, victim.last]) {
      const e = t.throws(() => engine.read(TOPIC, 0, at), { instanceOf: CorruptRecordError }) as CorruptRecordError;
      t.is(e.code, 'CORRUPT_RECORD');
      t.is(e.offset, victim.base);
      t.is(e.nextOffset, victim.last + 1);
      t.is(e.topic, TOPIC);
      t.is(e.partition, 0);
    }
    // From nextOffset on, the rest.
    const after = engine.read(TOPIC, 0, victim.last + 1, { maxRecords: 30 });
    checkRecords(t, after);
    t.deepEqual(after.map((r) => r.offset), range(victim.last + 1, victim.last + 31));

    const sweep = readAll(t, engine, w.total);
    t.deepEqual(sweep.offsets, allBut(w.total, victim.base, victim.last + 1));
    t.deepEqual(sweep.errors.map((e) => [e.offset, e.nextOffset]), [[victim.base, victim.last + 1]]);
    // The raw path (the gateway's) serves only intact batches, and reports the same range.
    const raw = engine.readBatches(TOPIC, 0, victim.base - 25, { maxBytes: 1 << 20 });
    t.is(raw.nextOffset, victim.base);
    const e = t.throws(() => engine.readBatches(TOPIC, 0, victim.base), { instanceOf: CorruptRecordError }) as CorruptRecordError;
    t.deepEqual([e.offset, e.nextOffset], [victim.base, victim.last + 1]);
  });
}

test('a damaged baseOffset in the last batch of a sealed segment: the range ends at the next segment', async (t) => {
  const w = await setup(t);
  const segs = segments(w.partitionDir);
  const batches = batchesOf(segs[0]!.log);
  const victim = batches[batches.length - 1]!;
  flipBaseOffsetBit(segs[0]!.log, victim, 7, 2);
  const engine = await reopen(t, w);
  const e = t.throws(() => engine.read(TOPIC, 0, victim.base), { instanceOf: CorruptRecordError }) as CorruptRecordError;
  t.deepEqual([e.offset, e.nextOffset], [victim.base, segs[1]!.base]);
  const sweep = readAll(t, engine, w.total);
  t.deepEqual(sweep.offsets, allBut(w.total, victim.base, segs[1]!.base));
});

test('the first batch of a sealed segment with a damaged baseOffset', async (t) => {
  const w = await setup(t);
  const seg = segments(w.partitionDir)[1]!;
  const victim = batchesOf(seg.log)[0]!;
  flipBaseOffsetBit(seg.log, victim, 7, 0);
  const engine = await reopen(t, w);
  const sweep = readAll(t, engine, w.total);
  t.deepEqual(sweep.offsets, allBut(w.total, victim.base, victim.last + 1));
  t.deepEqual(sweep.errors.map((e) => [e.offset, e.nextOffset]), [[victim.base, victim.last + 1]]);
});

test('a flipped byte inside a batch fails its CRC: CORRUPT_RECORD for that batch, the rest readable', async (t) => {
  const w = await setup(t);
  const seg = segments(w.partitionDir)[2]!;
  const victim = batchesOf(seg.log)[5]!;
  flipRecordByte(seg.log, victim);
  const engine = await reopen(t, w);
  const before = engine.read(TOPIC, 0, victim.base - 15, { maxRecords: 1000 });
  t.deepEqual(before.map((r) => r.offset), range(victim.base - 15, victim.base));
  const e = t.throws(() => engine.read(TOPIC, 0, victim.base + 3), { instanceOf: CorruptRecordError }) as CorruptRecordError;
  t.deepEqual([e.offset, e.nextOffset], [victim.base, victim.last + 1]);
  t.regex(e.message, /CRC/);
  const sweep = readAll(t, engine, w.total);
  t.deepEqual(sweep.offsets, allBut(w.total, victim.base, victim.last + 1));
});

test('two damaged batches in a row are one range; damage in two segments gives two ranges', async (t) => {
  const w = await setup(t);
  const segs = segments(w.partitionDir);
  const a = batchesOf(segs[0]!.log);
  flipRecordByte(segs[0]!.log, a[10]!);
  flipBaseOffsetBit(segs[0]!.log, a[11]!, 7, 1);
  const b = batchesOf(segs[2]!.log);
  flipBaseOffsetBit(segs[2]!.log, b[3]!, 5, 4);
  const engine = await reopen(t, w);
  const sweep = readAll(t, engine, w.total);
  t.deepEqual(
    sweep.errors.map((e) => [e.offset, e.nextOffset]),
    [
      [a[10]!.base, a[11]!.last + 1],
      [b[3]!.base, b[3]!.last + 1],
    ],
  );
  t.deepEqual(sweep.offsets, [...range(0, a[10]!.base), ...range(a[11]!.last + 1, b[3]!.base), ...range(b[3]!.last + 1, w.total)]);
});

test('a damaged end entry of a sealed .index: the index is rebuilt from the log; everything reads, produce works', async (t) => {
  const w = await setup(t);
  const seg = segments(w.partitionDir)[1]!;
  const entries = indexEntries(seg.index);
  const end = entries[entries.length - 1]!;
  writeIndexEntry(seg.index, end.i, end.rel + 3, end.pos);
  const engine = await reopen(t, w);
  const d = engine.describeTopic(TOPIC);
  t.is(d.partitions[0]!.endOffset, w.total);
  t.deepEqual(engine.offsets(TOPIC, 0), { startOffset: 0, endOffset: w.total });
  const sweep = readAll(t, engine, w.total, 1000);
  t.deepEqual(sweep.errors, []);
  t.deepEqual(sweep.offsets, range(0, w.total));
  const [ack] = await engine.produce(TOPIC, [{ key: `k${w.total}`, value: valueOf(w.total) }], { partition: 0 });
  t.is(ack!.offset, w.total);
  await engine.close();
  // Rewritten on disk: the next open takes the fast path, and agrees.
  const again = indexEntries(seg.index);
  t.deepEqual(again[again.length - 1], end);
  const reopened = await reopen(t, w);
  t.deepEqual(readAll(t, reopened, w.total + 1, 1000).offsets, range(0, w.total + 1));
});

test('a damaged end entry position (rel intact) is caught when the segment is first read', async (t) => {
  const w = await setup(t);
  const seg = segments(w.partitionDir)[0]!;
  const entries = indexEntries(seg.index);
  const end = entries[entries.length - 1]!;
  for (const pos of [end.pos - 40, end.pos + 4096]) {
    writeIndexEntry(seg.index, end.i, end.rel, pos);
    const engine = await reopen(t, w);
    const sweep = readAll(t, engine, w.total, 1000);
    t.deepEqual(sweep.errors, []);
    t.deepEqual(sweep.offsets, range(0, w.total));
    await engine.close();
  }
});

test('an index entry pointing into the middle of a batch is detected on use; reads stay exact', async (t) => {
  const w = await setup(t);
  const segs = segments(w.partitionDir);
  for (const seg of [segs[1]!, segs[segs.length - 1]!]) {
    const entries = indexEntries(seg.index);
    const inner = entries[Math.floor(entries.length / 2)]!;
    writeIndexEntry(seg.index, inner.i, inner.rel, inner.pos + 29);
  }
  const engine = await reopen(t, w);
  const sweep = readAll(t, engine, w.total, 7);
  t.deepEqual(sweep.errors, []);
  t.deepEqual(sweep.offsets, range(0, w.total));
  for (let o = 0; o < w.total; o += 13) {
    const [r] = engine.read(TOPIC, 0, o, { maxRecords: 1 });
    t.is(r!.offset, o);
    checkRecords(t, [r!]);
  }
  const [ack] = await engine.produce(TOPIC, [{ key: `k${w.total}`, value: valueOf(w.total) }], { partition: 0 });
  t.is(ack!.offset, w.total);
});

test('an index entry naming the wrong offset for its position is detected too', async (t) => {
  const w = await setup(t);
  const seg = segments(w.partitionDir)[2]!;
  const entries = indexEntries(seg.index);
  const inner = entries[3]!;
  writeIndexEntry(seg.index, inner.i, inner.rel - RECORDS_PER_BATCH, inner.pos);
  const engine = await reopen(t, w);
  const sweep = readAll(t, engine, w.total, 3);
  t.deepEqual(sweep.errors, []);
  t.deepEqual(sweep.offsets, range(0, w.total));
});

test('timestamp lookups step over a damaged range', async (t) => {
  const w = await setup(t);
  const seg = segments(w.partitionDir)[1]!;
  const victim = batchesOf(seg.log)[4]!;
  flipBaseOffsetBit(seg.log, victim, 7, 0);
  const engine = await reopen(t, w);
  // All records share produce-time timestamps that only grow: the first at or after the damaged
  // batch's time is an intact record, at or after the range.
  const at = engine.read(TOPIC, 0, victim.base - 1, { maxRecords: 1 })[0]!.timestamp;
  const found = engine.offsetForTimestamp(TOPIC, 0, at);
  t.true(found !== null && (found < victim.base || found >= victim.last + 1));
});

test('a subscription delivers the intact records, reports the range, and stops or skips as asked', async (t) => {
  const w = await setup(t);
  const seg = segments(w.partitionDir)[1]!;
  const victim = batchesOf(seg.log)[7]!;
  flipBaseOffsetBit(seg.log, victim, 7, 3);
  const engine = await reopen(t, w);

  // Default: stop, with the error carrying the range.
  const stopping = engine.subscribe(TOPIC, { from: 'earliest', maxRecordsPerFetch: 64 });
  const events: CorruptEvent[] = [];
  stopping.on('corrupt', (e: CorruptEvent) => events.push(e));
  const seen: number[] = [];
  const error = await t.throwsAsync(async () => {
    for await (const r of stopping) {
      checkRecords(t, [r]);
      seen.push(r.offset);
      if (seen.length > w.total) break;
    }
  });
  t.true(error instanceof CorruptRecordError);
  t.deepEqual([(error as CorruptRecordError).offset, (error as CorruptRecordError).nextOffset], [victim.base, victim.last + 1]);
  t.deepEqual(seen, range(0, victim.base));
  t.deepEqual(events.map((e) => [e.partition, e.offset, e.nextOffset]), [[0, victim.base, victim.last + 1]]);
  t.is(stopping.positions()[0], victim.base);
  // Resubscribing at nextOffset goes on past it.
  const resumed = engine.subscribe(TOPIC, { offsets: { 0: (error as CorruptRecordError).nextOffset! } });
  const rest: number[] = [];
  for await (const r of resumed) {
    checkRecords(t, [r]);
    rest.push(r.offset);
    if (r.offset === w.total - 1 || rest.length > w.total) break;
  }
  t.deepEqual(rest, range(victim.last + 1, w.total));

  // corrupt: 'skip' steps over the range (the 'corrupt' event says so) and goes on.
  const skipping = engine.subscribe(TOPIC, { from: 'earliest', corrupt: 'skip' });
  const skipped: CorruptEvent[] = [];
  skipping.on('corrupt', (e: CorruptEvent) => skipped.push(e));
  const all: number[] = [];
  for await (const r of skipping) {
    checkRecords(t, [r]);
    all.push(r.offset);
    if (r.offset === w.total - 1 || all.length > w.total) break;
  }
  t.deepEqual(all, allBut(w.total, victim.base, victim.last + 1));
  t.deepEqual(skipped.map((e) => [e.offset, e.nextOffset]), [[victim.base, victim.last + 1]]);
  t.is(skipping.corruptRecords, RECORDS_PER_BATCH);
});

for (const which of ['last', 'second to last'] as const) {
  test(`damage in the ${which} batch of the active segment does not cut the log: its offsets are never given to new records`, async (t) => {
    const w = await setup(t);
    const segs = segments(w.partitionDir);
    const active = segs[segs.length - 1]!;
    const batches = batchesOf(active.log);
    const victim = batches[batches.length - (which === 'last' ? 1 : 2)]!;
    flipBaseOffsetBit(active.log, victim, 7, 5);
    const engine = await reopen(t, w);
    t.deepEqual(engine.offsets(TOPIC, 0), { startOffset: 0, endOffset: w.total });
    const e = t.throws(() => engine.read(TOPIC, 0, victim.base), { instanceOf: CorruptRecordError }) as CorruptRecordError;
    t.deepEqual([e.offset, e.nextOffset], [victim.base, victim.last + 1]);
    // Enough to roll the damaged segment: it is sealed like any other.
    const more = 600;
    for (let o = w.total; o < w.total + more; o += RECORDS_PER_BATCH) {
      const records = [];
      for (let i = o; i < o + RECORDS_PER_BATCH; i++) records.push({ key: `k${i}`, value: valueOf(i) });
      const acks = await engine.produce(TOPIC, records, { partition: 0 });
      t.is(acks[0]!.offset, o);
    }
    t.true(segments(w.partitionDir).length > segs.length, 'rolled');
    const total = w.total + more;
    t.deepEqual(readAll(t, engine, total).offsets, allBut(total, victim.base, victim.last + 1));
    await engine.close();
    // And after another clean restart.
    const again = await reopen(t, w);
    t.deepEqual(readAll(t, again, total).offsets, allBut(total, victim.base, victim.last + 1));
  });
}

/** A small seeded PRNG (mulberry32): the random cases below are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test('random bit flips in logs and indexes: every record returned is the one written; ranges and records cover the log', async (t) => {
  const w = await setup(t);
  const pristine = `${w.dir}-pristine`;
  fs.cpSync(w.dir, pristine, { recursive: true });
  t.teardown(() => fs.rmSync(pristine, { recursive: true, force: true }));
  const layout = new Map(segments(w.partitionDir).map((s) => [s.base, { batches: batchesOf(s.log), entries: indexEntries(s.index).length }]));
  for (let seed = 1; seed <= Number(process.env.DAMAGE_SEEDS ?? 30); seed++) {
    fs.rmSync(w.dir, { recursive: true, force: true });
    fs.cpSync(pristine, w.dir, { recursive: true });
    const random = prng(seed);
    const segs = segments(w.partitionDir);
    const flips = 1 + Math.floor(random() * Number(process.env.DAMAGE_FLIPS ?? 3));
    for (let f = 0; f < flips; f++) {
      const seg = segs[Math.floor(random() * segs.length)]!;
      const { batches, entries } = layout.get(seg.base)!;
      const kind = random();
      if (kind < 0.5) {
        // a header byte of a batch (baseOffset, batchLength, magic, counts...)
        const b = batches[Math.floor(random() * batches.length)]!;
        xorByte(seg.log, b.pos + Math.floor(random() * 61), 1 << Math.floor(random() * 8));
      } else if (kind < 0.8) {
        const end = batches[batches.length - 1]!;
        xorByte(seg.log, Math.floor(random() * (end.pos + end.size)), 1 << Math.floor(random() * 8));
      } else {
        if (entries > 0) xorByte(seg.index, Math.floor(random() * entries * 8), 1 << Math.floor(random() * 8));
      }
    }
    const engine = await Engine.open(engineOptions(w.dir));
    try {
      const sweep = readAll(t, engine, w.total, 1 + Math.floor(random() * 200));
      const covered = new Set(sweep.offsets);
      for (let i = 1; i < sweep.offsets.length; i++) if (!(sweep.offsets[i]! > sweep.offsets[i - 1]!)) t.fail(`seed ${seed}: offsets go back`);
      for (const e of sweep.errors) for (let o = e.offset!; o < e.nextOffset!; o++) covered.add(o);
      for (let o = 0; o < w.total; o++) if (!covered.has(o)) t.fail(`seed ${seed}: offset ${o} neither read nor reported`);
      const end = engine.offsets(TOPIC, 0).endOffset;
      const [ack] = await engine.produce(TOPIC, [{ key: `k${end}`, value: valueOf(end) }], { partition: 0 });
      t.is(ack!.offset, end, `seed ${seed}: produce continues the log`);
    } finally {
      await engine.close();
    }
  }
});
