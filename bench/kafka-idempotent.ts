// kafkajs produce throughput over the Kafka listener, plain vs idempotent (idempotent: true,
// maxInFlightRequests 1, acks -1 both), on one engine in memory:
//   npm run build && node dist/bench/kafka-idempotent.js [records=20000] [valueBytes=100] [batch=100]
// Prints records/s of each run. The idempotent path adds, per batch, one Map lookup and a small
// entry per producer and partition (engine/producer-state.ts), and kafkajs its own sequence
// bookkeeping; the difference is what one pays for exactly-once appends per partition.
import { Kafka, logLevel } from 'kafkajs';
import { Engine } from '../engine/index.js';
import { GatewayServer } from '../gateway/server/server.js';

const records = Number(process.argv[2] ?? 20_000);
const valueBytes = Number(process.argv[3] ?? 100);
const batch = Number(process.argv[4] ?? 100);

async function run(idempotent: boolean): Promise<number> {
  const engine = await Engine.open({ memory: true });
  const server = await GatewayServer.start({ engine, host: '127.0.0.1', port: 0, log: () => {}, kafka: { host: '127.0.0.1', port: 0 } });
  const topic = idempotent ? 'idem' : 'plain';
  await engine.createTopic(topic, { partitions: 1 });
  const kafka = new Kafka({ brokers: [`127.0.0.1:${server.kafka!.port}`], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const value = Buffer.alloc(valueBytes, 7);
  const messages = Array.from({ length: batch }, () => ({ value }));
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < records; sent += batch) await producer.send({ topic, acks: -1, messages });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.disconnect();
  await server.close(2000);
  await engine.close();
  return records / seconds;
}

// Plain first, then idempotent, then both again: the second pair is the one reported warm.
for (const round of [1, 2]) {
  const plain = await run(false);
  const idem = await run(true);
  console.log(`round ${round}: kafkajs ${records} records × ${valueBytes} B in batches of ${batch}, acks -1: plain ${Math.round(plain)} rec/s, idempotent ${Math.round(idem)} rec/s (${((idem / plain) * 100).toFixed(0)}%)`);
}
