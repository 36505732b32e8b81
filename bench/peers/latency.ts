// Produce→deliver latency of a peer, measured as seglog's is (bench/README.md "Latency"): the
// server, a producer child and a consumer child, three processes. The producer sends a steady
// 20,000 records/s on an absolute schedule (a timer about every millisecond sends what is due), each
// value carrying its send time on the shared monotonic clock and a sequence number; the consumer
// subtracts on receipt. Warm-up, then the window; p50/p99/p99.9/max of the window's records.
//
// This file is both the parent's side (peerLatency) and the child's (run as a forked process).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trackChild } from '../children.js';
import { payloads, result, type BenchResult, type LatencyFigures, type ProcessNoise } from '../harness.js';
import { HEADER_BYTES, LatencySamples, formatP99BySecond, formatWarmupP99 } from '../latency-consumer.js';
import {
  LATENCY_RATE_PER_SEC,
  LATENCY_WINDOW_MS_FULL,
  latencyWarmupMs,
  QUICK_LATENCY_WINDOW_MS,
  runSchedule,
  stampValue,
} from '../latency-schedule.js';
import { LATENCY_TRANSPORTS, type LatencySystem, type PeerAddress } from './latency-transports.js';

/** Values reused round robin: a second's worth, so none is reused while it may still be queued. */
const POOL_RECORDS = LATENCY_RATE_PER_SEC;
/** After the producer's last ack: how long the consumer may still take to receive the rest. */
const FINISH_WAIT_MS = 5000;
/** Child start and readiness; the whole run (warm-up + window + this). */
const READY_TIMEOUT_MS = 15_000;
const RUN_SLACK_MS = 30_000;
const ACK_WAIT_MS = 10_000;
/** Values in one sendBatch request at most (a late tick holds more; Kafka refuses requests over 1 MiB). */
const SEND_BATCH_VALUES_MAX = 200;
const SELF = fileURLToPath(import.meta.url);

interface ConsumeMessage {
  type: 'consume';
  system: LatencySystem;
  address: PeerAddress;
  warmupRecords: number;
  measuredRecords: number;
}
interface ProduceMessage {
  type: 'produce';
  system: LatencySystem;
  address: PeerAddress;
  recordBytes: number;
  warmupRecords: number;
  measuredRecords: number;
}
interface ConsumerResult extends LatencyFigures {
  type: 'result';
  count: number;
  maxMs: number;
  p99BySecondMs: number[];
  warmupP99Ms: number;
  noise: ProcessNoise;
}
interface ProducerResult {
  type: 'sent';
  sendLagMaxMs: number;
  noise: ProcessNoise;
  /** The machine over the window (CPU busy and stolen, % of all cores); null off Linux. */
  machine: { stealPct: number; busyPct: number } | null;
}
type ChildReply = { type: 'ready' } | ConsumerResult | ProducerResult | { type: 'error'; message: string };

export interface PeerLatency extends LatencyFigures {
  count: number;
  expected: number;
  maxMs: number;
  p99BySecondMs: number[];
  warmupP99Ms: number;
  sendLagMaxMs: number;
  producerNoise: ProcessNoise;
  consumerNoise: ProcessNoise;
  machine: { stealPct: number; busyPct: number } | null;
}

// --- parent side --------------------------------------------------------------------------------

function startChild(): { child: ChildProcess; next: (type: ChildReply['type'], ms: number) => Promise<ChildReply> } {
  const child = trackChild(fork(SELF, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  child.on('error', () => undefined); // an IPC error shows as a missing reply (bounded wait below)
  const replies: ChildReply[] = [];
  let waiter: (() => void) | null = null;
  let exited = false;
  child.on('message', (m: ChildReply) => {
    replies.push(m);
    waiter?.();
  });
  child.once('exit', () => {
    exited = true;
    waiter?.();
  });
  const next = async (type: ChildReply['type'], ms: number): Promise<ChildReply> => {
    const deadline = performance.now() + ms;
    for (;;) {
      const i = replies.findIndex((r) => r.type === type || r.type === 'error');
      if (i >= 0) {
        const r = replies.splice(i, 1)[0]!;
        if (r.type === 'error') throw new Error(r.message);
        return r;
      }
      if (exited) throw new Error(`latency child exited before '${type}'`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`latency child: no '${type}' within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waiter = null;
    }
  };
  return { child, next };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  if (child.connected) child.disconnect();
  await exited;
  clearTimeout(timer);
}

/** One latency run of `system` at `address` (its stream or subject fresh for this run). */
export async function peerLatency(system: LatencySystem, address: PeerAddress, recordBytes: number, quick: boolean): Promise<PeerLatency> {
  if (recordBytes < HEADER_BYTES) throw new Error(`latency: records need at least ${HEADER_BYTES} bytes`);
  const warmupMs = latencyWarmupMs(quick);
  const windowMs = quick ? QUICK_LATENCY_WINDOW_MS : LATENCY_WINDOW_MS_FULL;
  const warmupRecords = Math.floor((warmupMs / 1000) * LATENCY_RATE_PER_SEC);
  const measuredRecords = Math.floor((windowMs / 1000) * LATENCY_RATE_PER_SEC);
  await LATENCY_TRANSPORTS[system].prepare(address);
  const consumer = startChild();
  const producer = startChild();
  try {
    consumer.child.send({ type: 'consume', system, address, warmupRecords, measuredRecords } satisfies ConsumeMessage);
    await consumer.next('ready', READY_TIMEOUT_MS);
    producer.child.send({ type: 'produce', system, address, recordBytes, warmupRecords, measuredRecords } satisfies ProduceMessage);
    const sent = (await producer.next('sent', READY_TIMEOUT_MS + warmupMs + windowMs + RUN_SLACK_MS)) as ProducerResult;
    // The consumer may be done already (it had every record before the last ack came back).
    if (consumer.child.connected) consumer.child.send({ type: 'finish' });
    const got = (await consumer.next('result', FINISH_WAIT_MS + RUN_SLACK_MS)) as ConsumerResult;
    return {
      p50Ms: got.p50Ms,
      p99Ms: got.p99Ms,
      p999Ms: got.p999Ms,
      maxMs: got.maxMs,
      p99BySecondMs: got.p99BySecondMs,
      warmupP99Ms: got.warmupP99Ms,
      count: got.count,
      expected: measuredRecords,
      sendLagMaxMs: sent.sendLagMaxMs,
      producerNoise: sent.noise,
      consumerNoise: got.noise,
      machine: sent.machine,
    };
  } finally {
    await Promise.all([stopChild(consumer.child), stopChild(producer.child)]);
  }
}

/** The table row of one latency run, its noise figures in the note (as seglog's). */
export function peerLatencyResult(suite: string, system: LatencySystem, recordBytes: number, l: PeerLatency, windowS: number): BenchResult {
  const ms = (x: number): string => x.toFixed(2);
  const p = l.producerNoise;
  const c = l.consumerNoise;
  const note =
    `p50 ${ms(l.p50Ms)} · p99 ${ms(l.p99Ms)} · p999 ${ms(l.p999Ms)} · max ${ms(l.maxMs)} ms · ${formatP99BySecond(l.p99BySecondMs)} · ${formatWarmupP99(l.warmupP99Ms)} · ${l.count}/${l.expected} records · ` +
    `producer/consumer: CPU ${p.cpuPct.toFixed(0)}/${c.cpuPct.toFixed(0)}% of a core, loop stall max ${ms(p.loopDelayMaxMs)}/${ms(c.loopDelayMaxMs)} ms, ` +
    `GC max ${ms(p.gcMaxMs)}/${ms(c.gcMaxMs)} ms, send lag max ${ms(l.sendLagMaxMs)} ms` +
    (l.machine === null ? '' : ` · machine: CPU busy ${l.machine.busyPct.toFixed(0)}%, stolen ${l.machine.stealPct.toFixed(1)}%`);
  const operation = `produce→deliver latency at ${LATENCY_RATE_PER_SEC / 1000}k records/s, ${windowS} s after warm-up`;
  return result(suite, operation, recordBytes, LATENCY_RATE_PER_SEC, note, { system, scenario: 'latency', latency: { p50Ms: l.p50Ms, p99Ms: l.p99Ms, p999Ms: l.p999Ms, p99BySecondMs: l.p99BySecondMs, warmupP99Ms: l.warmupP99Ms } });
}

/** Window length in seconds, as the row names it. */
export function latencyWindowS(quick: boolean): number {
  return (quick ? QUICK_LATENCY_WINDOW_MS : LATENCY_WINDOW_MS_FULL) / 1000;
}

// --- child side ---------------------------------------------------------------------------------

async function consume(m: ConsumeMessage): Promise<ConsumerResult> {
  const samples = new LatencySamples(m.warmupRecords, m.measuredRecords, LATENCY_RATE_PER_SEC);
  let done: () => void = () => undefined;
  const allIn = new Promise<void>((resolve) => (done = resolve));
  const receiver = await LATENCY_TRANSPORTS[m.system].receiver(m.address, (v) => {
    if (samples.add(v)) done();
  });
  process.send!({ type: 'ready' } satisfies ChildReply);
  process.on('message', (msg: { type?: string }) => {
    if (msg.type === 'finish') setTimeout(done, samples.complete ? 0 : FINISH_WAIT_MS);
  });
  await allIn;
  const got = samples.result();
  await receiver.close();
  return { type: 'result', ...got };
}

async function produce(m: ProduceMessage): Promise<ProducerResult> {
  const sender = await LATENCY_TRANSPORTS[m.system].sender(m.address);
  const pool = payloads(POOL_RECORDS, m.recordBytes).map((v) => Buffer.from(v));
  const total = m.warmupRecords + m.measuredRecords;
  let acked = 0;
  let failure: unknown = null;
  const onAck = (): void => void acked++;
  const onFail = (e: unknown): void => void (failure ??= e);
  let tickValues: Buffer[] = [];
  const sending = await runSchedule({
    total,
    warmupRecords: m.warmupRecords,
    unackedMax: POOL_RECORDS,
    deadlineMs: (total / LATENCY_RATE_PER_SEC) * 1000 + RUN_SLACK_MS,
    send: (seq) => {
      const value = pool[seq % POOL_RECORDS]!;
      stampValue(value, seq);
      if (sender.sendBatch !== undefined) tickValues.push(value);
      else sender.send(value).then(onAck, onFail);
    },
    endTick: () => {
      for (let i = 0; i < tickValues.length; i += SEND_BATCH_VALUES_MAX) {
        const chunk = tickValues.slice(i, i + SEND_BATCH_VALUES_MAX);
        sender.sendBatch!(chunk).then(() => void (acked += chunk.length), onFail);
      }
      tickValues = [];
    },
    acked: () => acked,
    failure: () => failure,
  });
  for (const waitUntil = performance.now() + ACK_WAIT_MS; acked < total && failure === null && performance.now() < waitUntil; ) await new Promise((r) => setTimeout(r, 10));
  if (failure !== null) throw failure;
  await sender.close();
  return { type: 'sent', ...sending };
}

if (process.send !== undefined && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('message', (m: ConsumeMessage | ProduceMessage) => {
    const work: Promise<ChildReply> = m.type === 'consume' ? consume(m) : produce(m);
    work.then(
      (reply) => process.send!(reply, () => process.disconnect()),
      (e: unknown) => process.send!({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies ChildReply, () => process.disconnect()),
    );
  });
}
