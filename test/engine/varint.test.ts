import test from 'ava';
import fc from 'fast-check';
import { VarintReader, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../../engine/format/varint.js';

// Reference zigzag varint encoder on BigInt, written from the protobuf spec, independent of ours.
function referenceVarlong(value: bigint): number[] {
  let z = value >= 0n ? value << 1n : (-value << 1n) - 1n;
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

function encodeVarint(v: number): number[] {
  const buf = new Uint8Array(10);
  const end = writeVarint(buf, 0, v);
  return [...buf.subarray(0, end)];
}

function encodeVarlong(v: number): number[] {
  const buf = new Uint8Array(10);
  const end = writeVarlong(buf, 0, v);
  return [...buf.subarray(0, end)];
}

test('known varints match the protobuf zigzag encoding', (t) => {
  t.deepEqual(encodeVarint(0), [0]);
  t.deepEqual(encodeVarint(-1), [1]);
  t.deepEqual(encodeVarint(1), [2]);
  t.deepEqual(encodeVarint(-64), [0x7f]);
  t.deepEqual(encodeVarint(64), [0x80, 0x01]);
  t.deepEqual(encodeVarint(2147483647), [0xfe, 0xff, 0xff, 0xff, 0x0f]);
  t.deepEqual(encodeVarint(-2147483648), [0xff, 0xff, 0xff, 0xff, 0x0f]);
});

test('varint: every int32 round-trips, size matches, bytes match the reference', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), (v) => {
      const bytes = encodeVarint(v);
      t.deepEqual(bytes, referenceVarlong(BigInt(v)));
      t.is(sizeOfVarint(v), bytes.length);
      const r = new VarintReader(Uint8Array.from(bytes), 0, bytes.length);
      t.is(r.varint(), v);
      t.is(r.error, null);
      t.is(r.pos, bytes.length);
    }),
    { numRuns: 2000 },
  );
});

test('varlong: safe integers round-trip, including beyond 2^31 and 2^32', (t) => {
  const edges = [0, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 40 + 7, -(2 ** 45), 0x3fffffff, 0x40000000, -0x40000000, -0x40000001];
  const check = (v: number): void => {
    const bytes = encodeVarlong(v);
    t.deepEqual(bytes, referenceVarlong(BigInt(v)), `bytes of ${v}`);
    t.is(sizeOfVarlong(v), bytes.length);
    const r = new VarintReader(Uint8Array.from(bytes), 0, bytes.length);
    t.is(r.varlong(), v);
    t.is(r.error, null);
  };
  for (const v of edges) check(v);
  // Up to ±2^52: zigzag doubles the magnitude, which must stay exact in a double.
  fc.assert(fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (v) => check(v)), { numRuns: 2000 });
});

test('reader reports truncated and over-long varints instead of throwing', (t) => {
  const truncated = new VarintReader(Uint8Array.from([0x80, 0x80]), 0, 2);
  t.is(truncated.varint(), 0);
  t.regex(truncated.error ?? '', /past the end/);

  const tooLong = new VarintReader(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x7f]), 0, 5);
  tooLong.varint();
  t.regex(tooLong.error ?? '', /longer than 5 bytes/);

  const longTruncated = new VarintReader(Uint8Array.from([0x81, 0x81]), 0, 2);
  longTruncated.varlong();
  t.regex(longTruncated.error ?? '', /past the end/);

  const longTooLong = new VarintReader(Uint8Array.from(new Array(9).fill(0xff)), 0, 9);
  longTooLong.varlong();
  t.regex(longTooLong.error ?? '', /2\^53/);
});

test('reader honours its end bound, not the buffer length', (t) => {
  const bytes = Uint8Array.from([0x80, 0x01]); // 64, but only one byte is in range
  const r = new VarintReader(bytes, 0, 1);
  r.varint();
  t.not(r.error, null);
  r.reset(bytes, 0, 2);
  t.is(r.varint(), 64);
  t.is(r.error, null);
});
