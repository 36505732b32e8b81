// The latency rows' p99 of each second of the window (bench/latency-consumer.ts): which samples fall
// in which second, the nearest-rank p99 within it, gaps and a partial last second, and the note text;
// the warm-up's own p99, the warm-up's length, and the server figures read from a scrape.
import test from 'ava';
import { monotonicMs } from '../../bench/harness.js';
import { HEADER_BYTES, LatencySamples, SENT_AT_POS, SEQ_POS, formatP99BySecond, formatWarmupP99, p99BySecond } from '../../bench/latency-consumer.js';
import { LATENCY_WARMUP_MS_DEFAULT, LATENCY_WARMUP_MS_MAX, LATENCY_WARMUP_MS_MIN, QUICK_LATENCY_WARMUP_MS, latencyWarmupMs } from '../../bench/latency-schedule.js';
import { parseScrape } from '../../bench/server-scrape.js';

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

test('LatencySamples keeps the warm-up apart: its p99 is reported, the window quantiles never see it', (t) => {
  const warmup = 100;
  const samples = new LatencySamples(warmup, 100, 1000);
  const now = monotonicMs();
  // Sent "100 ms ago" during the warm-up, "just now" in the window: the two sets cannot mix.
  const value = (seq: number, sentAt: number): Buffer => {
    const v = Buffer.alloc(HEADER_BYTES);
    v.writeUInt32LE(seq, SEQ_POS);
    v.writeDoubleLE(sentAt, SENT_AT_POS);
    return v;
  };
  for (let seq = 0; seq < warmup; seq++) samples.add(value(seq, now - 100_000));
  samples.add(value(3, now)); // a duplicate of a warm-up record: ignored, not a second sample
  for (let seq = warmup; seq < 2 * warmup; seq++) samples.add(value(seq, now));
  const r = samples.result();
  t.true(r.warmupP99Ms >= 100_000, `warm-up p99 ${r.warmupP99Ms}`);
  t.true(r.p99Ms < 100_000 && r.maxMs < 100_000, `window max ${r.maxMs}`);
  t.is(r.count, warmup);
  t.true(Number.isNaN(new LatencySamples(0, 10, 10).result().warmupP99Ms), 'no warm-up: NaN (null in JSON)');
});

test('formatWarmupP99: two decimals in ms, n/a without samples', (t) => {
  t.is(formatWarmupP99(3.914), 'warm-up p99 3.91 ms');
  t.is(formatWarmupP99(NaN), 'warm-up p99 n/a');
  t.is(formatWarmupP99(null), 'warm-up p99 n/a');
});

test('latencyWarmupMs: quick, the default, an override in bounds, and a clear error otherwise', (t) => {
  t.is(latencyWarmupMs(true, '30000'), QUICK_LATENCY_WARMUP_MS);
  t.is(latencyWarmupMs(false, undefined), LATENCY_WARMUP_MS_DEFAULT);
  t.is(latencyWarmupMs(false, ''), LATENCY_WARMUP_MS_DEFAULT);
  t.is(latencyWarmupMs(false, '1000'), 1000);
  for (const bad of ['abc', '1.5', String(LATENCY_WARMUP_MS_MIN - 1), String(LATENCY_WARMUP_MS_MAX + 1)]) {
    t.throws(() => latencyWarmupMs(false, bad), { message: /SEGLOG_BENCH_LATENCY_WARMUP_MS must be an integer/ }, bad);
  }
});

test('parseScrape: loop stalls less the sampling interval, GC pauses summed over kinds', (t) => {
  const text = [
    '# HELP seglog_event_loop_delay_seconds Event-loop delay since the previous scrape (sampled every 10 ms), by quantile; quantile 1 is the longest stall',
    'seglog_event_loop_delay_seconds{quantile="0.5"} 0.0101',
    'seglog_event_loop_delay_seconds{quantile="0.99"} 0.0112',
    'seglog_event_loop_delay_seconds{quantile="1"} 0.015',
    'seglog_gc_pause_seconds_sum{kind="minor"} 0.002',
    'seglog_gc_pause_seconds_count{kind="minor"} 3',
    'seglog_gc_pause_seconds_sum{kind="major"} 0.004',
    'seglog_gc_pause_seconds_count{kind="major"} 1',
  ].join('\n');
  const s = parseScrape(text);
  t.truthy(s.loop);
  t.is(s.loop!.p50Ms.toFixed(2), '0.10');
  t.is(s.loop!.p99Ms.toFixed(2), '1.20');
  t.is(s.loop!.maxMs.toFixed(2), '5.00');
  t.is(s.gcTotalMs.toFixed(2), '6.00');
  t.is(s.gcCount, 4);
  t.is(parseScrape('nothing here').loop, null);
});
