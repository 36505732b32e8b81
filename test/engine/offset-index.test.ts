import path from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { OffsetIndex } from '../../engine/offset-index.js';
import { tempDir } from '../helpers/log-fixtures.js';

test('offset index: lookup finds the largest entry at or below; count survives reopen; full is reported', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const p = path.join(dir, 'x.index');
  const idx = OffsetIndex.create(p, 101);
  t.is(idx.lookup(5), null);
  for (let i = 1; i <= 100; i++) idx.append(i * 10, i * 1000);
  t.true(idx.isFull, 'the last slot is kept for the seal entry');
  t.deepEqual(idx.lookup(9), null);
  t.deepEqual(idx.lookup(10), { relativeOffset: 10, position: 1000 });
  t.deepEqual(idx.lookup(555), { relativeOffset: 550, position: 55000 });
  t.deepEqual(idx.lookup(1e9), { relativeOffset: 1000, position: 100000 });
  t.throws(() => idx.append(1000, 200000), { message: /must increase/ });
  t.throws(() => idx.append(2000, 0), { message: /invalid/ });
  t.deepEqual(OffsetIndex.readLastEntry(p), { relativeOffset: 1000, position: 100000 });
  idx.file.closeFd();
  const again = OffsetIndex.open(p, true);
  t.is(again.entries, 100);
  again.truncateTo(40);
  t.is(again.entries, 40);
  again.append(999, 99_999);
  t.deepEqual(again.lookup(5000), { relativeOffset: 999, position: 99_999 });
  again.file.closeFd();
  t.is(OffsetIndex.open(p, false).entries, 41);
});

test('offset index lookup agrees with a linear search (property)', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 200 }), fc.integer({ min: 0, max: 1_100_000 }), (rels, target) => {
      rels.sort((a, b) => a - b);
      const p = path.join(dir, `p-${Math.random().toString(36).slice(2)}.index`);
      const idx = OffsetIndex.create(p, rels.length + 2);
      rels.forEach((r) => idx.append(r, r * 2));
      const expected = [...rels].reverse().find((r) => r <= target);
      const got = idx.lookup(target);
      idx.file.closeFd();
      return expected === undefined ? got === null : got?.relativeOffset === expected && got.position === expected * 2;
    }),
    { numRuns: 100 },
  );
  t.pass();
});

