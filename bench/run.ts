// `npm run bench`: the engine's figures beside baselines measured in the same run, on this machine
// (method, suites and targets: bench/README.md). Every suite is bounded (rounds of SEGLOG_BENCH_ROUND_MS, default 400 ms; median of
// SEGLOG_BENCH_ROUNDS, default 3) and cleans up its temp files. Pass suite names to run a subset:
// `node dist/bench/run.js record-batch baselines partition-log`.
import os from 'node:os';
import { runBaselines } from './baselines.js';
import { runEngineBench } from './engine.bench.js';
import { runGatewayBench } from './gateway.bench.js';
import { runMicroBench } from './micro.bench.js';
import { benchOptions, type BenchResult } from './harness.js';
import { runPartitionLogBench } from './partition-log.bench.js';
import { runRecordBatchBench } from './record-batch.bench.js';
import { runRestartBench } from './restart.bench.js';

const SUITES: Record<string, (o: ReturnType<typeof benchOptions>) => BenchResult[] | Promise<BenchResult[]>> = {
  'partition-log': runPartitionLogBench,
  'record-batch': runRecordBatchBench,
  engine: runEngineBench,
  baselines: runBaselines,
  gateway: runGatewayBench,
  restart: runRestartBench,
  micro: runMicroBench,
};

function formatRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k`;
  return n.toFixed(0);
}

function printTable(results: BenchResult[]): void {
  const rows = results.map((r) => [
    r.suite,
    r.note !== undefined ? `${r.operation} (${r.note})` : r.operation,
    r.recordBytes === 0 ? '' : r.recordBytes >= 1024 ? `${r.recordBytes / 1024} KiB` : `${r.recordBytes} B`,
    r.note !== undefined ? '' : formatRate(r.recordsPerSec),
    r.note !== undefined || r.recordBytes === 0 ? '' : r.mbPerSec.toFixed(0),
  ]);
  const head = ['suite', 'operation', 'record', 'records/s', 'MB/s'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

function rate(results: BenchResult[], suite: string, prefix: string, recordBytes: number): number | undefined {
  return results.find((r) => r.suite === suite && r.operation.startsWith(prefix) && r.recordBytes === recordBytes && r.note === undefined)?.recordsPerSec;
}

/** The design targets (bench/README.md "Design targets"), as ratios within this run. */
function printTargets(results: BenchResult[]): void {
  const lines: string[] = [];
  const append100 = rate(results, 'engine', 'PartitionLog.append', 100);
  const raw100 = rate(results, 'baseline', 'raw fs.writeSync', 100);
  const read100 = rate(results, 'engine', 'PartitionLog.read', 100);
  const append1k = rate(results, 'engine', 'PartitionLog.append', 1024);
  const mmap1k = rate(results, 'baseline', 'memcpy into an mmapped', 1024);
  const decode100 = rate(results, 'record batch', 'decode, forEachRecord (none)', 100);
  const engineRead100 = rate(results, 'engine api', 'Engine.read with decoding', 100);
  const replay100 = rate(results, 'engine api', 'Subscription replay', 100);
  const produce100 = rate(results, 'engine api', 'Engine.produce, 1000', 100);
  if (append100 !== undefined) lines.push(`append 100 B: ${formatRate(append100)} records/s (target ≥ 8M)`);
  if (append100 !== undefined && raw100 !== undefined) lines.push(`append 100 B vs raw fs.writeSync: ${(append100 / raw100).toFixed(2)}× (target ≥ 1.5×)`);
  if (append1k !== undefined && mmap1k !== undefined) lines.push(`append 1 KiB vs memcpy into touched mmap: ${((100 * append1k) / mmap1k).toFixed(0)}% (target ≥ 50%)`);
  if (read100 !== undefined) lines.push(`sequential read with decoding, 100 B: ${formatRate(read100)} records/s (target ≥ 10M)`);
  if (engineRead100 !== undefined) lines.push(`Engine.read with decoding, 100 B: ${formatRate(engineRead100)} records/s (target ≥ 10M)`);
  if (replay100 !== undefined) lines.push(`Subscription replay, 100 B: ${formatRate(replay100)} records/s`);
  if (produce100 !== undefined && append100 !== undefined) lines.push(`Engine.produce 100 B vs PartitionLog.append: ${((100 * produce100) / append100).toFixed(0)}%`);
  if (decode100 !== undefined) lines.push(`decode alone (forEachRecord), 100 B: ${formatRate(decode100)} records/s`);
  const gwProduces = results.filter((r) => r.suite === 'gateway' && r.recordBytes === 100 && /^produce, (send|sendBatch)/.test(r.operation));
  const gwProduce = gwProduces.length > 0 ? Math.max(...gwProduces.map((r) => r.recordsPerSec)) : undefined;
  const gwReplay = rate(results, 'gateway', 'replay, subscribe', 100);
  if (gwProduce !== undefined) lines.push(`gateway produce over loopback (client library, best API), 100 B: ${formatRate(gwProduce)} records/s (target ≥ 2M)`);
  if (gwReplay !== undefined) lines.push(`gateway replay over loopback, 100 B: ${formatRate(gwReplay)} records/s (target ≥ 3M)`);
  const gwLatency = results.find((r) => r.suite === 'gateway' && r.operation.startsWith('produce→deliver') && r.recordBytes === 100);
  if (gwLatency?.note !== undefined) lines.push(`gateway produce→deliver at 20k/s, 100 B: ${gwLatency.note} (target p99 < 1 ms)`);
  if (lines.length === 0) return;
  console.log('\nTargets (bench/README.md), ratios from this run:');
  for (const l of lines) console.log(`  ${l}`);
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in SUITES));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const options = benchOptions();
  console.log(
    `seglog bench · node ${process.version} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · ` +
      `median of ${options.rounds} rounds of ${options.roundMs} ms · temp dir ${os.tmpdir()}\n`,
  );
  const results: BenchResult[] = [];
  for (const [name, run] of Object.entries(SUITES)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    results.push(...(await run(options)));
  }
  printTable(results);
  printTargets(results);
  console.log('\nMB/s counts payload bytes only; payloads are random (incompressible).');
}

await main();
