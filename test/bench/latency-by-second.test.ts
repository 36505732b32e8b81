// The latency rows' p99 of each second of the window (bench/latency-consumer.ts): which samples fall
// in which second, the nearest-rank p99 within it, gaps and a partial last second, and the note text.
import test from 'ava';
import { HEADER_BYTES, LatencySamples, SENT_AT_POS, SEQ_POS, formatP99BySecond, p99BySecond } from '../../bench/latency-consumer.js';

test('p99BySecond splits the window by sequence offset / rate and takes each second’s p99', (t) => {
  const rate = 100;
  // Second 0: 1..100 ms (p99 by nearest rank below: the 100th smallest of 100 = 100);
  // second 1: 99 samples of 2 ms and one of 50 ms (p99 = 50); second 2: all 7 ms.
  const samples = new Float64Array(3 * rate);
  for (let i = 0; i < rate; i++) samples[i] = rate - i; // unsorted on purpose
  for (let i = rate; i < 2 * rate; i++) samples[i] = 2;
  samples[rate + 17] = 50;
  for (let i = 2 * rate; i < 3 * rate; i++) samples[i] = 7;
  const seen = new Uint8Array(samples.length).fill(1);
  t.deepEqual(p99BySecond(samples, seen, rate), [100, 50, 7]);
});

test('p99BySecond counts only seen samples, gives a partial last second its own value and NaN to an empty second', (t) => {
  const rate = 10;
  const samples = new Float64Array(25).fill(1);
  const seen = new Uint8Array(25).fill(1);
  samples[3] = 999; // not received: must not count
  seen[3] = 0;
  for (let i = 10; i < 20; i++) seen[i] = 0; // nothing received in second 1
  samples[24] = 3;
  const got = p99BySecond(samples, seen, rate);
  t.is(got.length, 3, 'ceil(25 / 10) seconds');
  t.is(got[0], 1);
  t.true(Number.isNaN(got[1]!));
  t.is(got[2], 3);
  t.throws(() => p99BySecond(samples, seen, 0));
});

test('formatP99BySecond: two decimals per second, n/a for an empty one (NaN in memory, null in JSON)', (t) => {
  t.is(formatP99BySecond([4.156, 2.53, 1.8249, 2.44, 1.03]), 'p99 by second 4.16 2.53 1.82 2.44 1.03');
  t.is(formatP99BySecond([0.5, NaN, null]), 'p99 by second 0.50 n/a n/a');
});

test('LatencySamples reports one p99 per second of the window, warm-up and duplicates left out', (t) => {
  const rate = 10;
  const warmup = 5;
  const samples = new LatencySamples(warmup, 25, rate);
  const value = (seq: number): Buffer => {
    const v = Buffer.alloc(HEADER_BYTES);
    v.writeUInt32LE(seq, SEQ_POS);
    v.writeDoubleLE(0, SENT_AT_POS); // latency = now on the monotonic clock: large, finite, positive
    return v;
  };
  for (let seq = 0; seq < warmup; seq++) t.false(samples.add(value(seq)), 'warm-up not counted');
  for (let seq = warmup; seq < warmup + 24; seq++) samples.add(value(seq));
  samples.add(value(warmup)); // a duplicate
  t.is(samples.count, 24);
  t.true(samples.add(value(warmup + 24)), 'complete with the last one');
  const r = samples.result();
  t.is(r.p99BySecondMs.length, 3);
  t.true(r.p99BySecondMs.every((x) => Number.isFinite(x) && x > 0));
});
