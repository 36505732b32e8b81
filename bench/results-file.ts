// Where a run's results go: <out>/<stamp>.json (rows and run info), <stamp>.md (the tables) and the
// two SVG charts, and how the newest full run is found again (npm run bench:readme).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { latencyChart, throughputChart } from './chart.js';
import type { BenchResult } from './harness.js';
import { markdownReport } from './report.js';
import type { RunInfo } from './run-info.js';

export interface RunFile {
  info: RunInfo;
  results: BenchResult[];
}

/** The repository's root, from dist/bench/ where this module runs. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Full runs' results, kept in the repository (the README shows the newest). */
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');
/** `--quick` runs' results (git ignores them: their figures mean nothing). */
export const QUICK_RESULTS_DIR = path.join(RESULTS_DIR, 'quick');

export interface WrittenFiles {
  json: string;
  markdown: string;
  throughputSvg: string;
  latencySvg: string;
}

function stampOf(startedAt: string): string {
  // 2026-12-07T18:03:11Z → 2026-12-07T18-03-11Z: sorts by time and is a valid file name everywhere.
  return startedAt.replace(/:/g, '-');
}

export function writeRunFiles(dir: string, results: BenchResult[], info: RunInfo): WrittenFiles {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, stampOf(info.startedAt));
  const files: WrittenFiles = { json: `${base}.json`, markdown: `${base}.md`, throughputSvg: `${base}-throughput.svg`, latencySvg: `${base}-latency.svg` };
  fs.writeFileSync(files.json, `${JSON.stringify({ info, results } satisfies RunFile, null, 1)}\n`);
  fs.writeFileSync(files.markdown, markdownReport(results, info));
  writeCharts(files, results, info);
  return files;
}

/** The run's two charts (bench:readme rewrites them from the JSON, so a chart fix reaches old runs). */
export function writeCharts(files: Pick<WrittenFiles, 'throughputSvg' | 'latencySvg'>, results: BenchResult[], info: RunInfo): void {
  fs.writeFileSync(files.throughputSvg, throughputChart(results, info));
  fs.writeFileSync(files.latencySvg, latencyChart(results, info));
}

export function readRunFile(file: string): RunFile {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as RunFile;
  if (!Array.isArray(parsed.results) || typeof parsed.info?.startedAt !== 'string') throw new Error(`${file}: not a bench results file`);
  return parsed;
}

/** Suites a run must have had to feed the README (its reference rows and baselines). */
const FULL_RUN_SUITES = ['partition-log', 'engine', 'baselines', 'gateway'];

/** The newest results file in `dir` of a run that was not --quick and ran FULL_RUN_SUITES; null when there is none. */
export function newestFullRun(dir: string): string | null {
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort().reverse() : [];
  for (const name of names) {
    const file = path.join(dir, name);
    const { info } = readRunFile(file);
    if (!info.quick && FULL_RUN_SUITES.every((s) => info.suites.includes(s))) return file;
  }
  return null;
}
