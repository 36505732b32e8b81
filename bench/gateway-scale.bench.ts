// Memory of `seglog serve` at scale: the server's RSS (anon = heap and buffers; file = mapped pages
// resident) after start, after one record was produced to each of PARTITIONS partitions of one
// topic (on disk: at most maxOpenPartitions logs are open at once, the colder ones closed and
// reopened on use), and with CONNECTIONS clients connected, each subscribed to one partition.
// The clients run in this process; only the server's memory is reported.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SeglogClient } from '../gateway/client/client.js';
import { startServer, stopServer, type Server } from './gateway.bench.js';
import { progress, result, type BenchOptions, type BenchResult } from './harness.js';
import { procMemory } from './restart.bench.js';

const SUITE = 'gateway scale';
const PARTITIONS = 10_000;
const CONNECTIONS = 1_000;
const QUICK_PARTITIONS = 500;
const QUICK_CONNECTIONS = 50;
/** The bench's own admin connection, beside the subscribed clients. */
const ADMIN_CONNECTIONS = 1;
/** Records produced per send() call while filling the partitions (one per partition). */
const SENDS_IN_FLIGHT = 256;
/** Clients connecting at once. */
const CONNECTS_IN_FLIGHT = 50;
/** After the last step: time for the server's heap to settle before its RSS is read. */
const SETTLE_MS = 1000;
const MiB = 1024 * 1024;

function memoryNote(pid: number): string {
  const m = procMemory(pid);
  if (m === null) return 'no /proc here';
  return `RSS ${(m.rss / MiB).toFixed(0)} MiB (anon ${(m.anon / MiB).toFixed(0)}, file ${(m.file / MiB).toFixed(0)})`;
}

export async function runGatewayScaleBench(options: BenchOptions): Promise<BenchResult[]> {
  const partitions = options.quick ? QUICK_PARTITIONS : PARTITIONS;
  const connections = options.quick ? QUICK_CONNECTIONS : CONNECTIONS;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-scale-'));
  const out: BenchResult[] = [];
  let server: Server | null = null;
  const clients: SeglogClient[] = [];
  const row = (step: string): void => {
    out.push(result(SUITE, `seglog serve, ${step}`, 0, 0, memoryNote(server!.child.pid!)));
  };
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, SETTLE_MS));
  try {
    // All clients come from 127.0.0.1: lift the per-address connection limit (default 1,000) above them.
    server = await startServer(['--dir', dir, '--max-connections-per-address', String(connections + ADMIN_CONNECTIONS)]);
    await settle();
    row('after start');
    const admin = await SeglogClient.connect(server.url, { clientId: 'bench-scale', requestTimeoutMs: 60_000 });
    clients.push(admin);
    progress(`create a topic of ${partitions} partitions, one record to each`);
    await admin.createTopic('wide', { partitions });
    const producer = admin.producer({ lingerMs: 0 });
    const inFlight: Promise<unknown>[] = [];
    for (let p = 0; p < partitions; p++) {
      inFlight.push(producer.send('wide', { value: Buffer.alloc(100, p & 0xff) }, { partition: p }));
      if (inFlight.length >= SENDS_IN_FLIGHT) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
    await producer.close();
    await settle();
    row(`${partitions} partitions written`);
    progress(`${connections} clients, each subscribed to one partition`);
    for (let c = 0; c < connections; c += CONNECTS_IN_FLIGHT) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(CONNECTS_IN_FLIGHT, connections - c) }, (_, i) => SeglogClient.connect(server!.url, { clientId: `bench-scale-${c + i}` })),
      );
      clients.push(...batch);
      await Promise.all(batch.map((client, i) => client.subscribe('wide', { partitions: (c + i) % partitions, from: 'latest' }).ready));
    }
    await settle();
    row(`${partitions} partitions written, ${connections} connections subscribed`);
    return out;
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    if (server !== null) await stopServer(server);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
