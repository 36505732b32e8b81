// Redis Streams (Debian's redis-server, AOF with appendfsync everysec, no RDB snapshots) with
// ioredis, as Redis documents for throughput: XADD in pipelines of 1000 (two pipelines in flight),
// replay with XREAD COUNT 1000 from the first id; and produce→deliver latency (XADD → XREAD BLOCK).
// The server runs on a free loopback port with its data in a temp dir, and is stopped by PID.
import { Redis } from 'ioredis';
import { createRequire } from 'node:module';
import { RECORD_SIZES, bytesBound, caseOrError, networkRounds, payloads, result, type BenchOptions, type BenchResult } from '../harness.js';
import { noteVersion } from '../run-info.js';
import { latencyWindowS, peerLatency, peerLatencyResult } from './latency.js';
import { commandVersion, ensureCommand, startServer, type PeerServer } from './servers.js';

const SUITE = 'redis';
const SYSTEM = 'Redis Streams';
const PIPELINE_RECORDS = 1000;
const PIPELINES_IN_FLIGHT = 2;
/** Payload bytes one produce round may add (the server keeps them in memory). */
const ROUND_PAYLOAD_BYTES_MAX = 256 * 1024 * 1024;
/** What the replay rounds read: stored once, at most this many bytes or records. */
const REPLAY_PAYLOAD_BYTES = 128 * 1024 * 1024;
const REPLAY_RECORDS_MAX = 1_000_000;
const READ_COUNT = 1000;
const POOL_RECORDS = 4096;

async function connectRedis(server: PeerServer): Promise<Redis> {
  const redis = new Redis({ host: server.host, port: server.port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  await redis.connect();
  return redis;
}

let streamSeq = 0;
const freshStream = (recordBytes: number): string => `bench-${recordBytes}-${streamSeq++}`;

/** XADD pipelines of 1000 until `ms` passed or `maxRecords` were sent; records per second acknowledged. */
async function produceRound(redis: Redis, stream: string, values: Buffer[], ms: number, maxRecords: number): Promise<number> {
  const start = performance.now();
  let sent = 0;
  const inFlight: Promise<unknown>[] = [];
  while (performance.now() - start < ms && sent + PIPELINE_RECORDS <= maxRecords) {
    const p = redis.pipeline();
    for (let i = 0; i < PIPELINE_RECORDS; i++) p.xadd(stream, '*', 'v', values[(sent + i) % values.length]!);
    inFlight.push(p.exec());
    sent += PIPELINE_RECORDS;
    if (inFlight.length >= PIPELINES_IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return sent / ((performance.now() - start) / 1000);
}

/** XREAD COUNT 1000 from the first id until the end or `ms`; records per second, every value touched. */
async function replayRound(redis: Redis, stream: string, ms: number): Promise<number> {
  const start = performance.now();
  let lastId = '0';
  let n = 0;
  let bytes = 0;
  for (;;) {
    const res = (await redis.xreadBuffer('COUNT', READ_COUNT, 'STREAMS', stream, lastId)) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
    if (res === null) break;
    const entries = res[0]![1];
    for (const [, fields] of entries) bytes += fields[1]!.length;
    n += entries.length;
    lastId = entries[entries.length - 1]![0].toString();
    if (performance.now() - start > ms) break;
  }
  if (bytes === 0) throw new Error('redis replay read nothing');
  return n / ((performance.now() - start) / 1000);
}

export async function runRedisPeer(options: BenchOptions): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  let server: PeerServer | null = null;
  try {
    const bin = await ensureCommand('redis-server', 'redis-server', options);
    noteVersion('redis-server', await commandVersion(bin, ['--version']));
    noteVersion('ioredis', (createRequire(import.meta.url)('ioredis/package.json') as { version: string }).version);
    server = await startServer('redis', bin, (port, dir) => [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no',
    ]);
    const s = server;
    const redis = await connectRedis(s);
    try {
      for (const recordBytes of RECORD_SIZES) {
        const values = payloads(POOL_RECORDS, recordBytes).map((v) => Buffer.from(v));
        const maxRecords = Math.floor(bytesBound(options, ROUND_PAYLOAD_BYTES_MAX) / recordBytes);
        out.push(
          await caseOrError(SUITE, { system: SYSTEM, scenario: 'produce' }, 'XADD, pipelines of 1000', recordBytes, async () => {
            const rate = await networkRounds(options, async (ms) => {
              const stream = freshStream(recordBytes);
              const r = await produceRound(redis, stream, values, ms, maxRecords);
              await redis.del(stream);
              return r;
            });
            return result(SUITE, 'XADD, pipelines of 1000 (AOF everysec)', recordBytes, rate, undefined, { system: SYSTEM, scenario: 'produce' });
          }),
        );
        out.push(
          await caseOrError(SUITE, { system: SYSTEM, scenario: 'replay' }, 'XREAD COUNT 1000 from the first id', recordBytes, async () => {
            const stream = freshStream(recordBytes);
            const total = Math.min(REPLAY_RECORDS_MAX, Math.floor(bytesBound(options, REPLAY_PAYLOAD_BYTES) / recordBytes));
            await produceRound(redis, stream, values, Number.POSITIVE_INFINITY, Math.max(PIPELINE_RECORDS, total));
            const rate = await networkRounds(options, (ms) => replayRound(redis, stream, ms));
            await redis.del(stream);
            return result(SUITE, 'XREAD COUNT 1000 from the first id', recordBytes, rate, undefined, { system: SYSTEM, scenario: 'replay' });
          }),
        );
      }
    } finally {
      redis.disconnect();
    }
    for (const recordBytes of RECORD_SIZES) {
      out.push(
        await caseOrError(SUITE, { system: SYSTEM, scenario: 'latency' }, 'produce→deliver latency', recordBytes, async () => {
          const l = await peerLatency(SYSTEM, { host: s.host, port: s.port, name: freshStream(recordBytes) }, recordBytes, options.quick);
          return peerLatencyResult(SUITE, SYSTEM, recordBytes, l, latencyWindowS(options.quick));
        }),
      );
    }
  } finally {
    await server?.stop();
  }
  return out;
}
