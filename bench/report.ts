// The results of one run as markdown: the comparison table (system, scenario, payload, records/s,
// MB/s, latency percentiles, ratio to seglog) and the other figures, headed by the run's machine,
// versions and settings. Printed by bench/run.ts and written next to the JSON.
import type { BenchResult, Scenario } from './harness.js';
import { formatPayload, formatRate, formatRateSpread } from './format.js';
import type { RunInfo } from './run-info.js';
import { targetLines } from './targets.js';

export const SCENARIO_ORDER: readonly Scenario[] = ['append', 'read', 'produce', 'replay', 'latency'];

/** What each scenario measures, for the table's readers. */
export const SCENARIO_TITLES: Record<Scenario, string> = {
  append: 'append, embedded (one process, batches of 1000)',
  read: 'sequential read, embedded',
  produce: 'produce over loopback (acknowledged)',
  replay: 'replay over loopback (from the start)',
  latency: 'produce→deliver latency at 20k records/s',
};


const ms = (x: number): string => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(1)) : '?');

/** seglog's reference row for a scenario and payload, if the run has one without error. */
export function referenceOf(results: readonly BenchResult[], scenario: Scenario, recordBytes: number): BenchResult | undefined {
  return results.find((r) => r.reference === true && r.scenario === scenario && r.recordBytes === recordBytes && r.error === undefined);
}

/** For each system in a scenario, its row per payload: seglog's reference, else the system's fastest. */
export function bestRowsBySystem(results: readonly BenchResult[], scenario: Scenario): Map<string, Map<number, BenchResult>> {
  const bySystem = new Map<string, Map<number, BenchResult>>();
  const rows = results.filter((r) => r.scenario === scenario && r.error === undefined && r.recordsPerSec > 0);
  for (const r of rows) {
    const system = r.system ?? r.suite;
    if (system === 'seglog' && r.reference !== true) continue;
    const sizes = bySystem.get(system) ?? new Map<number, BenchResult>();
    const had = sizes.get(r.recordBytes);
    if (had === undefined || r.recordsPerSec > had.recordsPerSec) sizes.set(r.recordBytes, r);
    bySystem.set(system, sizes);
  }
  // seglog first, then the others from fastest to slowest at their smallest payload.
  const first = (m: Map<number, BenchResult>): number => m.get(Math.min(...m.keys()))?.recordsPerSec ?? 0;
  return new Map([...bySystem.entries()].sort(([a, ma], [b, mb]) => (a === 'seglog' ? -1 : b === 'seglog' ? 1 : first(mb) - first(ma))));
}

/** A row's figure against seglog's reference: a throughput ratio, or for latency the ratio of the p99s. */
export function ratioToSeglog(results: readonly BenchResult[], r: BenchResult): string {
  if (r.scenario === undefined || r.error !== undefined) return '';
  const ref = referenceOf(results, r.scenario, r.recordBytes);
  if (ref === undefined) return '';
  if (r.scenario === 'latency') {
    if (r.latency === undefined || ref.latency === undefined || !(ref.latency.p99Ms > 0)) return '';
    return `p99 ${(r.latency.p99Ms / ref.latency.p99Ms).toFixed(2)}×`;
  }
  return ref.recordsPerSec > 0 ? `${(r.recordsPerSec / ref.recordsPerSec).toFixed(2)}×` : '';
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(head: string[], rows: string[][], rightFrom: number): string {
  const align = head.map((_, c) => (c >= rightFrom ? '---:' : '---'));
  return [head, align, ...rows].map((cells) => `| ${cells.map(escapeCell).join(' | ')} |`).join('\n');
}

/** Rows of a scenario, ordered by payload, then seglog's first, then the rest as they ran. */
export function comparisonRows(results: readonly BenchResult[]): BenchResult[] {
  const rows = results.filter((r) => r.scenario !== undefined);
  const rank = (r: BenchResult): number => (r.reference === true ? 0 : r.system === 'seglog' ? 1 : 2);
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => SCENARIO_ORDER.indexOf(a.r.scenario!) - SCENARIO_ORDER.indexOf(b.r.scenario!) || a.r.recordBytes - b.r.recordBytes || rank(a.r) - rank(b.r) || a.i - b.i)
    .map(({ r }) => r);
}

export function comparisonTable(results: readonly BenchResult[]): string {
  const rows = comparisonRows(results).map((r) => [
    r.system ?? '',
    r.scenario!,
    r.operation,
    formatPayload(r.recordBytes),
    r.error !== undefined ? `error: ${r.error}` : r.scenario === 'latency' ? `${formatRate(r.recordsPerSec)} (rate sent)` : formatRateSpread(r.recordsPerSec, r.minPerSec, r.maxPerSec),
    r.error !== undefined || r.scenario === 'latency' ? '' : r.mbPerSec.toFixed(0),
    r.latency !== undefined ? `${ms(r.latency.p50Ms)} / ${ms(r.latency.p99Ms)} / ${ms(r.latency.p999Ms)}` : '',
    r.reference === true ? '(reference)' : ratioToSeglog(results, r),
  ]);
  return table(['system', 'scenario', 'operation', 'payload', 'records/s', 'MB/s', 'p50 / p99 / p99.9 ms', 'vs seglog'], rows, 3);
}

export function otherTable(results: readonly BenchResult[]): string {
  const rows = results
    .filter((r) => r.scenario === undefined)
    .map((r) => [
      r.suite,
      r.operation,
      formatPayload(r.recordBytes),
      r.error !== undefined ? `error: ${r.error}` : r.note !== undefined && r.recordsPerSec === 0 ? '' : formatRateSpread(r.recordsPerSec, r.minPerSec, r.maxPerSec),
      r.error !== undefined || r.recordBytes === 0 || r.recordsPerSec === 0 ? '' : r.mbPerSec.toFixed(0),
      r.note ?? '',
    ]);
  if (rows.length === 0) return '(none in this run)';
  return table(['suite', 'operation', 'payload', 'records/s', 'MB/s', 'note'], rows, 2);
}

/** Notes of comparison rows (latency rows carry the noise figures that explain them). */
function comparisonNotes(results: readonly BenchResult[]): string[] {
  return comparisonRows(results)
    .filter((r) => r.note !== undefined)
    .map((r) => `- ${r.system ?? r.suite}, ${r.operation}, ${formatPayload(r.recordBytes)}: ${r.note}`);
}

export function infoLines(info: RunInfo): string[] {
  const versions = Object.entries(info.versions).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `- started ${info.startedAt}, ${info.elapsedS.toFixed(0)} s${info.quick ? ' · **--quick: figures mean nothing**' : ''}`,
    `- machine: ${info.machine.cpus} × ${info.machine.cpuModel}, ${info.machine.memoryGiB.toFixed(0)} GiB, ${info.machine.os}; load average at start ${info.machine.loadAtStart}`,
    `- versions: ${versions}`,
    `- settings: ${info.settings}`,
  ];
}

export function markdownReport(results: readonly BenchResult[], info: RunInfo): string {
  const notes = comparisonNotes(results);
  return [
    `# seglog bench, ${info.startedAt}`,
    '',
    ...infoLines(info),
    '',
    '## Side by side',
    '',
    comparisonTable(results),
    '',
    'records/s: the median round (the slowest–fastest round in brackets). MB/s counts payload bytes only; payloads are random (incompressible). "vs seglog": records/s over seglog\'s reference row of the same scenario and payload (for latency, p99 over seglog\'s p99: below 1 is better than seglog).',
    ...(notes.length > 0 ? ['', ...notes] : []),
    '',
    '## Other figures',
    '',
    otherTable(results),
    '',
    '## Design targets (bench/README.md), from this run',
    '',
    ...targetLines(results).map((l) => `- ${l}`),
    '',
  ].join('\n');
}
