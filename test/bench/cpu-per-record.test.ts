// CPU per record in the bench harness (bench/harness.ts): the arithmetic from a round's records and
// CPU µs, the median over rounds, the gateway note, and that measure()/measureAsync()/networkRounds()
// carry the figure into the row without touching records/s. No timing is asserted.
import test from 'ava';
import {
  benchOptions,
  clientCpuNote,
  cpuNsPerRecord,
  measure,
  measureAsync,
  medianOfFinite,
  networkRounds,
  recordsPerCpuSecond,
  result,
  roundClock,
} from '../../bench/harness.js';

test('records per CPU-second and ns of CPU per record from a round’s records and CPU µs', (t) => {
  t.is(recordsPerCpuSecond(1_000_000, 400_000), 2_500_000); // 1M records in 0.4 CPU-s
  t.is(cpuNsPerRecord(2_500_000), 400);
  t.true(Number.isNaN(recordsPerCpuSecond(1000, 0)), 'no CPU measured: no figure, not Infinity');
});

test('the median over rounds skips rounds without a figure and takes the upper middle of an even count', (t) => {
  t.is(medianOfFinite([3e6, NaN, 1e6, 2e6]), 2e6);
  t.is(medianOfFinite([1, 4, 2, 3]), 3);
  t.is(medianOfFinite([NaN]), undefined);
  t.is(medianOfFinite([]), undefined);
});

test('the gateway note gives ns per record, rounded; none without a figure', (t) => {
  t.is(clientCpuNote({ median: 1, min: 1, max: 1, recordsPerCpuSecond: 3_200_000 }), 'client CPU per record 313 ns');
  t.is(clientCpuNote({ median: 1, min: 1, max: 1 }), undefined);
});

test('result() puts recordsPerCpuSecond in the row and leaves records/s to the round rates', (t) => {
  const row = result('gateway', 'produce', 100, { median: 2e6, min: 1e6, max: 3e6, recordsPerCpuSecond: 4e6 }, 'n');
  t.is(row.recordsPerSec, 2e6);
  t.is(row.recordsPerCpuSecond, 4e6);
  t.is(result('x', 'y', 100, 5).recordsPerCpuSecond, undefined, 'a bare rate has no CPU figure');
});

/** Busy work that certainly costs CPU time, so the rounds have a figure. */
function burn(): number {
  let x = 0;
  for (let i = 0; i < 200_000; i++) x += Math.sqrt(i);
  return x > 0 ? 1000 : 0;
}

test('measure() and measureAsync() report records per CPU-second of their rounds', async (t) => {
  const options = benchOptions(true);
  const sync = measure(options, burn);
  const async = await measureAsync(options, async () => burn());
  for (const r of [sync, async]) {
    t.true(r.median > 0);
    t.true(r.recordsPerCpuSecond !== undefined && Number.isFinite(r.recordsPerCpuSecond) && r.recordsPerCpuSecond > 0);
  }
});

test('networkRounds() takes a round’s RoundFigures (rate as given) or a bare rate (no CPU figure)', async (t) => {
  const options = benchOptions(true);
  const withCpu = await networkRounds(options, async () => {
    const clock = roundClock();
    burn();
    const f = clock.done(1000);
    return { ...f, perSec: 12345 }; // the round's own rate is what the row gets
  });
  t.is(withCpu.median, 12345);
  t.true((withCpu.recordsPerCpuSecond ?? 0) > 0);
  const bare = await networkRounds(options, async () => 777);
  t.is(bare.median, 777);
  t.is(bare.recordsPerCpuSecond, undefined);
});
