// gzip on Produce: batches from kafkajs (gzip is built into kafkajs) and kcat -z gzip are accepted
// and stored in the topic's codec (none or LZ4), records, keys, headers, timestamps and producer
// fields unchanged; Fetch serves them to the same clients; a gzip bomb is MESSAGE_TOO_LARGE.
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { CompressionTypes } from 'kafkajs';
import { encodeBatch } from '../../engine/index.js';
import { computeBatchCrc } from '../../engine/record-batch.js';
import { KafkaError } from '../../gateway/server/kafka/errors.js';
import { KAFKA_GZIP_RECORDS_MAX_BYTES } from '../../gateway/server/limits.js';
import { RawKafka, fetchV11, kafkajsProtocol, kcat, startKafka, type DecodedFetch } from './helpers.js';

const codecOf = (batch: Buffer): number => batch.readInt16BE(21) & 0x07;

/** A gzip batch built by hand from an uncompressed one: its records section gzipped, codec 1, fresh length and CRC. */
function gzipBatch(plain: Buffer): Buffer {
  const body = gzipSync(plain.subarray(61));
  const out = Buffer.concat([plain.subarray(0, 61), body]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE((out.readInt16BE(21) & ~0x07) | 1, 21);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), 17);
  return out;
}

for (const compression of ['none', 'lz4'] as const) {
  test(`kafkajs gzip producer into a topic with compression ${compression}: stored as ${compression}, records intact, Fetch serves them back`, async (t) => {
    const h = await startKafka();
    const producer = h.kafkajs().producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    const raw = await RawKafka.connect(h.port);
    try {
      await h.engine.createTopic('g', { partitions: 1, compression });
      await producer.connect();
      const messages = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `gzip value ${i} `.repeat(10), headers: { n: String(i) }, timestamp: String(5000 + i) }));
      const sent = await producer.send({ topic: 'g', acks: -1, compression: CompressionTypes.GZIP, messages });
      t.deepEqual(sent.map((m) => [m.errorCode, m.baseOffset]), [[0, '0']]);
      const [batch] = h.engine.readBatches('g', 0, 0).batches;
      t.is(codecOf(batch!), compression === 'lz4' ? 3 : 0);
      // The producer fields survive the conversion (the idempotent producer's sequence checks rely on them).
      t.true(Number(batch!.readBigInt64BE(43)) >= 0);
      t.is(batch!.readInt32BE(53), 0);
      const records = h.engine.read('g', 0, 0, { maxRecords: 100 });
      t.deepEqual(
        records.map((r) => [r.offset, r.key!.toString(), r.value!.toString(), r.timestamp, r.headers[0]!.value!.toString()]),
        messages.map((m, i) => [i, m.key, m.value, 5000 + i, String(i)]),
      );
      const got = (await raw.request(fetchV11('g', [{ partition: 0, fetchOffset: 0, maxBytes: 1 << 20 }]))) as DecodedFetch;
      t.deepEqual(got.responses[0]!.partitions[0]!.messages.map((m) => m.value.toString()), messages.map((m) => m.value));
    } finally {
      raw.end();
      await producer.disconnect();
      await h.stop();
    }
  });
}

test('gzip Produce by hand: a batch whose records gunzip past the limit is MESSAGE_TOO_LARGE, one whose records do not decode is CORRUPT_MESSAGE; nothing stored', async (t) => {
  const h = await startKafka();
  const raw = await RawKafka.connect(h.port);
  try {
    await h.engine.createTopic('b', { partitions: 1 });
    const produce = (batch: Buffer) =>
      raw.request({
        request: { apiKey: 0, apiVersion: 3, encode: async () => produceBody('b', batch) },
        response: kafkajsProtocol('produce', 3, { acks: 1, timeout: 1000, topicData: [] }).response,
      });
    // A bomb: a few KiB of gzip that would be more than KAFKA_GZIP_RECORDS_MAX_BYTES.
    const bomb = gzipBatch(encodeBatch([{ value: Buffer.alloc(KAFKA_GZIP_RECORDS_MAX_BYTES + 1024) }]));
    t.true(bomb.length < 64 * 1024);
    t.is((await produce(bomb)).topics[0].partitions[0].errorCode, KafkaError.MESSAGE_TOO_LARGE);
    // Records that gunzip but do not decode (a record length past the section): the CRC the server
    // would compute proves nothing, so the records are decoded and refused.
    const plain = encodeBatch([{ value: 'x' }]);
    plain[61] = 0x7e; // the first record's length varint: 63, far past the section
    t.is((await produce(gzipBatch(plain))).topics[0].partitions[0].errorCode, KafkaError.CORRUPT_MESSAGE);
    t.deepEqual(h.engine.offsets('b', 0), { startOffset: 0, endOffset: 0 });
    // A good one by hand: stored.
    t.is((await produce(gzipBatch(encodeBatch([{ value: 'fine' }])))).topics[0].partitions[0].errorCode, 0);
    t.deepEqual(h.engine.read('b', 0, 0).map((r) => r.value!.toString()), ['fine']);
  } finally {
    raw.end();
    await h.stop();
  }
});

/** Produce v3 body by hand (kafkajs's encoder re-encodes records; this one sends our bytes as they are). */
function produceBody(topic: string, batch: Buffer): { buf: Buffer; buffer: Buffer } {
  const name = Buffer.from(topic);
  const head = Buffer.alloc(2 + 2 + 4 + 4 + 2);
  let p = 0;
  p = head.writeInt16BE(-1, p); // transactional id: null
  p = head.writeInt16BE(1, p); // acks
  p = head.writeInt32BE(1000, p); // timeout
  p = head.writeInt32BE(1, p); // topics
  head.writeInt16BE(name.length, p);
  const part = Buffer.alloc(4 + 4 + 4);
  part.writeInt32BE(1, 0); // partitions
  part.writeInt32BE(0, 4); // index
  part.writeInt32BE(batch.length, 8);
  const bytes = Buffer.concat([head, name, part, batch]);
  return { buf: bytes, buffer: bytes }; // the shape kafkajs's request writer takes (an Encoder's)
}

test('kcat -z gzip: produced with keys, consumed back byte-exact by kcat', async (t) => {
  const h = await startKafka();
  try {
    await h.engine.createTopic('kz', { partitions: 1 });
    const lines = Array.from({ length: 200 }, (_, i) => `key${i}:value ${i} ${'z'.repeat(i % 50)}`);
    const p = await kcat(['-b', h.broker, '-P', '-t', 'kz', '-K:', '-z', 'gzip', '-X', 'linger.ms=50'], lines.join('\n') + '\n');
    t.is(p.code, 0, p.stderr);
    const batches = h.engine.readBatches('kz', 0, 0, { maxBytes: 1 << 20 }).batches;
    t.true(batches.every((b) => codecOf(b) === 0));
    const c = await kcat(['-b', h.broker, '-C', '-t', 'kz', '-o', 'beginning', '-e', '-f', '%k:%s\n']);
    t.is(c.code, 0, c.stderr);
    t.is(c.stdout.toString(), lines.join('\n') + '\n');
  } finally {
    await h.stop();
  }
});
