// Shared timing for the bench suites: bounded, repeatable, no dependencies. Every case runs a
// short warm-up round, then a fixed number of rounds of at most `roundMs` each, and reports the
// median round, as peers.md reports medians.
import { randomBytes } from 'node:crypto';

export interface BenchResult {
  suite: string;
  operation: string;
  /** Payload bytes per record (what MB/s counts). */
  recordBytes: number;
  recordsPerSec: number;
  /** Payload megabytes (10^6 bytes) per second. */
  mbPerSec: number;
  note?: string;
}

export interface BenchOptions {
  /** Time budget of one round. */
  roundMs: number;
  rounds: number;
}

export const RECORD_SIZES = [100, 1024] as const;
export const RECORDS_PER_BATCH = 1000;

export function benchOptions(): BenchOptions {
  const roundMs = Number(process.env.SEGLOG_BENCH_ROUND_MS ?? 400);
  const rounds = Number(process.env.SEGLOG_BENCH_ROUNDS ?? 3);
  return {
    roundMs: Number.isFinite(roundMs) && roundMs > 0 ? Math.min(roundMs, 10_000) : 400,
    rounds: Number.isInteger(rounds) && rounds > 0 ? Math.min(rounds, 9) : 3,
  };
}

/** Pseudo-random, incompressible payloads (as in peers.md), `count` distinct ones of `bytes` each. */
export function payloads(count: number, bytes: number): Buffer[] {
  const pool = randomBytes(count * bytes);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(pool.subarray(i * bytes, (i + 1) * bytes));
  return out;
}

/**
 * Calls `step` (which does some work and returns how many records it handled, 0 when it has
 * nothing left) until the round's time is up or `maxSteps` steps ran; `setup` runs before each
 * round, untimed. Returns the median round's records per second.
 */
export function measure(
  options: BenchOptions,
  step: () => number,
  setup: () => void = () => undefined,
  maxSteps = 1_000_000,
): number {
  const rates: number[] = [];
  // Round -1 is a short warm-up (JIT, page cache), not counted.
  for (let round = -1; round < options.rounds; round++) {
    setup();
    const rate = timedRound(options, round, step, maxSteps);
    if (round >= 0) rates.push(rate);
  }
  return median(rates);
}

/**
 * measure() with an asynchronous, untimed `setup` before each round (e.g. flushing what the previous
 * round wrote, or reopening a log), so that every round starts from the same state.
 */
export async function measureAsync(
  options: BenchOptions,
  step: () => number,
  setup: () => Promise<void>,
  maxSteps = 1_000_000,
): Promise<number> {
  const rates: number[] = [];
  for (let round = -1; round < options.rounds; round++) {
    await setup();
    const rate = timedRound(options, round, step, maxSteps);
    if (round >= 0) rates.push(rate);
  }
  return median(rates);
}

/** One round (round -1 is the warm-up, a quarter as long): records per second. */
function timedRound(options: BenchOptions, round: number, step: () => number, maxSteps: number): number {
  let records = 0;
  const start = process.hrtime.bigint();
  const roundMs = round < 0 ? Math.ceil(options.roundMs / 4) : options.roundMs;
  const deadline = start + BigInt(roundMs) * 1_000_000n;
  let now = start;
  for (let steps = 0; steps < maxSteps; steps++) {
    const n = step();
    records += n;
    now = process.hrtime.bigint();
    if (n === 0 || now >= deadline) break;
  }
  const seconds = Number(now - start) / 1e9;
  return seconds > 0 ? records / seconds : 0;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

export function result(suite: string, operation: string, recordBytes: number, recordsPerSec: number, note?: string): BenchResult {
  const r: BenchResult = { suite, operation, recordBytes, recordsPerSec, mbPerSec: (recordsPerSec * recordBytes) / 1e6 };
  if (note !== undefined) r.note = note;
  return r;
}
