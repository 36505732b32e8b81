// `npm run bench`: the engine's figures beside baselines measured in the same run, on this machine;
// `npm run bench:peers` adds the systems a user would pick instead (method, suites and targets:
// bench/README.md). A suite that fails gives a row with its error and the run goes on; the table,
// the JSON and the charts are always written (bench/results/, or --out DIR).
//
//   node dist/bench/run.js [--quick] [--peers] [--no-install] [--out DIR] [suite ...]
import { spawnSync } from 'node:child_process';
import { runBaselines } from './baselines.js';
import { killTrackedChildren } from './children.js';
import { runEngineBench } from './engine.bench.js';
import { runGatewayBench } from './gateway.bench.js';
import { runGatewayScaleBench } from './gateway-scale.bench.js';
import { benchOptions, errorResult, progress, setProgressSuite, type BenchOptions, type BenchResult } from './harness.js';
import { runMicroBench } from './micro.bench.js';
import { runPartitionLogBench } from './partition-log.bench.js';
import { runKafkaPeer } from './peers/kafka.js';
import { runNatsPeer } from './peers/nats.js';
import { runRedisPeer } from './peers/redis.js';
import { runSqlitePeer } from './peers/sqlite.js';
import { runRecordBatchBench } from './record-batch.bench.js';
import { comparisonTable, otherTable } from './report.js';
import { QUICK_RESULTS_DIR, RESULTS_DIR, writeRunFiles } from './results-file.js';
import { runReserverBench } from './reserver.bench.js';
import { runRestartBench } from './restart.bench.js';
import { startRunInfo } from './run-info.js';
import { targetLines } from './targets.js';

type Suite = (o: BenchOptions) => BenchResult[] | Promise<BenchResult[]>;

const SUITES: Record<string, Suite> = {
  'partition-log': runPartitionLogBench,
  'record-batch': runRecordBatchBench,
  engine: runEngineBench,
  baselines: runBaselines,
  gateway: runGatewayBench,
  restart: runRestartBench,
  'gateway-scale': runGatewayScaleBench,
  reserver: runReserverBench,
  micro: runMicroBench,
};

/** Run with --peers (or by name): systems started or loaded by the suite, each at its best practice. */
const PEER_SUITES: Record<string, Suite> = {
  sqlite: runSqlitePeer,
  nats: runNatsPeer,
  redis: runRedisPeer,
  kafka: runKafkaPeer,
};

/** A suite still running after this is reported as failed and the run goes on (its children are killed at the end). */
const SUITE_TIMEOUT_MS = 20 * 60_000;
const QUICK_SUITE_TIMEOUT_MS = 2 * 60_000;

/** Bound on the `sync` before a full run: writeback of a few GB on a slow disk; a hung one must not stall the run. */
const SYNC_TIMEOUT_MS = 120_000;

/**
 * Before a full run, flush the machine's dirty pages (`sync`), so the writeback of what a previous
 * run (or anything else) left in the page cache does not compete with the first suites, which
 * write hundreds of MB themselves. Linux only; a failure is reported in the settings, never fatal.
 * Returns what the settings line says about it.
 */
function syncDirtyPages(): string {
  if (process.platform !== 'linux') return 'dirty pages not synced first (not Linux)';
  const started = performance.now();
  const r = spawnSync('sync', [], { stdio: 'ignore', timeout: SYNC_TIMEOUT_MS });
  if (r.error !== undefined || r.status !== 0) return `dirty pages not synced first (sync failed: ${r.error?.message ?? `exit ${r.status ?? r.signal}`})`;
  return `dirty pages synced first (sync took ${((performance.now() - started) / 1000).toFixed(1)} s)`;
}

interface Args {
  quick: boolean;
  peers: boolean;
  install: boolean;
  out: string | null;
  suites: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, peers: false, install: true, out: null, suites: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--peers') args.peers = true;
    else if (a === '--no-install') args.install = false;
    else if (a === '--out') {
      const dir = argv[++i];
      if (dir === undefined) throw new Error('--out needs a directory');
      args.out = dir;
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}; known: --quick, --peers, --no-install, --out DIR`);
    else args.suites.push(a);
  }
  return args;
}

async function runSuite(name: string, suite: Suite, options: BenchOptions): Promise<BenchResult[]> {
  setProgressSuite(name);
  progress('start');
  const limitMs = options.quick ? QUICK_SUITE_TIMEOUT_MS : SUITE_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`suite still running after ${limitMs / 1000} s: stopped waiting for it`)), limitMs);
    });
    const rows = await Promise.race([Promise.resolve().then(() => suite(options)), timeout]);
    progress(`done, ${rows.length} rows`);
    return rows;
  } catch (e) {
    progress(`failed: ${(e as Error).message}`);
    return [errorResult(name, 'suite failed', 0, e)];
  } finally {
    clearTimeout(timer);
  }
}

/** Errors no suite caught (an 'error' event without a listener, a rejected promise nobody awaited): rows, and the run goes on. */
const strayErrors: BenchResult[] = [];
let runningSuite = '';
function onStrayError(e: unknown): void {
  progress(`uncaught error: ${(e as Error)?.message ?? String(e)}`);
  strayErrors.push(errorResult(runningSuite, 'uncaught error', 0, e));
}

async function main(): Promise<void> {
  process.on('uncaughtException', onStrayError);
  process.on('unhandledRejection', onStrayError);
  const args = parseArgs(process.argv.slice(2));
  const all = { ...SUITES, ...PEER_SUITES };
  const unknown = args.suites.filter((w) => !(w in all));
  if (unknown.length > 0) throw new Error(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(all).join(', ')}`);
  const chosen = args.suites.length > 0 ? args.suites : [...Object.keys(SUITES), ...(args.peers ? Object.keys(PEER_SUITES) : [])];
  const options = benchOptions(args.quick, args.install);
  // A quick run's figures mean nothing: no sync (it is also run by npm test beside other work).
  if (!args.quick) progress('sync: flushing dirty pages before the first suite');
  const synced = args.quick ? null : syncDirtyPages();
  const settings =
    `median of ${options.rounds} round(s) of ${options.roundMs} ms after a warm-up round` +
    `${args.quick ? ' (--quick: byte bounds cut to 16 MiB, latency window 0.5 s)' : ''}; suites: ${chosen.join(', ')}` +
    `${synced === null ? '' : `; ${synced}`}` +
    `; env: ${Object.entries(process.env).filter(([k]) => k.startsWith('SEGLOG_BENCH_')).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`;
  const run = startRunInfo(args.quick, settings, chosen);
  console.log(`seglog bench · ${settings}\n`);
  const results: BenchResult[] = [];
  for (const name of chosen) {
    runningSuite = name;
    const rows = [...(await runSuite(name, all[name]!, options)), ...strayErrors.splice(0)];
    results.push(...rows.map((r) => ({ suiteName: name, ...r })));
  }
  const stray = killTrackedChildren();
  if (stray > 0) progress(`killed ${stray} child process(es) left running by failed suites`);
  const info = run.finish();
  const files = writeRunFiles(args.out ?? (args.quick ? QUICK_RESULTS_DIR : RESULTS_DIR), results, info);
  console.log(`\n${comparisonTable(results)}\n\nOther figures:\n\n${otherTable(results)}`);
  const targets = targetLines(results);
  if (targets.length > 0) console.log(`\nTargets (bench/README.md), ratios from this run:\n${targets.map((l) => `  ${l}`).join('\n')}`);
  console.log(`\nMB/s counts payload bytes only; payloads are random (incompressible).\nWritten: ${Object.values(files).join(', ')}`);
  const failed = results.filter((r) => r.error !== undefined).length;
  if (failed > 0) console.log(`${failed} row(s) with an error (see the table).`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    killTrackedChildren();
    console.error((e as Error).message);
    process.exit(2);
  },
);
