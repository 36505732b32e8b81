// The gateway over loopback: a real `seglog serve --memory` in a child process, one client (the
// seglog client library) in this process. Produce throughput (acks `written`), replay throughput
// (earliest to the end) and produce→deliver latency at a steady 20k records/s (its consumer in a
// second child process, see the latency section); plus a "raw protocol" client (ws + engine codec,
// no client library) to show what the library costs.
// Every phase is bounded in time and records; the child is killed at the end, even on error.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { batchProblem, batchRecordCount, batchSize, encodeBatch, forEachRecord, type DecodedRecord } from '../engine/record-batch.js';
import type { RecordInput } from '../engine/types.js';
import { SeglogClient } from '../gateway/client/client.js';
import { wsMaskOptions } from '../gateway/client/socket.js';
import { readHeader, FrameType, PROTOCOL_VERSION } from '../gateway/protocol/frame.js';
import { encodeHello } from '../gateway/protocol/hello.js';
import { encodeProduce } from '../gateway/protocol/produce.js';
import { encodeSubscribe } from '../gateway/protocol/subscribe.js';
import { encodeCredit } from '../gateway/protocol/subscribe.js';
import { trackChild } from './children.js';
import { SERVE_NODE_FLAGS } from '../gateway/cli/serve-node-flags.js';
import {
  RECORD_SIZES,
  bytesBound,
  caseOrError,
  clientCpuNote,
  errorResult,
  networkRounds as rounds,
  payloads,
  result,
  roundClock,
  type BenchOptions,
  type BenchResult,
  type RoundFigures,
  type Scenario,
} from './harness.js';
import { LATENCY_RATE_PER_SEC, LATENCY_WARMUP_MS_MAX, LATENCY_WINDOW_MS_FULL, QUICK_LATENCY_WINDOW_MS } from './latency-schedule.js';
import { formatP99BySecond, formatWarmupP99 } from './latency-consumer.js';
import type { LatencyResult, ProducerLatency, ProducerReply, ProducerStartMessage } from './latency-producer.js';
import { scrapeServer, type ServerScrape } from './server-scrape.js';

const SUITE = 'gateway';
const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '../gateway/cli/cli.js');
/** Payload bytes one produce round may store (the server keeps everything in memory). */
const ROUND_PAYLOAD_BYTES_MAX = 384 * 1024 * 1024;
/** Payload bytes stored once for the replay rounds. */
const REPLAY_PAYLOAD_BYTES = 256 * 1024 * 1024;
const CHUNK_RECORDS = 8192;
const POOL_RECORDS = 4096;

export interface Server {
  url: string;
  child: ChildProcess;
  /** Its Kafka listener, when started with `--kafka`. */
  kafka: { host: string; port: number } | null;
}

/** `seglog serve` in a child process on a free loopback port (in memory, topics created on first use, unless `serveArgs` say otherwise). */
export async function startServer(serveArgs: string[] = ['--memory', '--auto-create']): Promise<Server> {
  const child = trackChild(spawn(process.execPath, [...SERVE_NODE_FLAGS, CLI, 'serve', ...serveArgs, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d.toString();
  });
  let kafka: Server['kafka'] = null;
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 10 s: ${stderr}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (ws:\/\/\S+)[^\n]*\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        // The CLI prints an IPv6 host in brackets: [::1]:9092.
        const k = /Kafka protocol on (?:\[([^\]]+)\]|([^\s:;)]+)):(\d+)/.exec(m[0]);
        if (k !== null) kafka = { host: k[1] ?? k[2]!, port: Number(k[3]) };
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening: ${stderr}`));
    });
  });
  return { url, child, kafka };
}

export async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => s.child.once('exit', () => resolve()));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

let topicSeq = 0;
async function freshTopic(client: SeglogClient, recordBytes: number): Promise<string> {
  const name = `bench-${recordBytes}-${process.pid}-${topicSeq++}`;
  await client.createTopic(name, { partitions: 1 });
  return name;
}

function recordPool(recordBytes: number): RecordInput[] {
  return payloads(POOL_RECORDS, recordBytes).map((value) => ({ value }));
}

/** Library: one `send()` per record, at most two chunks unacknowledged. */
async function producePerRecord(client: SeglogClient, recordBytes: number, ms: number, options: BenchOptions): Promise<RoundFigures> {
  const topic = await freshTopic(client, recordBytes);
  const pool = recordPool(recordBytes);
  const producer = client.producer({ lingerMs: 0 });
  const maxRecords = Math.floor(bytesBound(options, ROUND_PAYLOAD_BYTES_MAX) / recordBytes);
  const clock = roundClock();
  const deadline = clock.start + ms;
  let sent = 0;
  let previous: Promise<unknown> = Promise.resolve();
  while (performance.now() < deadline && sent + CHUNK_RECORDS <= maxRecords) {
    let last: Promise<unknown> = previous;
    for (let i = 0; i < CHUNK_RECORDS; i++) last = producer.send(topic, pool[(sent + i) % POOL_RECORDS]!);
    last.catch(() => {}); // awaited below
    sent += CHUNK_RECORDS;
    await previous;
    previous = last;
  }
  await previous;
  await producer.close();
  const rate = clock.done(sent);
  await client.deleteTopic(topic);
  return rate;
}

/** Records per bulk call: as many as fit in one batch of the server's default 1 MiB limit. */
function bulkRecords(recordBytes: number): number {
  return Math.min(CHUNK_RECORDS, Math.floor(900_000 / (recordBytes + 12) / 64) * 64);
}

/** Library: the bulk API, one call per bulkRecords(), at most two calls unacknowledged. */
async function produceBulk(client: SeglogClient, recordBytes: number, ms: number, options: BenchOptions): Promise<RoundFigures> {
  const topic = await freshTopic(client, recordBytes);
  const pool = recordPool(recordBytes);
  const perCall = bulkRecords(recordBytes);
  const chunks: RecordInput[][] = [];
  for (let c = 0; c < 4; c++) chunks.push(Array.from({ length: perCall }, (_, i) => pool[(c * perCall + i) % POOL_RECORDS]!));
  const producer = client.producer({ lingerMs: 0 });
  const maxRecords = Math.floor(bytesBound(options, ROUND_PAYLOAD_BYTES_MAX) / recordBytes);
  const clock = roundClock();
  const deadline = clock.start + ms;
  let sent = 0;
  let previous: Promise<unknown> = Promise.resolve();
  const bulk = (producer as unknown as { sendBatch?: (t: string, r: RecordInput[]) => Promise<unknown> }).sendBatch;
  for (let c = 0; performance.now() < deadline && sent + perCall <= maxRecords; c++) {
    const records = chunks[c % chunks.length]!;
    const last = bulk !== undefined ? bulk.call(producer, topic, records) : producer.send(topic, records);
    last.catch(() => {}); // awaited below; this only keeps an early failure from being unhandled
    sent += perCall;
    await previous;
    previous = last;
  }
  await previous;
  await producer.close();
  const rate = clock.done(sent);
  await client.deleteTopic(topic);
  return rate;
}

/** Fills a topic for the replay rounds (bulk produce). Returns the record count. */
async function fill(client: SeglogClient, topic: string, recordBytes: number, options: BenchOptions): Promise<number> {
  const pool = recordPool(recordBytes);
  const records = Array.from({ length: CHUNK_RECORDS }, (_, i) => pool[i % POOL_RECORDS]!);
  const producer = client.producer({ lingerMs: 0 });
  const total = Math.max(1, Math.floor(bytesBound(options, REPLAY_PAYLOAD_BYTES) / recordBytes / CHUNK_RECORDS)) * CHUNK_RECORDS;
  let previous: Promise<unknown> = Promise.resolve();
  for (let sent = 0; sent < total; sent += CHUNK_RECORDS) {
    const last = producer.send(topic, records);
    await previous;
    previous = last;
  }
  await previous;
  await producer.close();
  return total;
}

/** Library: subscribe from earliest and iterate to the end (or the round's time). */
async function replayLibrary(client: SeglogClient, topic: string, ms: number): Promise<RoundFigures> {
  const clock = roundClock();
  const deadline = clock.start + ms;
  let n = 0;
  let bytes = 0;
  const consumer = client.subscribe(topic, { from: 'earliest', stopAtEnd: true });
  for await (const r of consumer) {
    bytes += r.value!.byteLength; // touch every value, as an application would
    if ((++n & 0xfff) === 0 && performance.now() > deadline) break;
  }
  if (bytes === 0) throw new Error('replay read nothing');
  return clock.done(n);
}

/** Library: the same replay through consumer.batches(), one array (one promise) per record batch. */
async function replayLibraryBatches(client: SeglogClient, topic: string, ms: number): Promise<RoundFigures> {
  const clock = roundClock();
  const deadline = clock.start + ms;
  let n = 0;
  let bytes = 0;
  const consumer = client.subscribe(topic, { from: 'earliest', stopAtEnd: true });
  for await (const records of consumer.batches()) {
    for (let i = 0; i < records.length; i++) bytes += records[i]!.value!.byteLength; // touch every value
    n += records.length;
    if (performance.now() > deadline) break;
  }
  if (bytes === 0) throw new Error('replay read nothing');
  return clock.done(n);
}

// --- raw protocol: ws + the engine's codec, no client library ---------------------------------

interface RawConnection {
  ws: WebSocket;
  onFrame: (type: number, id: number, body: Uint8Array) => void;
}

/** Largest message the raw client accepts (a DELIVER is at most a few MiB; this only must not bind). */
const RAW_MAX_PAYLOAD_BYTES = 512 * 1024 * 1024;

/**
 * The raw client's socket, its frames masked as the client library's would be to the same URL
 * (frameMasking 'auto': a zero key on loopback or wss://), so raw and library rows differ by the
 * library alone, not by `ws` XOR-ing and copying every raw frame.
 */
export function rawSocket(url: string): WebSocket {
  return new WebSocket(url, { perMessageDeflate: false, maxPayload: RAW_MAX_PAYLOAD_BYTES, ...wsMaskOptions(url) });
}

async function rawConnect(url: string): Promise<RawConnection> {
  const ws = rawSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const conn: RawConnection = { ws, onFrame: () => {} };
  ws.on('message', (data: Buffer) => {
    const { header } = readHeader(data);
    conn.onFrame(header.type, header.id, data.subarray(5));
  });
  await new Promise<void>((resolve) => {
    conn.onFrame = (type) => {
      if (type !== FrameType.HELLO_OK) throw new Error(`raw: expected HELLO_OK, got ${type}`);
      resolve();
    };
    ws.send(encodeHello(1, { minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, flags: 0, clientId: 'bench-raw' }));
  });
  return conn;
}

/** Raw: batches of 1000 encoded by the engine's codec (native CRC), ≤ 32 PRODUCEs in flight. */
async function produceRaw(url: string, client: SeglogClient, recordBytes: number, ms: number, options: BenchOptions): Promise<RoundFigures> {
  const topic = await freshTopic(client, recordBytes);
  const pool = recordPool(recordBytes);
  const conn = await rawConnect(url);
  const perBatch = 1000;
  const maxRecords = Math.floor(bytesBound(options, ROUND_PAYLOAD_BYTES_MAX) / recordBytes);
  let inFlight = 0;
  let acked = 0;
  let wake: (() => void) | null = null;
  conn.onFrame = (type) => {
    if (type !== FrameType.PRODUCE_ACK) throw new Error(`raw: expected PRODUCE_ACK, got ${type}`);
    inFlight--;
    acked += perBatch;
    wake?.();
  };
  const clock = roundClock();
  const deadline = clock.start + ms;
  let sent = 0;
  let id = 2;
  while (performance.now() < deadline && sent + perBatch <= maxRecords) {
    while (inFlight >= 32) await new Promise<void>((r) => (wake = r));
    const records = [];
    for (let i = 0; i < perBatch; i++) records.push(pool[(sent + i) % POOL_RECORDS]!);
    conn.ws.send(encodeProduce(id++, { topic, partition: 0, acks: 'written', batch: encodeBatch(records) }));
    inFlight++;
    sent += perBatch;
  }
  for (let i = 0; i < 10_000 && inFlight > 0; i++) await new Promise<void>((r) => (wake = r));
  const rate = clock.done(acked);
  conn.ws.close();
  await client.deleteTopic(topic);
  return rate;
}

/**
 * Raw: SUBSCRIBE from earliest; records counted from batch headers (no decoding), or with `decode`
 * what a raw-protocol client that reads its records pays at least: each batch's CRC checked and
 * every record decoded in place (forEachRecord, zero-copy views) with its value touched, as the
 * library rows touch theirs.
 */
async function replayRaw(url: string, topic: string, total: number, ms: number, decode = false): Promise<RoundFigures> {
  const conn = await rawConnect(url);
  const windowBytes = 8 * 1024 * 1024;
  let touched = 0;
  const touchValue = (r: DecodedRecord): void => void (touched += r.value!.byteLength);
  const clock = roundClock();
  const deadline = clock.start + ms;
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms + 5000);
    conn.onFrame = (type, _id, body) => {
      if (type === FrameType.SUBSCRIBED) return;
      if (type !== FrameType.DELIVER) return reject(new Error(`raw: unexpected frame ${type}`));
      for (let pos = 4; pos < body.byteLength; pos += batchSize(body, pos)) {
        if (!decode) {
          n += batchRecordCount(body, pos);
          continue;
        }
        const problem = batchProblem(body, pos, body.byteLength);
        if (problem !== null) return reject(new Error(`raw: bad batch: ${problem}`));
        n += forEachRecord(body, touchValue, 0, pos);
      }
      conn.ws.send(encodeCredit(2, body.byteLength - 4));
      if (n >= total || performance.now() > deadline) {
        clearTimeout(timer);
        resolve();
      }
    };
    conn.ws.send(encodeSubscribe(2, { topic, partitions: [0], start: 'earliest', group: '', resume: [], creditBytes: windowBytes }));
  });
  const rate = clock.done(n);
  conn.ws.close();
  if (decode && n > 0 && touched === 0) throw new Error('raw replay decoded no value');
  return rate;
}

// --- latency -----------------------------------------------------------------------------------
// The producer (latency-producer.ts) and the consumer (latency-consumer.ts) each run in a child
// process of their own; see latency-producer.ts for how it is measured.

const PRODUCER_JS = path.resolve(here, 'latency-producer.js');
/** The producer child's whole run (start-up, warm-up, window, the last acks) at most. */
const PRODUCER_RESULT_WAIT_MS = 60_000 + LATENCY_WARMUP_MS_MAX;

/**
 * One latency run in a fresh producer child: its result, or an error after a bounded wait. This
 * process scrapes the server's /metrics: once before the run (a server's first HTTP request makes
 * the hot stream functions polymorphic, and their deoptimisation and recompiling raised the next
 * seconds' p99: start-up, not steady state; bench/README.md "Latency"), then when the child says
 * the window is about to start, and after the result.
 */
async function latency(url: string, recordBytes: number, quick: boolean): Promise<LatencyResult> {
  await scrapeServer(url);
  const child = trackChild(fork(PRODUCER_JS, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    let before: Promise<ServerScrape | null> = Promise.resolve(null);
    const produced = await new Promise<ProducerLatency>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`latency producer: no result within ${PRODUCER_RESULT_WAIT_MS / 1000} s`)), PRODUCER_RESULT_WAIT_MS);
      child.on('message', (m: ProducerReply) => {
        if (m.type === 'window') {
          before = scrapeServer(url);
          return;
        }
        clearTimeout(timer);
        if (m.type === 'result') resolve(m.result);
        else reject(new Error(`latency producer failed: ${m.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`latency producer exited (${code ?? signal}) before reporting`));
      });
      child.send({ type: 'start', url, recordBytes, quick } satisfies ProducerStartMessage);
    });
    const after = await scrapeServer(url);
    const start = await before;
    return {
      ...produced,
      serverLoopDelay: after?.loop ?? null,
      serverGc: after !== null && start !== null ? { totalMs: after.gcTotalMs - start.gcTotalMs, count: after.gcCount - start.gcCount } : null,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    }
  }
}

/** The result and, next to it, what tells server stalls from client or machine noise. */
function latencyNote(l: LatencyResult): string {
  const ms = (x: number): string => x.toFixed(2);
  const parts = [`p50 ${ms(l.p50Ms)} · p99 ${ms(l.p99Ms)} · p999 ${ms(l.p999Ms)} · max ${ms(l.maxMs)} ms`, formatP99BySecond(l.p99BySecondMs), formatWarmupP99(l.warmupP99Ms), `${l.count}/${l.expected} records`];
  const loop = l.serverLoopDelay;
  const gc = l.serverGc === null ? '' : `, GC ${ms(l.serverGc.totalMs)} ms in ${l.serverGc.count} pauses`;
  parts.push(loop === null ? 'server: n/a' : `server: loop stall p99 ${ms(loop.p99Ms)} max ${ms(loop.maxMs)} ms${gc}`);
  const p = l.producerNoise;
  const c = l.noise;
  parts.push(`producer/consumer: CPU ${p.cpuPct.toFixed(0)}/${c.cpuPct.toFixed(0)}% of a core, loop stall p99 ${ms(p.loopDelayP99Ms)}/${ms(c.loopDelayP99Ms)} max ${ms(p.loopDelayMaxMs)}/${ms(c.loopDelayMaxMs)} ms, GC max ${ms(p.gcMaxMs)}/${ms(c.gcMaxMs)} ms, send lag max ${ms(l.sendLagMaxMs)} ms`);
  if (l.machine !== null) parts.push(`machine: CPU busy ${l.machine.busyPct.toFixed(0)}%, stolen ${l.machine.stealPct.toFixed(1)}%`);
  return parts.join(' · ');
}

/**
 * SEGLOG_BENCH_GATEWAY_CASES: comma-separated subset of produce,bulk,raw-produce,replay,raw-replay,
 * latency (default all). SEGLOG_BENCH_LATENCY_RUNS: latency runs per record size (default 1, at most
 * 5; each about 7 s). SEGLOG_BENCH_GATEWAY_URL: use a running gateway (for profiling it)
 * instead of starting one.
 */
function latencyRuns(): number {
  const n = Number(process.env.SEGLOG_BENCH_LATENCY_RUNS ?? 1);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 5) : 1;
}

export async function runGatewayBench(options: BenchOptions): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const wanted = new Set((process.env.SEGLOG_BENCH_GATEWAY_CASES ?? 'produce,bulk,raw-produce,replay,raw-replay,latency').split(','));
  const sizes = process.env.SEGLOG_BENCH_GATEWAY_SIZES?.split(',').map(Number) ?? (options.quick ? [RECORD_SIZES[0]] : RECORD_SIZES);
  const external = process.env.SEGLOG_BENCH_GATEWAY_URL;
  // A failing case gives a row with its error and the suite goes on with the next one.
  const attempt = (operation: string, recordBytes: number, fn: () => Promise<BenchResult>, scenario?: Scenario): Promise<BenchResult> =>
    caseOrError(SUITE, { system: 'seglog', scenario }, operation, recordBytes, fn);
  // Latency first, each run on a fresh server, from a process that has done nothing yet: the
  // throughput cases leave hundreds of MB of garbage (and deleted topics) in both heaps, whose
  // collection would land in the latency window. Reported after each size's throughput cases.
  const latencyResults = new Map<number, BenchResult[]>();
  if (wanted.has('latency')) {
    const windowS = (options.quick ? QUICK_LATENCY_WINDOW_MS : LATENCY_WINDOW_MS_FULL) / 1000;
    const operation = `produce→deliver latency at ${LATENCY_RATE_PER_SEC / 1000}k records/s, ${windowS} s after warm-up`;
    for (const recordBytes of sizes) {
      const list: BenchResult[] = [];
      for (let run = 0; run < latencyRuns(); run++) {
        list.push(
          await attempt(operation, recordBytes, async () => {
            const own = external === undefined ? await startServer() : null;
            try {
              const l = await latency(own?.url ?? external!, recordBytes, options.quick);
              const figures = { p50Ms: l.p50Ms, p99Ms: l.p99Ms, p999Ms: l.p999Ms, p99BySecondMs: l.p99BySecondMs, warmupP99Ms: l.warmupP99Ms };
              return result(SUITE, operation, recordBytes, LATENCY_RATE_PER_SEC, latencyNote(l), { system: 'seglog', scenario: 'latency', reference: run === 0, latency: figures });
            } finally {
              if (own !== null) await stopServer(own);
            }
          }, 'latency'),
        );
      }
      latencyResults.set(recordBytes, list);
    }
  }
  const throughput = ['produce', 'bulk', 'raw-produce', 'replay', 'raw-replay'].some((c) => wanted.has(c));
  if (!throughput) return [...latencyResults.values()].flat();
  let server: { url: string; child: ChildProcess | null } | null = null;
  let client: SeglogClient | null = null;
  try {
    server = external !== undefined ? { url: external, child: null } : await startServer();
    client = await SeglogClient.connect(server.url, { clientId: 'bench', requestTimeoutMs: 60_000 });
    const c = client;
    const url = server.url;
    const hasBulk = typeof (c.producer() as unknown as { sendBatch?: unknown }).sendBatch === 'function';
    const produce = { system: 'seglog', scenario: 'produce' } as const;
    const replay = { system: 'seglog', scenario: 'replay' } as const;
    for (const recordBytes of sizes) {
      // Every case here is client-side work in this process: its CPU per record goes in the note.
      const rate = async (operation: string, round: (ms: number) => Promise<RoundFigures>, compare: Parameters<typeof result>[5]): Promise<void> => {
        out.push(
          await attempt(
            operation,
            recordBytes,
            async () => {
              const rates = await rounds(options, round);
              return result(SUITE, operation, recordBytes, rates, clientCpuNote(rates), compare);
            },
            compare?.scenario,
          ),
        );
      };
      if (wanted.has('produce')) await rate('produce, send() per record', (ms) => producePerRecord(c, recordBytes, ms, options), produce);
      if (wanted.has('bulk')) {
        const name = hasBulk ? `produce, sendBatch() of ${bulkRecords(recordBytes)}` : `produce, send() of arrays of ${bulkRecords(recordBytes)}`;
        await rate(name, (ms) => produceBulk(c, recordBytes, ms, options), { ...produce, reference: true });
      }
      if (wanted.has('raw-produce')) await rate('produce, raw protocol (batches of 1000)', (ms) => produceRaw(url, c, recordBytes, ms, options), produce);
      if (wanted.has('replay') || wanted.has('raw-replay')) {
        let topic = '';
        let total = 0;
        const filled = await attempt('replay: fill the topic', recordBytes, async () => {
          topic = await freshTopic(c, recordBytes);
          total = await fill(c, topic, recordBytes, options);
          return result(SUITE, 'replay: fill the topic', recordBytes, 0);
        });
        if (filled.error !== undefined) out.push(filled);
        else {
          if (wanted.has('replay')) {
            await rate('replay, subscribe from earliest', (ms) => replayLibrary(c, topic, ms), replay);
            await rate('replay, subscribe batches (consumer.batches())', (ms) => replayLibraryBatches(c, topic, ms), { ...replay, reference: true });
          }
          if (wanted.has('raw-replay')) {
            await rate('replay, raw protocol (no decoding)', (ms) => replayRaw(url, topic, total, ms), replay);
            await rate('replay, raw protocol, CRC check + forEachRecord', (ms) => replayRaw(url, topic, total, ms, true), replay);
          }
          await c.deleteTopic(topic).catch(() => {});
        }
      }
      out.push(...(latencyResults.get(recordBytes) ?? []));
    }
  } catch (e) {
    out.push(errorResult(SUITE, 'gateway throughput cases', 0, e, 'seglog'));
    for (const list of latencyResults.values()) out.push(...list.filter((r) => !out.includes(r)));
  } finally {
    await client?.close().catch(() => {});
    if (server?.child != null) await stopServer(server as Server);
  }
  return out;
}
