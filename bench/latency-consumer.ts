// Child process of the gateway latency case (gateway.bench.ts): subscribes to the topic, and for
// every record computes receive time − send time on the machine's shared monotonic clock (the
// producer, in another process, wrote the send time into the value). Kept out of the producer's
// process so neither one's event loop or GC delays the other's timestamps.
//
// IPC: parent → {type:'start', url, topic, warmupRecords, measuredRecords, recordsPerSec}; child → {type:'ready'}
// once subscribed; parent → {type:'finish'} once every record was acked; child → {type:'result'}
// when it has them all (or after FINISH_WAIT_MS), then exits.
import { pathToFileURL } from 'node:url';
import { SeglogClient } from '../gateway/client/client.js';
import { monotonicMs, quantile, watchProcessNoise, type ProcessNoise } from './harness.js';

/** Value layout written by the producer: float64 LE send time (monotonic ms), uint32 LE sequence. */
export const SENT_AT_POS = 0;
export const SEQ_POS = 8;
export const HEADER_BYTES = 12;
const FINISH_WAIT_MS = 5000;
const MEASURED_RECORDS_MAX = 10_000_000;

export interface StartMessage {
  type: 'start';
  url: string;
  topic: string;
  warmupRecords: number;
  measuredRecords: number;
  /** The schedule's rate: which second of the window a sequence number was sent in. */
  recordsPerSec: number;
}

export interface ResultMessage {
  type: 'result';
  /** Measured records received (out of measuredRecords). */
  count: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** p99 of each second of the window, in order (NaN, null in JSON, for a second with no sample). */
  p99BySecondMs: number[];
  /** p99 of the warm-up's records (the processes' start-up: JIT, first collections); NaN without any. */
  warmupP99Ms: number;
  noise: ProcessNoise;
}

// Reads without allocating (no DataView or subarray per record).
const scratch = new Uint8Array(8);
const scratchF64 = new Float64Array(scratch.buffer);
function readSentAt(v: Uint8Array): number {
  for (let i = 0; i < 8; i++) scratch[i] = v[SENT_AT_POS + i]!;
  return scratchF64[0]!;
}
function readSeq(v: Uint8Array): number {
  return (v[SEQ_POS]! | (v[SEQ_POS + 1]! << 8) | (v[SEQ_POS + 2]! << 16)) + v[SEQ_POS + 3]! * 0x1000000;
}

/**
 * p99 of each second of the window: sample i (a sequence number's offset into the window) was sent
 * in second floor(i / recordsPerSec) of the schedule; only samples marked in `seen` count. A last,
 * partial second gets its own value; a second without samples gives NaN. Why by second: the first
 * seconds after the warm-up can still carry V8's background work (compiling, GC) in all three
 * processes, which the one p99 over the window hides (bench/README.md "Latency").
 */
export function p99BySecond(samples: ArrayLike<number>, seen: ArrayLike<number>, recordsPerSec: number): number[] {
  if (!(recordsPerSec > 0)) throw new Error(`p99BySecond: recordsPerSec must be positive, got ${recordsPerSec}`);
  const out: number[] = [];
  for (let from = 0; from < samples.length; from += recordsPerSec) {
    const to = Math.min(samples.length, from + recordsPerSec);
    const second: number[] = [];
    for (let i = from; i < to; i++) if (seen[i] === 1) second.push(samples[i]!);
    second.sort((a, b) => a - b);
    out.push(quantile(second, 0.99));
  }
  return out;
}

/** The note's by-second figures: `p99 by second 4.16 2.53 1.82 2.44 1.03` (ms; n/a for an empty second). */
export function formatP99BySecond(values: readonly (number | null)[]): string {
  return `p99 by second ${values.map((v) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(2))).join(' ')}`;
}

/** The note's start-up figure: `warm-up p99 3.91 ms` (n/a without samples). */
export function formatWarmupP99(value: number | null | undefined): string {
  return `warm-up p99 ${value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : `${value.toFixed(2)} ms`}`;
}

/**
 * The window's produce→deliver samples, one per sequence number (duplicates and warm-up records
 * ignored), and their quantiles; also watches this process's noise from the first sample on. Shared
 * by seglog's consumer and the peers' (bench/peers/latency.ts).
 */
export class LatencySamples {
  private readonly samples: Float64Array;
  private readonly seen: Uint8Array;
  /** The warm-up's records, kept apart: reported as the start-up figure, never in the window's quantiles. */
  private readonly warmupSamples: Float64Array;
  private readonly warmupSeen: Uint8Array;
  private stopNoise: (() => ProcessNoise) | null = null;
  count = 0;

  constructor(
    private readonly warmupRecords: number,
    readonly measured: number,
    private readonly recordsPerSec: number,
  ) {
    this.samples = new Float64Array(Math.min(measured, MEASURED_RECORDS_MAX));
    this.seen = new Uint8Array(this.samples.length);
    this.warmupSamples = new Float64Array(Math.min(warmupRecords, MEASURED_RECORDS_MAX));
    this.warmupSeen = new Uint8Array(this.warmupSamples.length);
  }

  /** Records one received value; true once every measured record is in. */
  add(value: Uint8Array): boolean {
    const now = monotonicMs();
    const seq = readSeq(value);
    const i = seq - this.warmupRecords;
    if (i < 0 && seq < this.warmupSamples.length && this.warmupSeen[seq] === 0) {
      this.warmupSeen[seq] = 1;
      this.warmupSamples[seq] = now - readSentAt(value);
    }
    if (i < 0 || i >= this.samples.length || this.seen[i] === 1) return this.count >= this.samples.length;
    this.stopNoise ??= watchProcessNoise();
    this.seen[i] = 1;
    this.samples[i] = now - readSentAt(value);
    return ++this.count >= this.samples.length;
  }

  get complete(): boolean {
    return this.count >= this.samples.length;
  }

  result(): Omit<ResultMessage, 'type'> {
    const noise = this.stopNoise !== null ? this.stopNoise() : { loopDelayMaxMs: 0, loopDelayP99Ms: 0, gcMaxMs: 0, gcTotalMs: 0, cpuPct: 0 };
    const got = new Float64Array(this.count);
    for (let i = 0, j = 0; i < this.samples.length; i++) if (this.seen[i] === 1) got[j++] = this.samples[i]!;
    got.sort();
    const count = this.count;
    const p99BySecondMs = p99BySecond(this.samples, this.seen, this.recordsPerSec);
    const warm: number[] = [];
    for (let i = 0; i < this.warmupSamples.length; i++) if (this.warmupSeen[i] === 1) warm.push(this.warmupSamples[i]!);
    warm.sort((a, b) => a - b);
    const warmupP99Ms = quantile(warm, 0.99);
    return { count, p50Ms: quantile(got, 0.5), p99Ms: quantile(got, 0.99), p999Ms: quantile(got, 0.999), maxMs: count > 0 ? got[count - 1]! : NaN, p99BySecondMs, warmupP99Ms, noise };
  }
}

async function run(start: StartMessage): Promise<void> {
  const samples = new LatencySamples(start.warmupRecords, start.measuredRecords, start.recordsPerSec);
  let finishing: ReturnType<typeof setTimeout> | null = null;
  const client = await SeglogClient.connect(start.url, { clientId: 'bench-latency-consumer' });
  const consumer = client.subscribe(start.topic, { from: 'latest' });
  await consumer.ready;
  process.send!({ type: 'ready' });
  let done: () => void = () => {};
  const allIn = new Promise<void>((resolve) => (done = resolve));
  process.on('message', (m: { type?: string }) => {
    if (m.type !== 'finish') return;
    if (samples.complete) done();
    else finishing = setTimeout(done, FINISH_WAIT_MS);
  });
  const consumed = (async () => {
    for await (const r of consumer) if (samples.add(r.value!)) break;
    done();
  })();
  await allIn;
  if (finishing !== null) clearTimeout(finishing);
  process.send!({ type: 'result', ...samples.result() } satisfies ResultMessage);
  await consumer.close().catch(() => {});
  await Promise.race([consumed, new Promise((r) => setTimeout(r, 1000))]);
  await client.close().catch(() => {});
  process.disconnect();
}

// Only when started as the child (not when gateway.bench.ts imports the constants above).
if (process.send !== undefined && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('message', (m: StartMessage) => {
    run(m).catch((e: unknown) => {
      process.stderr.write(`latency consumer: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    });
  });
}
