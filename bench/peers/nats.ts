// NATS (Debian's nats-server with JetStream, file storage, one replica) with the official Node
// client `nats`:
//   - JetStream produce with js.publish (each publish acknowledged by the stream), at most
//     ACKS_IN_FLIGHT unacknowledged — the client's documented API;
//   - JetStream produce with plain publishes carrying a reply inbox, acks counted, same window —
//     what the server takes when the client's per-publish cost is left out;
//   - JetStream replay with a pull consumer (consume(), batches of 1000, no acks);
//   - core NATS publish → subscriber (no storage, no acks): the floor of the transport;
//   - produce→deliver latency of core NATS (the latency floor) and JetStream (acknowledged publishes
//     through a reply inbox → ordered consumer: js.publish tops out below 20k records/s here).
// The server runs on a free loopback port with its store in a temp dir, and is stopped by PID.
import { createRequire } from 'node:module';
import { AckPolicy, connect, DeliverPolicy, StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import { RECORD_SIZES, bytesBound, caseOrError, networkRounds, payloads, result, type BenchOptions, type BenchResult } from '../harness.js';
import { noteVersion } from '../run-info.js';
import { latencyWindowS, peerLatency, peerLatencyResult } from './latency.js';
import { inboxPublisher } from './nats-inbox.js';
import { commandVersion, ensureCommand, startServer, type PeerServer } from './servers.js';

const SUITE = 'nats';
const JETSTREAM = 'NATS JetStream';
const CORE = 'core NATS';
/** Unacknowledged publishes at most (JetStream), and messages a core NATS subscriber may lag behind. */
const ACKS_IN_FLIGHT = 2000;
const CORE_LAG_MAX = 10_000;
/** Payload bytes one produce round may store. */
const ROUND_PAYLOAD_BYTES_MAX = 256 * 1024 * 1024;
/** What the replay rounds read: stored once, at most this many bytes or records. */
const REPLAY_PAYLOAD_BYTES = 128 * 1024 * 1024;
const REPLAY_RECORDS_MAX = 1_000_000;
const PULL_BATCH = 1000;
const POOL_RECORDS = 4096;

let seq = 0;
const freshName = (what: string, recordBytes: number): string => `bench-${what}-${recordBytes}-${seq++}`;

async function addStream(jsm: JetStreamManager, name: string): Promise<void> {
  await jsm.streams.add({ name, subjects: [name], storage: StorageType.File, num_replicas: 1 });
}

/**
 * Sends with `send(i)` (its promise settles on the ack) keeping at most ACKS_IN_FLIGHT unsettled,
 * until `ms` passed or `maxRecords` were sent; then waits for every ack. Acked records per second.
 */
async function windowedRound(ms: number, maxRecords: number, send: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let sent = 0;
  let settled = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const onAck = (): void => {
    settled++;
    wake?.();
  };
  const onFail = (e: unknown): void => {
    failure ??= e;
    onAck();
  };
  while (performance.now() - start < ms && sent < maxRecords && failure === null) {
    while (sent - settled >= ACKS_IN_FLIGHT) await new Promise<void>((r) => (wake = r));
    send(sent++).then(onAck, onFail);
  }
  while (settled < sent) await new Promise<void>((r) => (wake = r));
  if (failure !== null) throw failure;
  return sent / ((performance.now() - start) / 1000);
}

/** core NATS: publish, counted as the subscriber (another connection) receives; records per second received. */
async function coreRound(pub: NatsConnection, subConn: NatsConnection, recordBytes: number, values: Uint8Array[], ms: number, maxRecords: number): Promise<number> {
  const subject = freshName('core', recordBytes);
  let received = 0;
  let wake: (() => void) | null = null;
  const sub = subConn.subscribe(subject, {
    callback: () => {
      received++;
      wake?.();
    },
  });
  await subConn.flush();
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < ms && sent < maxRecords) {
    while (sent - received >= CORE_LAG_MAX) await new Promise<void>((r) => (wake = r));
    pub.publish(subject, values[sent % values.length]!);
    sent++;
  }
  await pub.flush();
  for (const until = performance.now() + 10_000; received < sent && performance.now() < until; ) await new Promise<void>((r) => setTimeout(r, 1));
  const rate = received / ((performance.now() - start) / 1000);
  sub.unsubscribe();
  return rate;
}

/** A pull consumer from the first message, consume() in batches of 1000, until the end or `ms`. */
async function replayRound(nc: NatsConnection, jsm: JetStreamManager, stream: string, total: number, ms: number): Promise<number> {
  const name = `replay-${seq++}`;
  await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All });
  try {
    const consumer = await nc.jetstream().consumers.get(stream, name);
    const start = performance.now();
    const messages = await consumer.consume({ max_messages: PULL_BATCH });
    let n = 0;
    let bytes = 0;
    for await (const m of messages) {
      bytes += m.data.length;
      if (++n >= total || ((n & 0xff) === 0 && performance.now() - start > ms)) break;
    }
    const rate = n / ((performance.now() - start) / 1000);
    messages.stop(); // close() waits for an iterator that `break` already left: it never resolves
    if (bytes === 0) throw new Error('JetStream replay read nothing');
    return rate;
  } finally {
    await jsm.consumers.delete(stream, name).catch(() => undefined);
  }
}

/**
 * SEGLOG_BENCH_NATS_CASES: a subset of `throughput,core-latency,jetstream-latency` (default all), e.g.
 * `core-latency` for the latency floor alone next to `SEGLOG_BENCH_GATEWAY_CASES=latency`.
 */
function natsCases(): Set<string> {
  return new Set((process.env.SEGLOG_BENCH_NATS_CASES ?? 'throughput,core-latency,jetstream-latency').split(','));
}

export async function runNatsPeer(options: BenchOptions): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const cases = natsCases();
  let server: PeerServer | null = null;
  const connections: NatsConnection[] = [];
  try {
    const bin = await ensureCommand('nats-server', 'nats-server', options);
    noteVersion('nats-server', await commandVersion(bin, ['--version']));
    noteVersion('nats (client)', (createRequire(import.meta.url)('nats/package.json') as { version: string }).version);
    server = await startServer('nats', bin, (port, dir) => ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]);
    const s = server;
    const open = async (): Promise<NatsConnection> => {
      const nc = await connect({ servers: `${s.host}:${s.port}`, maxReconnectAttempts: 0 });
      connections.push(nc);
      return nc;
    };
    const nc = await open();
    const nc2 = await open();
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    for (const recordBytes of cases.has('throughput') ? RECORD_SIZES : []) {
      const values = payloads(POOL_RECORDS, recordBytes);
      const maxRecords = Math.floor(bytesBound(options, ROUND_PAYLOAD_BYTES_MAX) / recordBytes);
      const jetStreamRound = (publish: (stream: string) => { send: (i: number) => Promise<unknown>; close: () => void }) => async (ms: number) => {
        const stream = freshName('produce', recordBytes);
        await addStream(jsm, stream);
        const p = publish(stream);
        try {
          return await windowedRound(ms, maxRecords, p.send);
        } finally {
          p.close();
          await jsm.streams.delete(stream);
        }
      };
      out.push(
        await caseOrError(SUITE, { system: JETSTREAM, scenario: 'produce' }, `js.publish, ≤ ${ACKS_IN_FLIGHT} acks in flight`, recordBytes, async () => {
          const rate = await networkRounds(options, jetStreamRound((stream) => ({ send: (i) => js.publish(stream, values[i % POOL_RECORDS]!), close: () => undefined })));
          return result(SUITE, `js.publish (official API), ≤ ${ACKS_IN_FLIGHT} acks in flight, file storage`, recordBytes, rate, undefined, { system: JETSTREAM, scenario: 'produce' });
        }),
      );
      out.push(
        await caseOrError(SUITE, { system: JETSTREAM, scenario: 'produce' }, `publish with reply inbox, ≤ ${ACKS_IN_FLIGHT} acks in flight`, recordBytes, async () => {
          const rate = await networkRounds(
            options,
            jetStreamRound((stream) => {
              const p = inboxPublisher(nc, stream);
              return { send: (i) => p.send(values[i % POOL_RECORDS]!), close: p.close };
            }),
          );
          return result(SUITE, `plain publish with reply inbox, acks counted, ≤ ${ACKS_IN_FLIGHT} in flight, file storage`, recordBytes, rate, undefined, { system: JETSTREAM, scenario: 'produce' });
        }),
      );
      out.push(
        await caseOrError(SUITE, { system: JETSTREAM, scenario: 'replay' }, 'pull consumer replay', recordBytes, async () => {
          const stream = freshName('replay', recordBytes);
          await addStream(jsm, stream);
          try {
            const total = Math.min(REPLAY_RECORDS_MAX, Math.floor(bytesBound(options, REPLAY_PAYLOAD_BYTES) / recordBytes));
            const p = inboxPublisher(nc, stream);
            await windowedRound(Number.POSITIVE_INFINITY, total, (i) => p.send(values[i % POOL_RECORDS]!));
            p.close();
            const rate = await networkRounds(options, (ms) => replayRound(nc, jsm, stream, total, ms));
            return result(SUITE, `pull consumer from the first message, consume() in batches of ${PULL_BATCH}, no acks`, recordBytes, rate, undefined, { system: JETSTREAM, scenario: 'replay' });
          } finally {
            await jsm.streams.delete(stream).catch(() => undefined);
          }
        }),
      );
      out.push(
        await caseOrError(SUITE, { system: CORE, scenario: 'produce' }, 'publish → subscriber', recordBytes, async () => {
          const rate = await networkRounds(options, (ms) => coreRound(nc, nc2, recordBytes, values, ms, maxRecords));
          return result(SUITE, 'publish → subscriber, no storage, no acks', recordBytes, rate, undefined, { system: CORE, scenario: 'produce' });
        }),
      );
    }
    for (const system of [CORE, JETSTREAM] as const) {
      if (!cases.has(system === CORE ? 'core-latency' : 'jetstream-latency')) continue;
      for (const recordBytes of RECORD_SIZES) {
        out.push(
          await caseOrError(SUITE, { system: system, scenario: 'latency' }, 'produce→deliver latency', recordBytes, async () => {
            const l = await peerLatency(system, { host: s.host, port: s.port, name: freshName('latency', recordBytes) }, recordBytes, options.quick);
            return peerLatencyResult(SUITE, system, recordBytes, l, latencyWindowS(options.quick));
          }),
        );
      }
    }
  } finally {
    for (const c of connections) await c.close().catch(() => undefined);
    await server?.stop();
  }
  return out;
}
