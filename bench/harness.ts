// Shared timing for the bench suites: bounded, repeatable, no dependencies. Every case runs a
// short warm-up round, then a fixed number of rounds of at most `roundMs` each, and reports the
// median round (bench/README.md "Method").
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/**
 * What rows of different systems are compared on (bench/README.md "Scenarios"): in one scenario and
 * payload, every row gets its ratio to the seglog row marked `reference`.
 */
export type Scenario = 'append' | 'read' | 'produce' | 'replay' | 'latency';

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** p99 of each second of the window (bench/latency-consumer.ts p99BySecond); null in JSON for a second without samples. */
  p99BySecondMs?: number[];
  /** p99 of the warm-up's records: the start-up of the processes, never in p50/p99/p999 (null in JSON without samples). */
  warmupP99Ms?: number;
}

export interface BenchResult {
  /** The name of the bench/run.ts suite that produced the row (set by run.ts). */
  suiteName?: string;
  /** The row's group in the tables. */
  suite: string;
  operation: string;
  /** Payload bytes per record (what MB/s counts). */
  recordBytes: number;
  /** The median round's records per second (bench/README.md "Method"). */
  recordsPerSec: number;
  /** The slowest and fastest counted round, where the case ran rounds. */
  minPerSec?: number;
  maxPerSec?: number;
  /** Payload megabytes (10^6 bytes) per second, of the median round. */
  mbPerSec: number;
  /**
   * Median over the counted rounds of records per CPU-second (user + system, all threads) of the
   * bench process, where the case ran rounds that report it: steadier than records/s on a loaded
   * machine, and what an A/B change of the measured code moves (bench/README.md "CPU per round").
   */
  recordsPerCpuSecond?: number;
  note?: string;
  /** The system measured: 'seglog', a baseline ('raw fs', 'mmap') or a peer ('NATS JetStream', ...). */
  system?: string;
  scenario?: Scenario;
  /** seglog's row that the other rows of its scenario and payload are compared to. */
  reference?: boolean;
  /** Produce→deliver latency (scenario 'latency'). */
  latency?: LatencyFigures;
  /** Why the case or suite produced no figure (the run goes on; bench/run.ts). */
  error?: string;
}

export interface BenchOptions {
  /** Time budget of one round. */
  roundMs: number;
  rounds: number;
  /**
   * `--quick` (CI, seconds): one short round per case and every byte bound cut to QUICK_BYTES_MAX,
   * so that the suite cannot rot; its figures mean nothing.
   */
  quick: boolean;
  /** Peers may install what they miss (apt-get for servers); off with --no-install (CI installs them in .ci/run). */
  installMissing: boolean;
}

/** Bytes any one bound may allow in `--quick` mode. */
export const QUICK_BYTES_MAX = 16 * 1024 * 1024;
const QUICK_ROUND_MS = 40;

/** A suite's byte bound, cut in quick mode. */
export function bytesBound(options: BenchOptions, fullBytes: number): number {
  return options.quick ? Math.min(fullBytes, QUICK_BYTES_MAX) : fullBytes;
}

export const RECORD_SIZES = [100, 1024] as const;
export const RECORDS_PER_BATCH = 1000;

export function benchOptions(quick = false, installMissing = true): BenchOptions {
  if (quick) return { roundMs: QUICK_ROUND_MS, rounds: 1, quick, installMissing };
  const roundMs = Number(process.env.SEGLOG_BENCH_ROUND_MS ?? 400);
  const rounds = Number(process.env.SEGLOG_BENCH_ROUNDS ?? 3);
  return {
    roundMs: Number.isFinite(roundMs) && roundMs > 0 ? Math.min(roundMs, 10_000) : 400,
    rounds: Number.isInteger(rounds) && rounds > 0 ? Math.min(rounds, 9) : 3,
    quick,
    installMissing,
  };
}

/** Pseudo-random, incompressible payloads (bench/README.md "Method"), `count` distinct ones of `bytes` each. */
export function payloads(count: number, bytes: number): Buffer[] {
  const pool = randomBytes(count * bytes);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(pool.subarray(i * bytes, (i + 1) * bytes));
  return out;
}

/** Records per second of the counted rounds: the median, the slowest and the fastest. */
export interface RoundRates {
  median: number;
  min: number;
  max: number;
  /** Median over the rounds of records per CPU-second of this process; absent when no round measured CPU time. */
  recordsPerCpuSecond?: number;
}

/** One round's count and this process's CPU time over it (process.cpuUsage(), user + system, µs). */
export interface RoundFigures {
  /** The round's records per second, computed as the round always did. */
  perSec: number;
  records: number;
  cpuMicros: number;
}

/** This process's CPU time (user + system, all its threads) since `start`, in µs. */
function cpuMicrosSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

/** Records per CPU-second from a round's records and CPU µs; NaN when no CPU time was measured (too short a round). */
export function recordsPerCpuSecond(records: number, cpuMicros: number): number {
  return cpuMicros > 0 ? records / (cpuMicros / 1e6) : NaN;
}

/** Nanoseconds of CPU per record, from records per CPU-second. */
export function cpuNsPerRecord(perCpuSecond: number): number {
  return 1e9 / perCpuSecond;
}

/** The note of a case whose CPU time is the client's (the bench process): `client CPU per record 312 ns`. */
export function clientCpuNote(rates: RoundRates): string | undefined {
  const perCpu = rates.recordsPerCpuSecond;
  return perCpu !== undefined && perCpu > 0 ? `client CPU per record ${Math.round(cpuNsPerRecord(perCpu))} ns` : undefined;
}

/** Median (the upper one of an even count, as spread()) of the finite values; undefined when there is none. */
export function medianOfFinite(values: readonly number[]): number | undefined {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return finite.length === 0 ? undefined : finite[Math.floor(finite.length / 2)];
}

/**
 * For a round over the network: call at its start; `done(records)` gives its records per second
 * over the time since (the arithmetic the gateway's rounds always used) and the CPU time spent.
 */
export function roundClock(): { start: number; done: (records: number) => RoundFigures } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  return {
    start,
    done: (records) => ({ perSec: records / ((performance.now() - start) / 1000), records, cpuMicros: cpuMicrosSince(cpu) }),
  };
}

/**
 * Calls `step` (which does some work and returns how many records it handled, 0 when it has
 * nothing left) until the round's time is up or `maxSteps` steps ran; `setup` runs before each
 * round, untimed. Returns the median round's records per second, with the slowest and fastest.
 */
export function measure(
  options: BenchOptions,
  step: () => number,
  setup: () => void = () => undefined,
  maxSteps = 1_000_000,
): RoundRates {
  const rates: number[] = [];
  const perCpu: number[] = [];
  // Round -1 is a short warm-up (JIT, page cache), not counted.
  for (let round = -1; round < options.rounds; round++) {
    setup();
    const r = timedRound(options, round, step, maxSteps);
    if (round >= 0) {
      rates.push(r.perSec);
      perCpu.push(recordsPerCpuSecond(r.records, r.cpuMicros));
    }
  }
  return spread(rates, perCpu);
}

/**
 * measure() for asynchronous work: `step` may return a promise (awaited only then, so a
 * synchronous step is timed exactly as in measure()), and `setup` may be asynchronous (e.g.
 * flushing what the previous round wrote, or reopening a log) so every round starts alike.
 */
export async function measureAsync(
  options: BenchOptions,
  step: () => number | Promise<number>,
  setup: () => Promise<void> | void = () => undefined,
  maxSteps = 1_000_000,
): Promise<RoundRates> {
  const rates: number[] = [];
  const perCpu: number[] = [];
  for (let round = -1; round < options.rounds; round++) {
    await setup();
    let records = 0;
    // CPU from after the untimed setup to the round's end, the interval records/s is taken over.
    const cpu = process.cpuUsage();
    const { start, deadline } = roundWindow(options, round);
    let now = start;
    for (let steps = 0; steps < maxSteps; steps++) {
      const r = step();
      const n = typeof r === 'number' ? r : await r;
      records += n;
      now = process.hrtime.bigint();
      if (n === 0 || now >= deadline) break;
    }
    const cpuMicros = cpuMicrosSince(cpu);
    if (round >= 0) {
      rates.push(perSecond(records, start, now));
      perCpu.push(recordsPerCpuSecond(records, cpuMicros));
    }
  }
  return spread(rates, perCpu);
}

/** Round time over the network (gateway, peers' servers): longer rounds, as a round starts and drains a client. */
function networkRoundMs(options: BenchOptions): number {
  return options.quick ? options.roundMs * 3 : Math.max(1000, options.roundMs * 3);
}

/**
 * For cases over loopback: runs `round` (which works for about `ms` and returns its records per
 * second, or its RoundFigures from roundClock() to have its CPU per record reported too) once as a
 * warm-up of a quarter of the time, then `options.rounds` times: the median.
 */
export async function networkRounds(options: BenchOptions, round: (ms: number, index: number) => Promise<number | RoundFigures>): Promise<RoundRates> {
  const ms = networkRoundMs(options);
  await round(Math.ceil(ms / 4), -1);
  const rates: number[] = [];
  const perCpu: number[] = [];
  for (let i = 0; i < options.rounds; i++) {
    const r = await round(ms, i);
    if (typeof r === 'number') rates.push(r);
    else {
      rates.push(r.perSec);
      perCpu.push(recordsPerCpuSecond(r.records, r.cpuMicros));
    }
  }
  return spread(rates, perCpu);
}

/** Round -1 is the warm-up, a quarter as long. */
function roundWindow(options: BenchOptions, round: number): { start: bigint; deadline: bigint } {
  const roundMs = round < 0 ? Math.ceil(options.roundMs / 4) : options.roundMs;
  const start = process.hrtime.bigint();
  return { start, deadline: start + BigInt(roundMs) * 1_000_000n };
}

function perSecond(records: number, start: bigint, now: bigint): number {
  const seconds = Number(now - start) / 1e9;
  return seconds > 0 ? records / seconds : 0;
}

/** One round of synchronous steps: records per second, records, and CPU time over the round. */
function timedRound(options: BenchOptions, round: number, step: () => number, maxSteps: number): RoundFigures {
  let records = 0;
  const cpu = process.cpuUsage();
  const { start, deadline } = roundWindow(options, round);
  let now = start;
  for (let steps = 0; steps < maxSteps; steps++) {
    const n = step();
    records += n;
    now = process.hrtime.bigint();
    if (n === 0 || now >= deadline) break;
  }
  const cpuMicros = cpuMicrosSince(cpu);
  return { perSec: perSecond(records, start, now), records, cpuMicros };
}

function spread(values: number[], perCpuSecond: readonly number[] = []): RoundRates {
  values.sort((a, b) => a - b);
  const rates: RoundRates = { median: values[Math.floor(values.length / 2)]!, min: values[0]!, max: values[values.length - 1]! };
  const perCpu = medianOfFinite(perCpuSecond);
  if (perCpu !== undefined) rates.recordsPerCpuSecond = perCpu;
  return rates;
}

export function result(
  suite: string,
  operation: string,
  recordBytes: number,
  rate: number | RoundRates,
  note?: string,
  compare?: Pick<BenchResult, 'system' | 'scenario' | 'reference' | 'latency'>,
): BenchResult {
  const recordsPerSec = typeof rate === 'number' ? rate : rate.median;
  const r: BenchResult = { suite, operation, recordBytes, recordsPerSec, mbPerSec: (recordsPerSec * recordBytes) / 1e6 };
  if (typeof rate !== 'number') {
    r.minPerSec = rate.min;
    r.maxPerSec = rate.max;
    if (rate.recordsPerCpuSecond !== undefined) r.recordsPerCpuSecond = rate.recordsPerCpuSecond;
  }
  if (note !== undefined) r.note = note;
  return compare === undefined ? r : { ...r, ...compare };
}

/** A row that says why a case or a suite produced no figure. */
export function errorResult(suite: string, operation: string, recordBytes: number, error: unknown, system?: string): BenchResult {
  const message = error instanceof Error ? error.message : String(error);
  const r: BenchResult = { suite, operation, recordBytes, recordsPerSec: 0, mbPerSec: 0, error: message.split('\n')[0]!.slice(0, 300) };
  if (system !== undefined) r.system = system;
  return r;
}

/**
 * Runs one case, showing it as progress; a failure becomes a row with its error (in the side-by-side
 * table when `where` names a scenario), and the suite goes on.
 */
export async function caseOrError(
  suite: string,
  where: { system: string; scenario?: Scenario },
  operation: string,
  recordBytes: number,
  run: () => Promise<BenchResult>,
): Promise<BenchResult> {
  progress(`${where.system === 'seglog' ? '' : `${where.system}: `}${operation}, ${recordBytes} B`);
  try {
    return await run();
  } catch (e) {
    const r = errorResult(suite, operation, recordBytes, e, where.system);
    if (where.scenario !== undefined) r.scenario = where.scenario;
    return r;
  }
}

// --- progress --------------------------------------------------------------------------------

const runStartedAt = performance.now();
let currentSuite = '';

/** bench/run.ts names the suite that runs now; progress() lines carry it. */
export function setProgressSuite(suite: string): void {
  currentSuite = suite;
}

/** One progress line on stderr: elapsed time of the run, suite, step. */
export function progress(step: string): void {
  const s = (performance.now() - runStartedAt) / 1000;
  process.stderr.write(`[${s.toFixed(1).padStart(6)} s] ${currentSuite} · ${step}\n`);
}

// --- latency measurement across processes -------------------------------------------------------

/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, what process.hrtime reads), the
 * same in every process on this machine, so a time written by one process can be subtracted from
 * one read by another. performance.now() reads that clock too, relative to this process's start:
 * adding a per-process offset (computed once) gives the shared value without a BigInt per call.
 */
export const monotonicMs: () => number = (() => {
  let offsetMs = Infinity;
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const hr = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    // The smallest bracket is the best estimate; both clocks advance together afterwards.
    offsetMs = Math.min(offsetMs, hr - (before + after) / 2);
  }
  return () => performance.now() + offsetMs;
})();

export interface ProcessNoise {
  /** Event-loop stalls beyond the 1 ms sampling interval of monitorEventLoopDelay: longest and p99. */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** Longest single GC pause and the sum of all pauses. */
  gcMaxMs: number;
  gcTotalMs: number;
  /** CPU time (user + system) of this process, % of one core. */
  cpuPct: number;
}

/** Watches this process's event-loop delay and GC pauses until the returned function is called. */
export function watchProcessNoise(): () => ProcessNoise {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let gcMaxMs = 0;
  let gcTotalMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMaxMs = Math.max(gcMaxMs, e.duration);
      gcTotalMs += e.duration;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  return () => {
    const cpu = process.cpuUsage(cpuStart);
    const cpuPct = (100 * (cpu.user + cpu.system)) / 1000 / Math.max(1, performance.now() - wallStart);
    loop.disable();
    gc.disconnect();
    // The histogram holds whole sampling intervals: the stall is what exceeds the 1 ms.
    const ms = (ns: number): number => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - 1) : 0);
    return { loopDelayMaxMs: loop.count > 0 ? ms(loop.max) : 0, loopDelayP99Ms: loop.count > 0 ? ms(loop.percentile(99)) : 0, gcMaxMs, gcTotalMs, cpuPct };
  };
}

/** Quantile of an ascending-sorted array (nearest rank below), NaN when empty. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Jiffies of the whole machine from /proc/stat (Linux); null elsewhere. */
function cpuJiffies(): { total: number; steal: number; idle: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return null;
    return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7]!, idle: f[3]! + f[4]! };
  } catch {
    return null;
  }
}

/**
 * Watches the machine's CPU time until the returned function is called: the share stolen by the
 * hypervisor (a VM's vCPU not running at all: every process on it stalls at once) and the share
 * busy running something (ours or not).
 */
export function watchMachineCpu(): () => { stealPct: number; busyPct: number } | null {
  const start = cpuJiffies();
  return () => {
    const end = cpuJiffies();
    if (start === null || end === null || end.total <= start.total) return null;
    const total = end.total - start.total;
    return { stealPct: (100 * (end.steal - start.steal)) / total, busyPct: (100 * (total - (end.idle - start.idle) - (end.steal - start.steal))) / total };
  };
}
