// Restart time and server memory against log size (bench/README.md "Design targets": restart after kill -9 with a 10 GiB
// log < 1 s; server memory does not grow with the log's size).
//
// For each log size (a quarter of the target, then the target; default target 2 GiB, set
// SEGLOG_BENCH_RESTART_GIB=10 for the design's figure), in a temp dir removed afterwards:
//   1. a child process appends with the Engine (4 partitions, ~1 MiB batches of 1 KiB records) and is
//      SIGKILLed while still appending: no clean shutdown, the newest ~second of data not known flushed;
//   2. a fresh child times Engine.open + the first read of every partition's end offset (logs open
//      lazily, so recovery runs in that first read) — "kill -9 during writes"; it then idles past two
//      background flushes and is SIGKILLed — so the next child measures "kill -9 after writes
//      settled"; that one closes cleanly — so the next measures "clean shutdown";
//   3. the real server (`seglog serve`) is started on the dir: its RSS after start, and after opening
//      every partition (offsets) and fetching each partition's newest record.
// Times include no node start-up (the child reports them itself); the process column does.
// The page cache is warm (as after a process crash); a cold cache after a machine crash reads more.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trackChild } from './children.js';
import { SERVE_NODE_FLAGS } from '../gateway/cli/serve-node-flags.js';
import { progress, result, type BenchOptions, type BenchResult } from './harness.js';

const SUITE = 'restart';
const TOPIC = 'restart';
const PARTITIONS = 4;
const RECORDS_PER_BATCH = 900;
const RECORD_BYTES = 1024;
const DISTINCT_BATCHES = 8;
const FLUSH_INTERVAL_MS = 1000;
/** How long the writer may go on appending past its target while the parent kills it. */
const OVERSHOOT_BYTES_MAX = 512 * 1024 * 1024;
const CHILD_TIMEOUT_MS = 10 * 60_000;
const GiB = 1024 ** 3;
/** `--quick`: a log of 16 MiB (a quarter of it first). */
const QUICK_TARGET_GIB = 1 / 64;
const MiB = 1024 ** 2;

const SELF = fileURLToPath(import.meta.url);
const CLI = fileURLToPath(new URL('../gateway/cli/cli.js', import.meta.url));

interface OpenReport {
  openMs: number;
  firstReadMs: number;
  endOffsets: number[];
  scannedBytes: number | null;
  clean: boolean | null;
  rssBytes: number;
  rssAnonBytes: number | null;
}

/** RSS figures from /proc/<pid>/status (bytes), null where there is no /proc. */
export function procMemory(pid: number | 'self'): { rss: number; anon: number; file: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
  } catch {
    return null;
  }
}

// --- child side -------------------------------------------------------------------------------

async function loadEngine(): Promise<typeof import('../engine/engine.js')> {
  return import('../engine/engine.js');
}

/** Appends until the log holds `targetBytes`, says so, and keeps appending until killed (bounded). */
async function childBuild(dir: string, targetBytes: number): Promise<void> {
  const { Engine } = await loadEngine();
  const { encodeBatch } = await import('../engine/record-batch.js');
  const engine = await Engine.open({ dir, retentionMs: -1, flushIntervalMs: FLUSH_INTERVAL_MS });
  if (!engine.listTopics().includes(TOPIC)) await engine.createTopic(TOPIC, { partitions: PARTITIONS });
  const batches: Buffer[] = [];
  for (let b = 0; b < DISTINCT_BATCHES; b++) {
    const records = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => {
      const value = Buffer.alloc(RECORD_BYTES, (b * 31 + i) & 0xff);
      value.writeUInt32BE(i, 0);
      return { key: `k${i}`, value };
    });
    batches.push(encodeBatch(records, { compression: 'none' }));
  }
  let bytes = engine.describeTopic(TOPIC).partitions.reduce((n, p) => n + p.sizeBytes, 0);
  let said = false;
  for (let i = 0; bytes < targetBytes + OVERSHOOT_BYTES_MAX; i++) {
    const batch = batches[i % DISTINCT_BATCHES]!;
    await engine.appendBatch(TOPIC, batch, { partition: i % PARTITIONS });
    bytes += batch.length;
    if (!said && bytes >= targetBytes) {
      said = true;
      process.stdout.write(`target ${bytes}\n`);
    }
    if (i % 64 === 63) await new Promise((r) => setImmediate(r)); // let the background flush run
  }
  // Not killed in time: stop writing and wait for the kill without a clean shutdown.
  await new Promise((r) => setTimeout(r, CHILD_TIMEOUT_MS));
}

/** Times Engine.open + the first read of every end offset, reports, then `then`s. */
async function childOpen(dir: string, then: 'idle' | 'close'): Promise<void> {
  const { Engine } = await loadEngine();
  const t0 = process.hrtime.bigint();
  const engine = await Engine.open({ dir, flushIntervalMs: FLUSH_INTERVAL_MS });
  const t1 = process.hrtime.bigint();
  const endOffsets: number[] = [];
  for (let p = 0; p < PARTITIONS; p++) endOffsets.push(engine.offsets(TOPIC, p).endOffset);
  const t2 = process.hrtime.bigint();
  // Diagnostics only: the engine does not expose its logs' recovery reports (see the safety report).
  let scannedBytes: number | null = null;
  let clean: boolean | null = null;
  try {
    const partitions = (engine as unknown as { admin: { topics: Map<string, { partitions: Array<{ log: { recovery: { scannedBytes: number; clean: boolean } } | null }> }> } }).admin.topics.get(TOPIC)!.partitions;
    scannedBytes = 0;
    clean = true;
    for (const ps of partitions) {
      scannedBytes += ps.log!.recovery.scannedBytes;
      clean &&= ps.log!.recovery.clean;
    }
  } catch {
    scannedBytes = null;
    clean = null;
  }
  const mem = procMemory('self');
  const report: OpenReport = {
    openMs: Number(t1 - t0) / 1e6,
    firstReadMs: Number(t2 - t1) / 1e6,
    endOffsets,
    scannedBytes,
    clean,
    rssBytes: mem?.rss ?? process.memoryUsage().rss,
    rssAnonBytes: mem?.anon ?? null,
  };
  process.stdout.write(`report ${JSON.stringify(report)}\n`);
  if (then === 'close') {
    await engine.close();
    process.stdout.write('closed\n');
    return;
  }
  // Let background flushes catch up (recovered segments are marked dirty), then wait for the kill.
  await new Promise((r) => setTimeout(r, 2.5 * FLUSH_INTERVAL_MS));
  process.stdout.write('settled\n');
  await new Promise((r) => setTimeout(r, CHILD_TIMEOUT_MS));
}

// --- parent side ------------------------------------------------------------------------------

interface Child {
  child: ChildProcess;
  /** Resolves with the first line matching `re` (bounded), rejects if the process exits first. */
  line(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

function spawnChild(args: string[]): Child {
  const child = trackChild(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    child,
    exited,
    output: () => out + err,
    async line(re, timeoutMs = CHILD_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(out);
        if (m !== null) return m;
        if (gone) throw new Error(`child ${args.slice(1).join(' ')} exited before printing ${re}: ${out}${err}`);
        if (Date.now() > deadline) throw new Error(`child ${args.slice(1).join(' ')} did not print ${re} in time`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
  };
}

async function kill(c: Child): Promise<void> {
  c.child.kill('SIGKILL');
  await c.exited;
}

async function measureOpen(dir: string, then: 'idle' | 'close'): Promise<OpenReport & { processMs: number; child: Child }> {
  const started = process.hrtime.bigint();
  const c = spawnChild([SELF, 'open', dir, then]);
  const m = await c.line(/^report (.*)$/m);
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { ...(JSON.parse(m[1]!) as OpenReport), processMs, child: c };
}

interface ServerMemory {
  afterStart: { rss: number; anon: number; file: number } | null;
  afterOpen: { rss: number; anon: number; file: number } | null;
}

/** The real server on `dir`: RSS after start, and after opening every partition and fetching its newest record. */
async function serverMemory(dir: string): Promise<ServerMemory> {
  const { SeglogClient } = await import('../gateway/client/client.js');
  const c = spawnChild([...SERVE_NODE_FLAGS, CLI, 'serve', '--dir', dir, '--port', '0', '--host', '127.0.0.1']);
  try {
    const url = (await c.line(/listening on (ws:\/\/\S+)/, 60_000))[1]!;
    await new Promise((r) => setTimeout(r, 200));
    const afterStart = procMemory(c.child.pid!);
    const client = await SeglogClient.connect(url, { reconnect: false });
    try {
      const topics = await client.listTopics();
      if (topics.includes(TOPIC)) {
        for (let p = 0; p < PARTITIONS; p++) {
          const { endOffset } = await client.offsets(TOPIC, p);
          if (endOffset > 0) await client.fetch(TOPIC, p, endOffset - 1, { maxBytes: 1 });
        }
      }
    } finally {
      await client.close();
    }
    await new Promise((r) => setTimeout(r, 200));
    return { afterStart, afterOpen: procMemory(c.child.pid!) };
  } finally {
    c.child.kill('SIGTERM');
    const timer = setTimeout(() => c.child.kill('SIGKILL'), 30_000);
    await c.exited;
    clearTimeout(timer);
  }
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const parent = (entry as fs.Dirent & { parentPath?: string; path?: string }).parentPath ?? (entry as { path?: string }).path ?? dir;
    if (entry.name.endsWith('.log')) total += fs.statSync(path.join(parent, entry.name)).blocks * 512;
  }
  return total;
}

const gib = (n: number): string => `${(n / GiB).toFixed(2)} GiB`;
const mib = (n: number | null | undefined): string => (n === null || n === undefined || Number.isNaN(n) ? '?' : `${(n / MiB).toFixed(0)} MiB`);
const ms = (n: number): string => `${n.toFixed(0)} ms`;

interface Row {
  size: string;
  scenario: string;
  openMs: number;
  firstReadMs: number;
  processMs: number;
  scanned: string;
  rss: string;
}

export async function runRestartBench(options: BenchOptions): Promise<BenchResult[]> {
  const targetGiB = options.quick ? QUICK_TARGET_GIB : Number(process.env['SEGLOG_BENCH_RESTART_GIB'] ?? 2);
  if (!(targetGiB > 0 && targetGiB <= 64)) throw new Error(`SEGLOG_BENCH_RESTART_GIB must be in (0, 64], got ${process.env['SEGLOG_BENCH_RESTART_GIB']}`);
  const targetBytes = Math.round(targetGiB * GiB);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-restart-'));
  const rows: Row[] = [];
  const memory: Array<{ size: string; server: ServerMemory }> = [];
  const out: BenchResult[] = [];
  try {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-restart-empty-'));
    try {
      memory.push({ size: 'empty dir', server: await serverMemory(empty) });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    for (const size of [targetBytes / 4, targetBytes]) {
      // 1. Build (or grow) the log; kill the writer while it still appends.
      progress(`build a ${gib(size)} log, then restart it three ways`);
      const writer = spawnChild([SELF, 'build', dir, String(Math.round(size))]);
      try {
        await writer.line(/^target \d+$/m);
      } finally {
        await kill(writer);
      }
      const label = gib(dirBytes(dir));
      // 2. Three restarts: after kill -9 during writes, after kill -9 once writes settled, after a clean close.
      const during = await measureOpen(dir, 'idle');
      await during.child.line(/^settled$/m, 60_000);
      await kill(during.child);
      const settled = await measureOpen(dir, 'close');
      await settled.child.line(/^closed$/m, 60_000);
      await settled.child.exited;
      const clean = await measureOpen(dir, 'close');
      await clean.child.line(/^closed$/m, 60_000);
      await clean.child.exited;
      for (const [scenario, r] of [
        ['kill -9 during writes', during],
        ['kill -9 after writes settled', settled],
        ['clean shutdown', clean],
      ] as const) {
        rows.push({
          size: label,
          scenario: `${scenario}${r.clean === null ? '' : r.clean ? ' (clean)' : ' (recovered)'}`,
          openMs: r.openMs,
          firstReadMs: r.firstReadMs,
          processMs: r.processMs,
          scanned: r.scannedBytes === null ? '?' : mib(r.scannedBytes),
          rss: mib(r.rssBytes),
        });
        out.push(result(SUITE, `restart, ${scenario}, ${label}`, 0, 0, `open + end offsets ${ms(r.openMs + r.firstReadMs)}, scanned ${r.scannedBytes === null ? '?' : mib(r.scannedBytes)}`));
      }
      // 3. The server's memory on this log.
      const server = await serverMemory(dir);
      memory.push({ size: label, server });
      out.push(result(SUITE, `seglog serve RSS, ${label} log`, 0, 0, `${mib(server.afterOpen?.rss)} (anon ${mib(server.afterOpen?.anon)})`));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  printSection(targetGiB, rows, memory);
  return out;
}

function printSection(targetGiB: number, rows: Row[], memory: Array<{ size: string; server: ServerMemory }>): void {
  const table = (head: string[], body: string[][]): void => {
    const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
    const line = (cells: string[]): string => cells.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
    console.log(line(head));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of body) console.log(line(row));
  };
  console.log(`\nRestart (target ${targetGiB} GiB; SEGLOG_BENCH_RESTART_GIB sets it). bench/README.md: < 1 s after kill -9 with 10 GiB.`);
  console.log('open = Engine.open; first read = end offset of all partitions (logs open lazily: recovery runs here); process = spawn to report.');
  table(
    ['log', 'restart after', 'open', 'first read', 'open+read', 'process', 'scanned', 'child RSS'],
    rows.map((r) => [r.size, r.scenario, ms(r.openMs), ms(r.firstReadMs), ms(r.openMs + r.firstReadMs), ms(r.processMs), r.scanned, r.rss]),
  );
  console.log('\nseglog serve memory (bench/README.md: must not grow with the log). anon = heap and buffers; file = mapped pages resident (page cache, reclaimable).');
  table(
    ['log', 'when', 'RSS', 'anon', 'file'],
    memory.flatMap((m) => [
      [m.size, 'after start', mib(m.server.afterStart?.rss), mib(m.server.afterStart?.anon), mib(m.server.afterStart?.file)],
      [m.size, 'after opening all partitions', mib(m.server.afterOpen?.rss), mib(m.server.afterOpen?.anon), mib(m.server.afterOpen?.file)],
    ]),
  );
  console.log('');
}

// --- as a script: the child processes -------------------------------------------------------------

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, dir, arg] = process.argv.slice(2);
  const run = mode === 'build' ? childBuild(dir!, Number(arg)) : mode === 'open' ? childOpen(dir!, arg === 'close' ? 'close' : 'idle') : null;
  if (run === null) {
    process.stderr.write('usage: restart.bench.js build <dir> <bytes> | open <dir> idle|close\n');
    process.exit(2);
  }
  run.then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
