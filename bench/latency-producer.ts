// Child process of the gateway latency case: the producer. gateway.bench.ts starts one per run, so
// it begins with a clean heap whatever the bench ran before. Measured the way NATS,
// JetStream and Redis were measured for comparison (bench/README.md "Latency"): a steady 20k records/s for 5 s, p50/p99 of produce → deliver. The producer
// runs here, the consumer in a child process (latency-consumer.ts), the server in its own: no
// process's GC or event loop stamps another's times. Each value carries its send time on the machine's monotonic clock (monotonicMs, read right
// before send()) and a sequence number; the consumer subtracts on receipt. The first second is a
// warm-up (JIT, connections, first batches) and is not counted.
//
// Send granularity (bench/latency-schedule.ts): a timer ticks about every millisecond; each tick sends
// the records due by the absolute schedule (start + n / rate, so timer lateness never lowers the rate), each with its own
// producer.send() and lingerMs 0, the setting a latency-sensitive user picks. lingerMs 0 closes a
// batch at the end of the tick, so the ~20 records of one tick travel in one PRODUCE frame.
// Values and record objects are allocated up front and reused (a second's worth).
//
// Next to the quantiles, what tells a server stall from client or machine noise, all over the
// window: the server's event-loop stalls and GC pauses (its /metrics, scraped 100 ms before the
// window and right after it), each client's loop stalls, GC pauses and CPU, how late the sender
// ran behind its schedule, and the machine's CPU busy and stolen by the hypervisor (/proc/stat).

import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RecordInput } from '../engine/types.js';
import { SeglogClient } from '../gateway/client/client.js';
import { payloads, type ProcessNoise } from './harness.js';
import { HEADER_BYTES, type ResultMessage, type StartMessage } from './latency-consumer.js';
import {
  LATENCY_RATE_PER_SEC,
  LATENCY_WARMUP_MS_FULL,
  LATENCY_WINDOW_MS_FULL,
  QUICK_LATENCY_WARMUP_MS,
  QUICK_LATENCY_WINDOW_MS,
  runSchedule,
  stampValue,
} from './latency-schedule.js';

/** Record objects (and values) reused round robin: a second's worth, so none is reused while queued. */
const LATENCY_POOL_RECORDS = LATENCY_RATE_PER_SEC;
const here = path.dirname(fileURLToPath(import.meta.url));
const CONSUMER_JS = path.resolve(here, 'latency-consumer.js');

export interface LatencyResult extends Omit<ResultMessage, 'type'> {
  expected: number;
  /** How far behind its schedule the sender fell at worst in the window (timer or client stalls). */
  sendLagMaxMs: number;
  producerNoise: ProcessNoise;
  /** The machine over the window: CPU stolen by the hypervisor and CPU busy, % of all cores; null off Linux. */
  machine: { stealPct: number; busyPct: number } | null;
  /** Server event-loop stalls over the window (its /metrics, less the sampling interval), ms; null when not available. */
  serverLoopDelay: { p50Ms: number; p99Ms: number; maxMs: number } | null;
  /** Server GC pauses in the window: total ms and count; null when not available. */
  serverGc: { totalMs: number; count: number } | null;
}

/** The server's seglog_event_loop_delay_seconds (since its previous scrape: a scrape resets it). */
interface ServerScrape {
  /** Event-loop stalls since the previous scrape (a scrape resets them), ms. */
  loop: { p50Ms: number; p99Ms: number; maxMs: number } | null;
  /** GC pauses so far (seglog_gc_pause_seconds, all kinds): total ms and count. */
  gcTotalMs: number;
  gcCount: number;
}

/** The server's seglog_event_loop_delay_seconds and seglog_gc_pause_seconds from its /metrics; null when unreachable. */
async function scrapeServer(wsUrl: string): Promise<ServerScrape | null> {
  try {
    const res = await fetch(`http${wsUrl.slice(2).replace(/\/$/, '')}/metrics`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    const q = (quantile: string): number => {
      const m = new RegExp(`^seglog_event_loop_delay_seconds\\{quantile="${quantile.replace('.', '\\.')}"\\} (\\S+)$`, 'm').exec(text);
      return m === null ? NaN : Number(m[1]) * 1000;
    };
    // The histogram holds whole sampling intervals (Node's monitorEventLoopDelay): subtract the
    // interval the help text names, so the figures are the stall beyond it.
    const intervalMs = Number(/^# HELP seglog_event_loop_delay_seconds .*sampled every (\d+(?:\.\d+)?) ms/m.exec(text)?.[1] ?? 0);
    const stall = (x: number): number => Math.max(0, x - intervalMs);
    const loop = { p50Ms: stall(q('0.5')), p99Ms: stall(q('0.99')), maxMs: stall(q('1')) };
    const sum = (re: RegExp): number => [...text.matchAll(re)].reduce((acc, m) => acc + Number(m[1]), 0);
    return {
      loop: Number.isFinite(loop.maxMs) ? loop : null,
      gcTotalMs: sum(/^seglog_gc_pause_seconds_sum\{[^}]*\} (\S+)$/gm) * 1000,
      gcCount: sum(/^seglog_gc_pause_seconds_count\{[^}]*\} (\S+)$/gm),
    };
  } catch {
    return null;
  }
}

function startConsumerChild(start: StartMessage): { child: ChildProcess; ready: Promise<void>; result: Promise<ResultMessage> } {
  const child = fork(CONSUMER_JS, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const failed = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`latency consumer exited (${code ?? signal}) before reporting`)));
    child.once('error', reject);
  });
  failed.catch(() => {});
  const message = (type: string, ms: number): Promise<unknown> =>
    Promise.race([
      failed,
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`latency consumer: no '${type}' within ${ms} ms`)), ms);
        const on = (m: { type?: string }): void => {
          if (m.type !== type) return;
          clearTimeout(timer);
          child.off('message', on);
          resolve(m);
        };
        child.on('message', on);
      }),
    ]);
  const ready = message('ready', 10_000).then(() => undefined);
  const result = ready.then(() => message('result', LATENCY_WARMUP_MS_FULL + LATENCY_WINDOW_MS_FULL + 20_000) as Promise<ResultMessage>);
  ready.catch(() => {});
  result.catch(() => {});
  child.send(start);
  return { child, ready, result };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export async function latency(url: string, recordBytes: number, quick = false): Promise<LatencyResult> {
  const rate = LATENCY_RATE_PER_SEC;
  const warmupMs = quick ? QUICK_LATENCY_WARMUP_MS : LATENCY_WARMUP_MS_FULL;
  const windowMs = quick ? QUICK_LATENCY_WINDOW_MS : LATENCY_WINDOW_MS_FULL;
  const warmupRecords = Math.floor((warmupMs / 1000) * rate);
  const measuredRecords = Math.floor((windowMs / 1000) * rate);
  const total = warmupRecords + measuredRecords;
  if (recordBytes < HEADER_BYTES) throw new Error(`latency: records need at least ${HEADER_BYTES} bytes`);
  const client = await SeglogClient.connect(url, { clientId: 'bench-latency-producer' });
  let consumer: ReturnType<typeof startConsumerChild> | null = null;
  try {
    const topic = `bench-latency-${recordBytes}-${process.pid}`;
    await client.createTopic(topic, { partitions: 1 });
    consumer = startConsumerChild({ type: 'start', url, topic, warmupRecords, measuredRecords, recordsPerSec: rate });
    await consumer.ready;
    const pool: RecordInput[] = payloads(LATENCY_POOL_RECORDS, recordBytes).map((value) => ({ value }));
    const producer = client.producer({ lingerMs: 0 });
    let acked = 0;
    let failure: unknown = null;
    const onAck = (): void => void acked++;
    const onFail = (e: unknown): void => void (failure ??= e);
    let scraped: Promise<ServerScrape | null> | null = null;
    const sending = await runSchedule({
      total,
      warmupRecords,
      unackedMax: LATENCY_POOL_RECORDS,
      deadlineMs: warmupMs + windowMs + 2000,
      // Reset the server's loop-delay histogram shortly before the window, so the scrape's own
      // cost falls in the warm-up and the scrape after the window covers the window.
      onTick: (elapsedMs) => {
        if (scraped === null && elapsedMs >= warmupMs - 100) scraped = scrapeServer(url);
      },
      send: (seq) => {
        const record = pool[seq % LATENCY_POOL_RECORDS]!;
        stampValue(record.value as Buffer, seq);
        producer.send(topic, record).then(onAck, onFail);
      },
      acked: () => acked,
      failure: () => failure,
    });
    for (let i = 0; i < 1000 && acked < total && failure === null; i++) await new Promise((r) => setTimeout(r, 10));
    if (failure !== null) throw failure;
    const after = await scrapeServer(url);
    const before = await (scraped as Promise<ServerScrape | null> | null);
    const { sendLagMaxMs, noise: producerNoise, machine } = sending;
    consumer.child.send({ type: 'finish' });
    const { type: _type, ...received } = await consumer.result;
    await producer.close();
    await client.deleteTopic(topic);
    return {
      ...received,
      expected: measuredRecords,
      sendLagMaxMs,
      producerNoise,
      machine,
      serverLoopDelay: after?.loop ?? null,
      serverGc: after !== null && before !== null ? { totalMs: after.gcTotalMs - before.gcTotalMs, count: after.gcCount - before.gcCount } : null,
    };
  } finally {
    if (consumer !== null) await stopChild(consumer.child);
    await client.close();
  }
}

export interface ProducerStartMessage {
  type: 'start';
  url: string;
  recordBytes: number;
  quick: boolean;
}

export type ProducerReply = { type: 'result'; result: LatencyResult } | { type: 'error'; message: string };

// Only when started as the child (not when imported for its types).
if (process.send !== undefined && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('message', (m: ProducerStartMessage) => {
    latency(m.url, m.recordBytes, m.quick).then(
      (result) => process.send!({ type: 'result', result } satisfies ProducerReply, () => process.disconnect()),
      (e: unknown) => process.send!({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies ProducerReply, () => process.disconnect()),
    );
  });
}
