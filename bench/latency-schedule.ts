// The sending side of every produce→deliver latency case (seglog's, bench/latency-producer.ts, and
// the peers', bench/peers/latency.ts): a steady rate on an absolute schedule — a timer ticks about
// every millisecond and each tick sends the records due by start + n / rate, so timer lateness
// never lowers the rate — with the process's and the machine's noise watched over the window.
import { monotonicMs, watchMachineCpu, watchProcessNoise, type ProcessNoise } from './harness.js';
import { SENT_AT_POS, SEQ_POS } from './latency-consumer.js';

export const LATENCY_RATE_PER_SEC = 20_000;
/**
 * Warm-up of a full run: 10 s, not 1 s. After a 1 s warm-up the p99 of each second fell from
 * 3–4 ms to 0.35–0.75 ms over the next 7–9 s for seglog (three fresh Node processes: the server
 * still optimised 10–25 functions a second 2–5 s after its start, `--trace-opt`) and from
 * 1.6–1.9 ms to 0.4–0.8 ms over 3–4 s for core NATS. A log server runs for days, so the window
 * measures the steady state of every system alike, and the warm-up's own p99 is reported beside it
 * (bench/README.md "Latency").
 */
export const LATENCY_WARMUP_MS_DEFAULT = 10_000;
/** Bounds of SEGLOG_BENCH_LATENCY_WARMUP_MS. */
export const LATENCY_WARMUP_MS_MIN = 200;
export const LATENCY_WARMUP_MS_MAX = 60_000;

/**
 * The warm-up of a run: `--quick`'s, or SEGLOG_BENCH_LATENCY_WARMUP_MS (for experiments), or the
 * default. A bad value throws (where a latency case calls it, so the error is that case's row).
 */
export function latencyWarmupMs(quick: boolean, raw: string | undefined = process.env.SEGLOG_BENCH_LATENCY_WARMUP_MS): number {
  if (quick) return QUICK_LATENCY_WARMUP_MS;
  if (raw === undefined || raw === '') return LATENCY_WARMUP_MS_DEFAULT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < LATENCY_WARMUP_MS_MIN || n > LATENCY_WARMUP_MS_MAX) {
    throw new Error(`SEGLOG_BENCH_LATENCY_WARMUP_MS must be an integer from ${LATENCY_WARMUP_MS_MIN} to ${LATENCY_WARMUP_MS_MAX}, got ${raw}`);
  }
  return n;
}

/** The window measured after the warm-up. */
export const LATENCY_WINDOW_MS_FULL = 5000;
/** `--quick` (bench/harness.ts): the same steps, briefly. */
export const QUICK_LATENCY_WARMUP_MS = 200;
export const QUICK_LATENCY_WINDOW_MS = 500;
const TICK_MS = 1;
const NO_NOISE: ProcessNoise = { loopDelayMaxMs: 0, loopDelayP99Ms: 0, gcMaxMs: 0, gcTotalMs: 0, cpuPct: 0 };

export interface Schedule {
  /** Records to send: the first `warmupRecords` are the warm-up, the rest the window. */
  total: number;
  warmupRecords: number;
  /** Records that may be unacknowledged at once; beyond, the run fails. */
  unackedMax: number;
  /** The run fails when not all were sent this long after the start. */
  deadlineMs: number;
  /** Sends record `seq` (its value stamped by stampValue). */
  send(seq: number): void;
  /** After each tick's sends (a transport sending one request per tick sends it here). */
  endTick?(): void;
  /** At the start of each tick, with the time since the start (e.g. a scrape just before the window). */
  onTick?(elapsedMs: number): void;
  acked(): number;
  /** The first send or ack failure, null while there is none. */
  failure(): unknown;
}

export interface ScheduleResult {
  /** How far behind its schedule the sender fell at worst in the window (timer or client stalls). */
  sendLagMaxMs: number;
  noise: ProcessNoise;
  /** The machine over the window: CPU stolen by the hypervisor and busy, % of all cores; null off Linux. */
  machine: { stealPct: number; busyPct: number } | null;
}

/** Writes the sequence number and the send time (shared monotonic clock) into a value. */
export function stampValue(value: Buffer, seq: number): void {
  value.writeUInt32LE(seq, SEQ_POS);
  value.writeDoubleLE(monotonicMs(), SENT_AT_POS);
}

/** Sends everything on schedule; resolves when the last record was sent (not acked). */
export async function runSchedule(s: Schedule): Promise<ScheduleResult> {
  const rate = LATENCY_RATE_PER_SEC;
  let sent = 0;
  let sendLagMaxMs = 0;
  let stopNoise: (() => ProcessNoise) | null = null;
  let stopMachine: ReturnType<typeof watchMachineCpu> | null = null;
  const start = performance.now();
  const deadline = start + s.deadlineMs;
  await new Promise<void>((resolve, reject) => {
    const tick = (): void => {
      const now = performance.now();
      if (s.failure() !== null) return reject(s.failure() as Error);
      if (now > deadline) return reject(new Error(`latency: sent only ${sent} of ${s.total} records in time`));
      s.onTick?.(now - start);
      const due = Math.min(s.total, Math.floor(((now - start) / 1000) * rate));
      if (sent < due && sent >= s.warmupRecords) sendLagMaxMs = Math.max(sendLagMaxMs, now - (start + (sent * 1000) / rate));
      for (; sent < due; sent++) {
        if (sent === s.warmupRecords) {
          stopNoise = watchProcessNoise();
          stopMachine = watchMachineCpu();
        }
        if (sent - s.acked() >= s.unackedMax) return reject(new Error('latency: a second of records unacknowledged'));
        s.send(sent);
      }
      s.endTick?.();
      if (sent >= s.total) return resolve();
      setTimeout(tick, TICK_MS);
    };
    tick();
  });
  const noise = stopNoise !== null ? (stopNoise as () => ProcessNoise)() : NO_NOISE;
  const machine = stopMachine !== null ? (stopMachine as ReturnType<typeof watchMachineCpu>)() : null;
  return { sendLagMaxMs, noise, machine };
}
