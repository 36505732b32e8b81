// The bench's tables and charts from known rows: ratios against seglog's reference row of the same
// scenario and payload, error rows shown where they belong, and SVG a browser accepts (no attribute
// given twice in one element: that once made the charts render as an error page).
import test from 'ava';
import { latencyChart, throughputChart } from '../../bench/chart.js';
import { result, type BenchResult } from '../../bench/harness.js';
import { comparisonTable, markdownReport, otherTable } from '../../bench/report.js';
import type { RunInfo } from '../../bench/run-info.js';

const info: RunInfo = {
  startedAt: '2026-12-07T18:00:00Z',
  elapsedS: 60,
  quick: false,
  machine: { cpus: 2, cpuModel: 'Test CPU', memoryGiB: 4, os: 'Test OS', loadAtStart: '0.10 0.20 0.30' },
  versions: { node: 'v20.0.0', seglog: '0.1.0', 'nats-server': '2.9.10' },
  settings: 'median of 3 round(s) of 400 ms',
  suites: ['partition-log', 'baselines', 'gateway', 'nats'],
};

function rows(): BenchResult[] {
  const failed = result('nats', 'js.publish', 100, 0, undefined, { system: 'NATS JetStream', scenario: 'produce' });
  failed.error = 'boom';
  return [
    result('engine', 'PartitionLog.append, CRC-checked · append', 100, { median: 10e6, min: 9e6, max: 11e6 }, undefined, { system: 'seglog', scenario: 'append', reference: true }),
    result('baseline', 'raw fs.writeSync · append', 100, 5e6, undefined, { system: 'raw fs', scenario: 'append' }),
    // No seglog 1 KiB append row: no ratio for this one.
    result('baseline', 'raw fs.writeSync · append', 1024, 1e6, undefined, { system: 'raw fs', scenario: 'append' }),
    result('gateway', 'produce→deliver', 100, 20_000, 'noise figures', { system: 'seglog', scenario: 'latency', reference: true, latency: { p50Ms: 0.5, p99Ms: 2, p999Ms: 4 } }),
    result('nats', 'produce→deliver', 100, 20_000, undefined, { system: 'core NATS', scenario: 'latency', latency: { p50Ms: 0.2, p99Ms: 1, p999Ms: 3 } }),
    failed,
    result('micro', 'varint size', 0, 26e6),
  ];
}

/** The table row (cells trimmed) whose cells include all of `cells`. */
function rowWith(table: string, ...cells: string[]): string[] | undefined {
  return table
    .split('\n')
    .map((line) => line.split('|').map((c) => c.trim()))
    .find((c) => cells.every((want) => c.includes(want)));
}

test('the side-by-side table gives each row its ratio to seglog in the same scenario and payload', (t) => {
  const table = comparisonTable(rows());
  t.deepEqual(rowWith(table, 'seglog', 'append')?.slice(5, 9), ['10.00M (9.00M–11.00M)', '1000', '', '(reference)']);
  t.is(rowWith(table, 'raw fs', '100 B')?.[8], '0.50×');
  t.is(rowWith(table, 'raw fs', '1 KiB')?.[8], '', 'no seglog row of that payload');
  t.deepEqual(rowWith(table, 'core NATS')?.slice(7, 9), ['0.20 / 1.00 / 3.00', 'p99 0.50×']);
  t.is(rowWith(table, 'NATS JetStream', 'produce')?.[5], 'error: boom', 'an error row stays in its scenario');
  t.is(rowWith(table, 'varint size'), undefined, 'rows without a scenario are not compared');
  t.truthy(rowWith(otherTable(rows()), 'micro', 'varint size'));
});

test('the markdown report names the machine, versions and settings, and the targets it can compute', (t) => {
  const md = markdownReport(rows(), info);
  t.regex(md, /machine: 2 × Test CPU, 4 GiB, Test OS; load average at start 0\.10 0\.20 0\.30/);
  t.regex(md, /versions: node v20\.0\.0, seglog 0\.1\.0, nats-server 2\.9\.10/);
  t.regex(md, /append 100 B vs raw fs\.writeSync: 2\.00× \(target ≥ 1\.5×\)/);
  t.regex(md, /gateway produce→deliver p99 vs core NATS p99, 100 B: 2\.00× \(target ≤ 1×\)/);
});

test('the charts are SVG without an attribute given twice in one element', (t) => {
  for (const svg of [throughputChart(rows(), info), latencyChart(rows(), info)]) {
    t.true(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    for (const tag of svg.match(/<[a-z]+\s[^>]*>/g) ?? []) {
      const names = [...tag.matchAll(/\s([a-z-]+)="/g)].map((m) => m[1]!);
      t.is(new Set(names).size, names.length, `duplicate attribute in ${tag}`);
    }
  }
  t.regex(throughputChart(rows(), info), /raw fs/);
  t.regex(latencyChart(rows(), info), /core NATS, 100 B: 0\.20 \/ 1\.00 \/ 3\.0/);
});
