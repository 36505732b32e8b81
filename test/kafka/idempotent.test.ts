// Idempotent producers over the Kafka listener: kafkajs with `idempotent: true`; a raw client
// (kafkajs's own InitProducerId and Produce v3 encoders) that sends the same batch twice, leaves a
// gap and uses an old epoch; and the producer state across a SIGTERM and a kill -9 of `seglog serve`.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { startServe, stopServe, type ServeProcess } from '../helpers/gateway-process.js';
import { until } from '../helpers/until.js';
import { RawKafka, kafkajsProtocol, kcat, startKafka } from './helpers.js';

const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const INVALID_PRODUCER_EPOCH = 47;

/** kafkajs's Produce v3 for one partition, carrying producer id, epoch and first sequence in the batch header. */
function produceV3(topic: string, partition: number, producer: { producerId: string; producerEpoch: number }, firstSequence: number, values: string[]) {
  return kafkajsProtocol('produce', 3, {
    acks: -1,
    timeout: 5000,
    producerId: producer.producerId,
    producerEpoch: producer.producerEpoch,
    topicData: [{ topic, partitions: [{ partition, firstSequence, messages: values.map((value) => ({ value, timestamp: 1000 })) }] }],
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const partitionAnswer = (answer: any): { errorCode: number; baseOffset: string } => answer.topics[0].partitions[0];

test('kafkajs idempotent producer: InitProducerId, batches carry producer id and sequences, every record stored once', async (t) => {
  const h = await startKafka();
  const producer = h.kafkajs().producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  try {
    await h.engine.createTopic('idem', { partitions: 2 });
    await producer.connect();
    for (let round = 0; round < 5; round++) {
      await producer.send({ topic: 'idem', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `r${round}-${i}` })) });
    }
    const values: string[] = [];
    const sequences: number[][] = [[], []];
    let producerId = -1;
    for (const partition of [0, 1]) {
      for (const b of h.engine.readBatches('idem', partition, 0, { maxBytes: 1 << 20 }).batches) {
        producerId = Number(b.readBigInt64BE(43));
        t.is(b.readInt16BE(51), 0); // epoch
        sequences[partition]!.push(b.readInt32BE(53));
      }
      for (const r of h.engine.read('idem', partition, 0)) values.push(r.value!.toString());
    }
    t.true(producerId >= 0);
    t.is(values.length, 50);
    t.is(new Set(values).size, 50);
    // Each partition's sequences count its records from 0, batch after batch.
    for (const partition of [0, 1]) {
      let expected = 0;
      const { batches } = h.engine.readBatches('idem', partition, 0, { maxBytes: 1 << 20 });
      for (let i = 0; i < batches.length; i++) {
        t.is(sequences[partition]![i], expected);
        expected += batches[i]!.readInt32BE(57);
      }
    }
  } finally {
    await producer.disconnect();
    await h.stop();
  }
});

test('raw client: a batch sent twice gets the same offsets and is stored once; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER; an old epoch INVALID_PRODUCER_EPOCH', async (t) => {
  const h = await startKafka();
  const raw = await RawKafka.connect(h.port);
  try {
    await h.engine.createTopic('raw', { partitions: 1 });
    const init = await raw.request(kafkajsProtocol('initProducerId', 1, { transactionalId: null, transactionTimeout: 60_000 }));
    t.is(init.errorCode, 0);
    const again = await raw.request(kafkajsProtocol('initProducerId', 0, { transactionalId: null, transactionTimeout: 60_000 }));
    t.not(again.producerId, init.producerId);
    const producer = { producerId: init.producerId as string, producerEpoch: init.producerEpoch as number };

    t.deepEqual(partitionAnswer(await raw.request(produceV3('raw', 0, producer, 0, ['a', 'b', 'c']))), { partition: 0, errorCode: 0, baseOffset: '0', logAppendTime: '-1' } as never);
    t.is(partitionAnswer(await raw.request(produceV3('raw', 0, producer, 3, ['d']))).baseOffset, '3');
    // The retry of the first batch (its answer "lost"): success with the original offsets, nothing stored.
    const dup = partitionAnswer(await raw.request(produceV3('raw', 0, producer, 0, ['a', 'b', 'c'])));
    t.deepEqual([dup.errorCode, dup.baseOffset], [0, '0']);
    const gap = partitionAnswer(await raw.request(produceV3('raw', 0, producer, 10, ['z'])));
    t.is(gap.errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
    // A newer epoch starting at 0 is accepted, then the old epoch is fenced.
    t.is(partitionAnswer(await raw.request(produceV3('raw', 0, { ...producer, producerEpoch: 1 }, 0, ['e']))).errorCode, 0);
    t.is(partitionAnswer(await raw.request(produceV3('raw', 0, producer, 4, ['f']))).errorCode, INVALID_PRODUCER_EPOCH);
    t.deepEqual(h.engine.read('raw', 0, 0).map((r) => r.value!.toString()), ['a', 'b', 'c', 'd', 'e']);
    // A transactional producer is refused (no transactions).
    const tx = await raw.request(kafkajsProtocol('initProducerId', 1, { transactionalId: 'tx', transactionTimeout: 60_000 }));
    t.is(tx.errorCode, 42);
  } finally {
    raw.end();
    await h.stop();
  }
});

test('kcat (librdkafka) with enable.idempotence=true: InitProducerId v4 (flexible), batches stored once with its producer id', async (t) => {
  const h = await startKafka({ autoCreateTopics: true }, { autoCreateTopics: true });
  try {
    const p = await kcat(['-b', h.broker, '-P', '-t', 'kc', '-X', 'enable.idempotence=true'], 'a\nb\nc\n');
    t.is(p.code, 0, p.stderr);
    t.deepEqual(h.engine.read('kc', 0, 0).map((r) => r.value!.toString()), ['a', 'b', 'c']);
    const [batch] = h.engine.readBatches('kc', 0, 0).batches;
    t.true(Number(batch!.readBigInt64BE(43)) >= 0);
    t.is(batch!.readInt32BE(53), 0);
  } finally {
    await h.stop();
  }
});

function kafkaAddress(s: ServeProcess): number {
  const m = /Kafka protocol on 127\.0\.0\.1:(\d+)/.exec(s.output());
  if (m === null) throw new Error(`no Kafka port in: ${s.output()}`);
  return Number(m[1]);
}

test('seglog serve: the producer state survives a clean stop and a kill -9 (retries answered with the stored offsets, nothing stored twice)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-kafka-idem-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let s = await startServe(dir, ['--kafka', '0']);
  let raw = await RawKafka.connect(kafkaAddress(s));
  let producer: { producerId: string; producerEpoch: number };
  try {
    const init = await raw.request(kafkajsProtocol('initProducerId', 1, { transactionalId: null, transactionTimeout: 60_000 }));
    producer = { producerId: init.producerId, producerEpoch: init.producerEpoch };
    // The topic is created by the first produce (serve runs with --auto-create).
    t.is(partitionAnswer(await raw.request(produceV3('p', 0, producer, 0, ['one', 'two']))).errorCode, 0);
    t.is(partitionAnswer(await raw.request(produceV3('p', 0, producer, 2, ['three']))).baseOffset, '2');
  } finally {
    raw.end();
  }
  await stopServe(s, 'SIGTERM');

  // After a clean stop: the state comes from the snapshot written at close.
  s = await startServe(dir, ['--kafka', '0']);
  raw = await RawKafka.connect(kafkaAddress(s));
  try {
    const dup = partitionAnswer(await raw.request(produceV3('p', 0, producer, 2, ['three'])));
    t.deepEqual([dup.errorCode, dup.baseOffset], [0, '2']);
    t.is(partitionAnswer(await raw.request(produceV3('p', 0, producer, 3, ['four']))).baseOffset, '3');
    // A new id after the restart is not one given out before.
    const init = await raw.request(kafkajsProtocol('initProducerId', 1, { transactionalId: null, transactionTimeout: 60_000 }));
    t.true(Number(init.producerId) > Number(producer.producerId));
  } finally {
    raw.end();
  }
  await stopServe(s, 'SIGKILL');

  // After kill -9 (acks=-1: the batches were on disk): the state is rebuilt from the snapshot and the batch headers after it.
  s = await startServe(dir, ['--kafka', '0']);
  raw = await RawKafka.connect(kafkaAddress(s));
  try {
    for (const [seq, values, offset] of [[0, ['one', 'two'], '0'], [2, ['three'], '2'], [3, ['four'], '3']] as const) {
      const dup = partitionAnswer(await raw.request(produceV3('p', 0, producer, seq, [...values])));
      t.deepEqual([dup.errorCode, dup.baseOffset], [0, offset]);
    }
    t.is(partitionAnswer(await raw.request(produceV3('p', 0, producer, 9, ['gap']))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
    t.is(partitionAnswer(await raw.request(produceV3('p', 0, producer, 4, ['five']))).baseOffset, '4');
  } finally {
    raw.end();
    await stopServe(s, 'SIGTERM');
  }
});

/** A free loopback port (the restarted server must come back on the same one for the producer to reconnect). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('kill -9 and restart under a kafkajs idempotent producer (acks -1, retries): every acked record present exactly once', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-kafka-idem-kill-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const args = ['--kafka', `127.0.0.1:${port}`];
  let server = await startServe(dir, args);
  const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'idem-kill', logLevel: logLevel.NOTHING, retry: { retries: 50, initialRetryTime: 50, maxRetryTime: 500 } });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
  const acked: string[] = [];
  const SENDS = 200;
  try {
    await producer.connect();
    const sending = (async () => {
      for (let i = 0; i < SENDS; i++) {
        const value = `r${i}`;
        await producer.send({ topic: 'killed', acks: -1, messages: [{ value }] });
        acked.push(value);
      }
    })();
    await until(() => acked.length >= 50, '50 acked records');
    await stopServe(server, 'SIGKILL');
    server = await startServe(dir, args);
    await sending;
    t.is(acked.length, SENDS);
    const c = await kcat(['-b', `127.0.0.1:${port}`, '-C', '-t', 'killed', '-o', 'beginning', '-e', '-f', '%s\n']);
    t.is(c.code, 0, c.stderr);
    const stored = c.stdout.toString().split('\n').filter((l) => l !== '');
    t.is(new Set(stored).size, stored.length, 'no record stored twice');
    t.deepEqual([...stored].sort(), [...acked].sort());
  } finally {
    await producer.disconnect().catch(() => {});
    await stopServe(server, 'SIGTERM');
  }
});
