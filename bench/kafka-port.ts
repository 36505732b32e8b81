// The Kafka port against the WebSocket gateway, one server, one run (records/s):
//   npm run build && node dist/bench/kafka-port.js [records=100000]
// - kcat (librdkafka) produce (-P, one record per line, -z lz4) and consume (-C -e) at 100 B and 1 KiB;
// - kafkajs produce (batches of 1000, acks 1) and consume (a consumer group reading from the start);
// - the seglog client over the WebSocket gateway: sendBatch (batches of 1000) and consumer.batches().
// Values are printable bytes (kcat splits input on newlines). Servers on 127.0.0.1, in memory.
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { Engine } from '../engine/index.js';
import { SeglogClient } from '../gateway/client/client.js';
import { GatewayServer } from '../gateway/server/server.js';

const RECORDS = Number(process.argv[2] ?? 100_000);
const BATCH = 1000;
/** Any run longer than this is cut (a stuck peer must not hang the bench). */
const RUN_TIMEOUT_MS = 120_000;

function kcat(args: string[], input?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let lines = 0;
    child.stdout!.on('data', (d: Buffer) => {
      for (const b of d) if (b === 10) lines++;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(lines);
      else reject(new Error(`kcat ${args.join(' ')} exited ${code}`));
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return RECORDS / (Number(process.hrtime.bigint() - started) / 1e9);
}

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1000)}k`);

const engine = await Engine.open({ memory: true, segmentBytes: 256 * 1024 * 1024 });
const server = await GatewayServer.start({ engine, host: '127.0.0.1', port: 0, log: () => {}, kafka: { host: '127.0.0.1', port: 0 } });
const broker = `127.0.0.1:${server.kafka!.port}`;
try {
  for (const size of [100, 1024]) {
    const value = Buffer.alloc(size, 'a'.charCodeAt(0));
    const line = Buffer.concat([value, Buffer.from('\n')]);
    const rows: string[] = [];

    const kt = `kcat-${size}`;
    await engine.createTopic(kt, { partitions: 1 });
    const input = Buffer.concat(Array.from({ length: RECORDS }, () => line));
    rows.push(`kcat produce ${fmt(await timed(() => kcat(['-b', broker, '-P', '-t', kt, '-p', '0', '-z', 'lz4', '-X', 'linger.ms=5'], input)))}`);
    let got = 0;
    rows.push(`kcat consume ${fmt(await timed(async () => (got = await kcat(['-b', broker, '-C', '-t', kt, '-p', '0', '-o', 'beginning', '-e', '-q']))))}`);
    if (got !== RECORDS) throw new Error(`kcat consumed ${got} of ${RECORDS}`);

    const jt = `kafkajs-${size}`;
    await engine.createTopic(jt, { partitions: 1 });
    const kafka = new Kafka({ brokers: [broker], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const messages = Array.from({ length: BATCH }, () => ({ value }));
    rows.push(`kafkajs produce ${fmt(await timed(async () => {
      for (let sent = 0; sent < RECORDS; sent += BATCH) await producer.send({ topic: jt, acks: 1, messages });
    }))}`);
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `bench-${size}`, maxBytes: 8 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topic: jt, fromBeginning: true });
    rows.push(`kafkajs consume ${fmt(await timed(() => new Promise<void>((resolve) => {
      let n = 0;
      void consumer.run({ eachBatch: async ({ batch }) => {
        n += batch.messages.length;
        if (n >= RECORDS) resolve();
      } });
    })))}`);
    await consumer.disconnect();

    const wt = `ws-${size}`;
    await engine.createTopic(wt, { partitions: 1 });
    const client = await SeglogClient.connect(server.url);
    const records = Array.from({ length: BATCH }, () => ({ value }));
    rows.push(`seglog client produce ${fmt(await timed(async () => {
      const acks = [];
      for (let sent = 0; sent < RECORDS; sent += BATCH) acks.push(client.sendBatch(wt, records, { partition: 0 }));
      await Promise.all(acks);
    }))}`);
    rows.push(`seglog client consume ${fmt(await timed(async () => {
      let n = 0;
      for await (const b of client.subscribe(wt, { from: 'earliest', stopAtEnd: true }).batches()) n += b.length;
      if (n !== RECORDS) throw new Error(`consumed ${n} of ${RECORDS}`);
    }))}`);
    await client.close();
    console.log(`${size} B, ${RECORDS} records: ${rows.join(', ')}`);
  }
} finally {
  await server.close(2000);
  await engine.close();
}
