// Child process of the gateway latency case: the producer. gateway.bench.ts starts one per run, so
// it begins with a clean heap whatever the bench ran before. Measured the way the peers are
// (bench/README.md "Latency"): a steady 20k records/s, p50/p99 of produce → deliver over a 5 s
// window. The producer runs here, the consumer in a child process (latency-consumer.ts), the server
// in its own: no process's GC or event loop stamps another's times. Each value carries its send
// time on the machine's monotonic clock (monotonicMs, read right before send()) and a sequence
// number; the consumer subtracts on receipt. The warm-up before the window (10 s: the processes'
// JIT, connections, first batches; latency-schedule.ts) is reported apart, never in the window.
//
// Send granularity (bench/latency-schedule.ts): a timer ticks about every millisecond; each tick sends
// the records due by the absolute schedule (start + n / rate, so timer lateness never lowers the rate), each with its own
// producer.send() and lingerMs 0, the setting a latency-sensitive user picks. lingerMs 0 closes a
// batch at the end of the tick, so the ~20 records of one tick travel in one PRODUCE frame.
// Values and record objects are allocated up front and reused (a second's worth).
//
// Next to the quantiles, what tells a server stall from client or machine noise, all over the
// window: the server's event-loop stalls and GC pauses (its /metrics, scraped by the parent
// process 1 s before the window, when this child tells it, and right after), each client's loop
// stalls, GC pauses and CPU, how late the sender ran behind its schedule, and the machine's CPU
// busy and stolen by the hypervisor (/proc/stat).

import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RecordInput } from '../engine/types.js';
import { SeglogClient } from '../gateway/client/client.js';
import { payloads, type ProcessNoise } from './harness.js';
import { HEADER_BYTES, type ResultMessage, type StartMessage } from './latency-consumer.js';
import {
  LATENCY_RATE_PER_SEC,
  LATENCY_WINDOW_MS_FULL,
  latencyWarmupMs,
  QUICK_LATENCY_WINDOW_MS,
  runSchedule,
  stampValue,
} from './latency-schedule.js';

/** Record objects (and values) reused round robin: a second's worth, so none is reused while queued. */
const LATENCY_POOL_RECORDS = LATENCY_RATE_PER_SEC;
/**
 * How long before the window the parent is told to scrape the server. A scrape disturbed the
 * server's next few hundred ms (the first window second's p99 rose from ~1 to ~2 ms when it came
 * 100 ms before): it must fall in the warm-up, so the server's loop figures cover this last
 * second of the warm-up as well as the window.
 */
const WINDOW_NOTICE_MS = 1000;
const here = path.dirname(fileURLToPath(import.meta.url));
const CONSUMER_JS = path.resolve(here, 'latency-consumer.js');

/** What the producer child reports; the parent adds the server's figures (LatencyResult). */
export interface ProducerLatency extends Omit<ResultMessage, 'type'> {
  expected: number;
  /** How far behind its schedule the sender fell at worst in the window (timer or client stalls). */
  sendLagMaxMs: number;
  producerNoise: ProcessNoise;
  /** The machine over the window: CPU stolen by the hypervisor and CPU busy, % of all cores; null off Linux. */
  machine: { stealPct: number; busyPct: number } | null;
}

/** A latency run's figures: the producer child's, and the server's that the parent scraped around the window. */
export interface LatencyResult extends ProducerLatency {
  /** Server event-loop stalls over the window (its /metrics, less the sampling interval), ms; null when not available. */
  serverLoopDelay: { p50Ms: number; p99Ms: number; maxMs: number } | null;
  /** Server GC pauses in the window: total ms and count; null when not available. */
  serverGc: { totalMs: number; count: number } | null;
}

function startConsumerChild(start: StartMessage, runMs: number): { child: ChildProcess; ready: Promise<void>; result: Promise<ResultMessage> } {
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
  const result = ready.then(() => message('result', runMs + 20_000) as Promise<ResultMessage>);
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

/**
 * One run. `onWindow` is called once, shortly before the window starts (the parent scrapes the
 * server's metrics then, so the scrape resets its loop-delay histogram in the warm-up).
 */
export async function latency(url: string, recordBytes: number, quick = false, onWindow: () => void = () => {}): Promise<ProducerLatency> {
  const rate = LATENCY_RATE_PER_SEC;
  const warmupMs = latencyWarmupMs(quick);
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
    consumer = startConsumerChild({ type: 'start', url, topic, warmupRecords, measuredRecords, recordsPerSec: rate }, warmupMs + windowMs);
    await consumer.ready;
    const pool: RecordInput[] = payloads(LATENCY_POOL_RECORDS, recordBytes).map((value) => ({ value }));
    const producer = client.producer({ lingerMs: 0 });
    let acked = 0;
    let failure: unknown = null;
    const onAck = (): void => void acked++;
    const onFail = (e: unknown): void => void (failure ??= e);
    let windowCalled = false;
    const sending = await runSchedule({
      total,
      warmupRecords,
      unackedMax: LATENCY_POOL_RECORDS,
      deadlineMs: warmupMs + windowMs + 2000,
      onTick: (elapsedMs) => {
        if (!windowCalled && elapsedMs >= warmupMs - WINDOW_NOTICE_MS) {
          windowCalled = true;
          onWindow();
        }
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

/** Child → parent: 'window' shortly before the window starts, then the result or the error. */
export type ProducerReply = { type: 'window' } | { type: 'result'; result: ProducerLatency } | { type: 'error'; message: string };

// Only when started as the child (not when imported for its types).
if (process.send !== undefined && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('message', (m: ProducerStartMessage) => {
    latency(m.url, m.recordBytes, m.quick, () => process.send!({ type: 'window' } satisfies ProducerReply)).then(
      (result) => process.send!({ type: 'result', result } satisfies ProducerReply, () => process.disconnect()),
      (e: unknown) => process.send!({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies ProducerReply, () => process.disconnect()),
    );
  });
}
