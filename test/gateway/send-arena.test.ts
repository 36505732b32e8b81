// The ring small deliveries are copied into (gateway/server/send-arena.ts): slices never overlap a
// slice still out, released oldest first; no room or no slot answers null (the caller allocates).
import test from 'ava';
import { SendArena } from '../../gateway/server/send-arena.js';

/** Fills a slice with one byte value so overlaps show. */
function fill(slice: Buffer | null, value: number): Buffer {
  if (slice === null) throw new Error('expected a slice');
  slice.fill(value);
  return slice;
}

test('slices are handed out one after the other and never overlap one still out', (t) => {
  const arena = new SendArena(100, 8);
  const a = fill(arena.take(40), 1);
  const b = fill(arena.take(40), 2);
  t.is(a.buffer, b.buffer, 'one ring, no Buffer of their own');
  t.is(b.byteOffset - a.byteOffset, 40);
  t.is(arena.take(40), null, 'only 20 bytes left at the end, and the start is taken');
  t.true(a.every((x) => x === 1));
  t.true(b.every((x) => x === 2));
  t.is(arena.liveSlices, 2);
});

test('releasing the oldest frees room at the start: the ring wraps and stops before the oldest slice still out', (t) => {
  const arena = new SendArena(100, 8);
  fill(arena.take(40), 1);
  const b = fill(arena.take(40), 2);
  arena.release(); // a written: [0, 40) free
  const c = fill(arena.take(30), 3);
  t.is(c.byteOffset - b.byteOffset, -40, 'c wraps to the start of the ring');
  t.is(arena.take(11), null, '10 bytes left before b');
  const d = fill(arena.take(10), 4);
  t.is(d.byteOffset - b.byteOffset, -10);
  t.true(b.every((x) => x === 2), 'b untouched by the slices after the wrap');
  t.is(arena.take(1), null, 'full');
  arena.release(); // b
  t.is(arena.take(61), null, 'room after d is 60 bytes');
  t.truthy(arena.take(60));
});

test('at most slicesMax slices out, and never a slice larger than the ring', (t) => {
  const arena = new SendArena(1000, 3);
  t.is(arena.take(1001), null);
  t.is(arena.take(0), null);
  for (let i = 0; i < 3; i++) t.truthy(arena.take(10));
  t.is(arena.take(10), null, 'the fourth slice has no slot');
  arena.release();
  t.truthy(arena.take(10), 'a release frees a slot');
  t.is(arena.liveSlices, 3);
});

test('once every slice is released the ring starts over at its beginning', (t) => {
  const arena = new SendArena(100, 4);
  const a = arena.take(70)!;
  arena.release();
  const b = arena.take(70)!;
  t.is(b.byteOffset, a.byteOffset, 'the whole ring is free again');
  t.throws(() => {
    arena.release();
    arena.release();
  }, { message: /no slice out/ });
});
