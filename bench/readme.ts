// `npm run bench:readme [results.json]`: rewrites the part of README.md's Performance section
// between the marker comments from one full run's results (default: the newest in bench/results/
// that is not --quick): a summary table per scenario and payload, the two charts, the targets.
import fs from 'node:fs';
import path from 'node:path';
import { formatPayload, formatRate } from './format.js';
import type { BenchResult } from './harness.js';
import { SCENARIO_ORDER, SCENARIO_TITLES, bestRowsBySystem, infoLines, ratioToSeglog } from './report.js';
import { REPO_ROOT, RESULTS_DIR, newestFullRun, readRunFile, writeCharts } from './results-file.js';
import { targetLines } from './targets.js';

const README_START = '<!-- bench:results:start (npm run bench:readme writes this part) -->';
const README_END = '<!-- bench:results:end -->';

function cell(r: BenchResult | undefined, all: readonly BenchResult[]): string {
  if (r === undefined) return '';
  const ratio = r.reference === true ? '' : ratioToSeglog(all, r);
  if (r.scenario === 'latency') {
    const l = r.latency!;
    return `${l.p50Ms.toFixed(2)} / ${l.p99Ms.toFixed(2)} / ${l.p999Ms.toFixed(1)} ms${ratio === '' ? '' : ` (${ratio})`}`;
  }
  return `${formatRate(r.recordsPerSec)}${ratio === '' ? '' : ` (${ratio})`}`;
}

function readmeSection(file: string): string {
  const { info, results } = readRunFile(file);
  const stem = file.slice(0, -'.json'.length);
  writeCharts({ throughputSvg: `${stem}-throughput.svg`, latencySvg: `${stem}-latency.svg` }, results, info);
  const rel = (f: string): string => path.relative(REPO_ROOT, f).split(path.sep).join('/');
  const sizes = [...new Set(results.filter((r) => r.scenario !== undefined).map((r) => r.recordBytes))].sort((a, b) => a - b);
  const lines: string[] = [
    README_START,
    `One run of \`npm run bench:peers\` (all tables: [${rel(`${stem}.md`)}](${rel(`${stem}.md`)})):`,
    '',
    ...infoLines(info),
    '',
    `Records/s of each system's best row (ratio to seglog's row of the same scenario in brackets); latency p50 / p99 / p99.9 at 20k records/s (ratio of the p99s):`,
    '',
    `| scenario | system | ${sizes.map(formatPayload).join(' | ')} |`,
    `| --- | --- | ${sizes.map(() => '---:').join(' | ')} |`,
  ];
  for (const scenario of SCENARIO_ORDER) {
    for (const [system, bySize] of bestRowsBySystem(results, scenario)) {
      lines.push(`| ${SCENARIO_TITLES[scenario]} | ${system} | ${sizes.map((b) => cell(bySize.get(b), results)).join(' | ')} |`);
    }
  }
  const failed = results.filter((r) => r.error !== undefined);
  if (failed.length > 0) lines.push('', `Rows with an error in this run: ${failed.map((r) => `${r.system ?? r.suite} · ${r.operation}: ${r.error}`).join('; ')}.`);
  lines.push(
    '',
    `![throughput by payload per system](${rel(`${stem}-throughput.svg`)})`,
    '',
    `![produce→deliver latency percentiles per system](${rel(`${stem}-latency.svg`)})`,
    '',
    'Design targets ([bench/README.md](bench/README.md)), from this run:',
    '',
    ...targetLines(results).map((l) => `- ${l}`),
    README_END,
  );
  return lines.join('\n');
}

/** README text with the part between the markers replaced; throws when the markers are missing. */
function replaceSection(readme: string, section: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no "${README_START}" … "${README_END}" markers`);
  return readme.slice(0, start) + section + readme.slice(end + README_END.length);
}

function main(): void {
  const file = process.argv[2] !== undefined ? path.resolve(process.argv[2]) : newestFullRun(RESULTS_DIR);
  if (file === null) throw new Error(`no results of a full run in ${RESULTS_DIR}: run npm run bench:peers first`);
  const readmeFile = path.join(REPO_ROOT, 'README.md');
  fs.writeFileSync(readmeFile, replaceSection(fs.readFileSync(readmeFile, 'utf8'), readmeSection(file)));
  console.log(`README.md: Performance section from ${path.relative(REPO_ROOT, file)}`);
}

try {
  main();
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
