// The Kafka listener against kafkajs: its producer (none and LZ4), its admin (Metadata, ListOffsets)
// and its own Fetch v11 encoder/decoder over a raw socket (kafkajs's consumer needs groups, which
// come with the group coordinator).
import test from 'ava';
import { CompressionTypes } from 'kafkajs';
import { until } from '../helpers/until.js';
import { RawKafka, fetchV11, startKafka, type DecodedFetch } from './helpers.js';

const CODEC_MASK = 0x07;
const codecOf = (batch: Buffer): number => batch.readInt16BE(21) & CODEC_MASK;
const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('utf8'));

test('kafkajs producer: plain and LZ4 batches are stored as sent, with offsets, keys, headers and timestamps', async (t) => {
  const h = await startKafka();
  const producer = h.kafkajs().producer({ allowAutoTopicCreation: false });
  try {
    await h.engine.createTopic('k', { partitions: 1 });
    await producer.connect();
    const plain = await producer.send({
      topic: 'k',
      acks: -1,
      messages: [
        { key: 'a', value: 'one', headers: { h: 'x' }, timestamp: '1000' },
        { key: null, value: 'two', timestamp: '1001' },
        { key: 'c', value: Buffer.from([0, 1, 2, 255]), timestamp: '1002' },
      ],
    });
    const lz4 = await producer.send({
      topic: 'k',
      acks: 1,
      compression: CompressionTypes.LZ4,
      messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `value ${i} `.repeat(20), timestamp: String(2000 + i) })),
    });
    t.deepEqual(plain.map((m) => [m.partition, m.errorCode, m.baseOffset]), [[0, 0, '0']]);
    t.deepEqual(lz4.map((m) => [m.partition, m.errorCode, m.baseOffset]), [[0, 0, '3']]);
    const { batches } = h.engine.readBatches('k', 0, 0, { maxBytes: 1024 * 1024 });
    t.deepEqual(batches.map(codecOf), [0, 3]);
    const records = h.engine.read('k', 0, 0, { maxRecords: 100 });
    t.is(records.length, 53);
    t.deepEqual(records.slice(0, 3).map((r) => [r.offset, text(r.key), r.timestamp]), [[0, 'a', 1000], [1, null, 1001], [2, 'c', 1002]]);
    t.deepEqual(records[0]!.headers.map((x) => [x.key, text(x.value)]), [['h', 'x']]);
    t.deepEqual([...records[2]!.value!], [0, 1, 2, 255]);
    t.is(text(records[52]!.value), 'value 49 '.repeat(20));
    t.is(records[52]!.timestamp, 2049);
  } finally {
    await producer.disconnect();
    await h.stop();
  }
});

test('kafkajs producer: an unknown topic is refused with UNKNOWN_TOPIC_OR_PARTITION, nothing created', async (t) => {
  const h = await startKafka();
  const producer = h.kafkajs().producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await producer.connect();
    const e = await t.throwsAsync(producer.send({ topic: 'nope', messages: [{ value: 'x' }] }));
    t.regex(String(e?.message), /does not host this topic-partition/i);
    t.deepEqual(h.engine.listTopics(), []);
  } finally {
    await producer.disconnect();
    await h.stop();
  }
});

test('kafkajs admin: metadata names this server as the only broker and leader; offsets latest, earliest and by timestamp', async (t) => {
  const h = await startKafka();
  const admin = h.kafkajs().admin();
  try {
    await h.engine.createTopic('m', { partitions: 3 });
    await h.engine.produce('m', [{ value: 'a', timestamp: 100 }, { value: 'b', timestamp: 200 }, { value: 'c', timestamp: 300 }], { partition: 1 });
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: ['m'] });
    t.is(topics.length, 1);
    t.deepEqual(
      topics[0]!.partitions.map((p) => [p.partitionId, p.leader, p.replicas, p.isr]).sort(),
      [[0, 0, [0], [0]], [1, 0, [0], [0]], [2, 0, [0], [0]]],
    );
    const cluster = await admin.describeCluster();
    t.deepEqual(cluster.brokers.map((b) => [b.nodeId, b.host, b.port]), [[0, '127.0.0.1', h.port]]);
    t.is(cluster.controller, 0);
    const offsets = await admin.fetchTopicOffsets('m');
    t.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [[0, '0', '0'], [1, '0', '3'], [2, '0', '0']]);
    const byTime = await admin.fetchTopicOffsetsByTimestamp('m', 150);
    t.deepEqual(byTime.find((o) => o.partition === 1)!.offset, '1');
    const afterAll = await admin.fetchTopicOffsetsByTimestamp('m', 1000);
    // No record at or after the timestamp: kafkajs turns Kafka's -1 into the partition's end.
    t.deepEqual(afterAll.find((o) => o.partition === 1)!.offset, '3');
    const all = await admin.listTopics();
    t.deepEqual(all, ['m']);
  } finally {
    await admin.disconnect();
    await h.stop();
  }
});

test('Fetch (kafkajs v11 codec) from a given offset: stored LZ4 batches, high watermark, OFFSET_OUT_OF_RANGE past the end', async (t) => {
  const h = await startKafka();
  const raw = await RawKafka.connect(h.port);
  try {
    await h.engine.createTopic('f', { partitions: 1, compression: 'lz4' });
    await h.engine.produce('f', [{ value: 'r0' }, { value: 'r1' }]);
    await h.engine.produce('f', [{ value: 'r2' }, { value: 'r3' }]);
    t.deepEqual(h.engine.readBatches('f', 0, 0).batches.map(codecOf), [3, 3]); // kafkajs decodes LZ4 with the registered codec
    const got = (await raw.request(fetchV11('f', [{ partition: 0, fetchOffset: 1, maxBytes: 1024 * 1024 }]))) as DecodedFetch;
    const p = got.responses[0]!.partitions[0]!;
    t.is(p.errorCode, 0);
    t.is(p.highWatermark, '4');
    // The first batch starts before the offset asked for; clients skip those records.
    t.deepEqual(p.messages.map((m) => [m.offset, m.value.toString()]), [['0', 'r0'], ['1', 'r1'], ['2', 'r2'], ['3', 'r3']]);
    const atEnd = (await raw.request(fetchV11('f', [{ partition: 0, fetchOffset: 4, maxBytes: 1024 }]))) as DecodedFetch;
    t.deepEqual(atEnd.responses[0]!.partitions[0]!.messages, []);
    const past = (await raw.request(fetchV11('f', [{ partition: 0, fetchOffset: 99, maxBytes: 1024 }]))) as DecodedFetch;
    t.is(past.responses[0]!.partitions[0]!.errorCode, 1); // OFFSET_OUT_OF_RANGE
  } finally {
    raw.end();
    await h.stop();
  }
});

test('Fetch long polling: a waiting fetch is answered by the append, not by its maxWaitMs', async (t) => {
  const h = await startKafka();
  const raw = await RawKafka.connect(h.port);
  try {
    await h.engine.createTopic('lp', { partitions: 2 });
    const req = fetchV11('lp', [{ partition: 0, fetchOffset: 0, maxBytes: 1024 }, { partition: 1, fetchOffset: 0, maxBytes: 1024 }], { maxWaitTime: 60_000, minBytes: 1 });
    const id = await raw.send(req);
    let answer: DecodedFetch | null = null;
    const pending = raw.next().then(async (b) => (answer = (await RawKafka.decode(req, b, id)) as DecodedFetch));
    await until(() => h.server.kafka!.connections().some((c) => c.inFlight === 1), 'the fetch to be waiting');
    t.is(answer, null);
    await h.engine.produce('lp', [{ value: 'woke' }], { partition: 1 });
    await until(() => answer !== null, 'the fetch to be answered after the append (its maxWaitMs is 60 s)');
    await pending;
    const parts = answer!.responses[0]!.partitions;
    t.deepEqual(parts.find((p) => p.partition === 1)!.messages.map((m) => m.value.toString()), ['woke']);
    t.deepEqual(parts.find((p) => p.partition === 0)!.messages, []);
  } finally {
    raw.end();
    await h.stop();
  }
});

test('Fetch maxBytes: partition and response limits, the listener\'s maxFetchBytes ceiling, at least one batch', async (t) => {
  const h = await startKafka({}, { maxFetchBytes: 5000 });
  const raw = await RawKafka.connect(h.port);
  try {
    await h.engine.createTopic('mb', { partitions: 2 });
    for (let i = 0; i < 3; i++) {
      await h.engine.produce('mb', [{ value: Buffer.alloc(2000, 97 + i) }], { partition: 0 });
      await h.engine.produce('mb', [{ value: Buffer.alloc(2000, 97 + i) }], { partition: 1 });
    }
    const count = (d: DecodedFetch, partition: number): number => d.responses[0]!.partitions.find((p) => p.partition === partition)!.messages.length;
    // partitionMaxBytes 1: still the first batch (a client must be able to make progress).
    const one = (await raw.request(fetchV11('mb', [{ partition: 0, fetchOffset: 0, maxBytes: 1 }]))) as DecodedFetch;
    t.is(count(one, 0), 1);
    // The client asks for 10 MiB; the listener's 5000-byte ceiling lets two 2 KB batches through.
    const capped = (await raw.request(fetchV11('mb', [{ partition: 0, fetchOffset: 0, maxBytes: 1024 * 1024 }]))) as DecodedFetch;
    t.is(count(capped, 0), 2);
    // Response maxBytes 3000 over two partitions: partition 0's first batch, none of partition 1 fits.
    const shared = (await raw.request(fetchV11('mb', [{ partition: 0, fetchOffset: 0, maxBytes: 1024 * 1024 }, { partition: 1, fetchOffset: 0, maxBytes: 1024 * 1024 }], { maxBytes: 3000 }))) as DecodedFetch;
    t.is(count(shared, 0), 1);
    t.is(count(shared, 1), 0);
  } finally {
    raw.end();
    await h.stop();
  }
});

test('Fetch long polling is bounded by the listener\'s maxFetchWaitMs: a 60 s maxWaitMs is answered, empty, after the ceiling', async (t) => {
  const h = await startKafka({}, { maxFetchWaitMs: 50 });
  const raw = await RawKafka.connect(h.port);
  try {
    await h.engine.createTopic('cap', { partitions: 1 });
    const req = fetchV11('cap', [{ partition: 0, fetchOffset: 0, maxBytes: 1024 }], { maxWaitTime: 60_000, minBytes: 1 });
    const id = await raw.send(req);
    let answer: DecodedFetch | null = null;
    const pending = raw.next().then(async (b) => (answer = (await RawKafka.decode(req, b, id)) as DecodedFetch));
    await until(() => answer !== null, 'the fetch to be answered at the 50 ms ceiling (nothing was appended)');
    await pending;
    t.deepEqual(answer!.responses[0]!.partitions[0]!.messages, []);
    t.is(answer!.responses[0]!.partitions[0]!.errorCode, 0);
  } finally {
    raw.end();
    await h.stop();
  }
});
