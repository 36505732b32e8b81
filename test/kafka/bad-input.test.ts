// Bad input on the Kafka port never takes the server down or touches other connections: framing
// errors, oversized and undersized requests, unknown API keys and versions, malformed bodies and
// random frames get the protocol's answer or a closed connection (with the reason in the log);
// bad produce requests get Kafka's error codes with nothing stored.
import test from 'ava';
import fc from 'fast-check';
import { encodeBatch } from '../../engine/index.js';
import { computeBatchCrc } from '../../engine/record-batch.js';
import { Reader, Writer, writeStruct } from '../../gateway/server/kafka/codec.js';
import { KafkaError } from '../../gateway/server/kafka/errors.js';
import { PRODUCE } from '../../gateway/server/kafka/messages/core.js';
import { until } from '../helpers/until.js';
import { RawKafka, fetchV11, frame, kafkajsProtocol, startKafka, type KafkaHarness } from './helpers.js';

/** The server still answers a fresh connection (kafkajs's ApiVersions v2) and lists the APIs. */
async function stillServes(t: import('ava').ExecutionContext, h: KafkaHarness): Promise<void> {
  const raw = await RawKafka.connect(h.port);
  try {
    const r = await raw.request(kafkajsProtocol('apiVersions', 2, {}));
    t.is(r.errorCode, 0);
    t.true(r.apiVersions.some((a: { apiKey: number }) => a.apiKey === 0));
  } finally {
    raw.end();
  }
}

test('truncated request: the server waits for the rest; the peer leaving mid-request harms nothing', async (t) => {
  const h = await startKafka();
  try {
    const raw = await RawKafka.connect(h.port);
    raw.write(frame(18, 0, 1).subarray(0, 9)); // size says more than is sent
    await stillServes(t, h);
    raw.end();
    await raw.closed;
    await stillServes(t, h);
  } finally {
    await h.stop();
  }
});

test('a request larger than maxRequestBytes, or smaller than a header, closes the connection before it is buffered', async (t) => {
  const h = await startKafka({}, { maxRequestBytes: 1024 });
  try {
    const big = await RawKafka.connect(h.port);
    const size = Buffer.alloc(4);
    size.writeInt32BE(1025, 0);
    big.write(size);
    t.is(await big.next(), null);
    const small = await RawKafka.connect(h.port);
    small.write(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
    t.is(await small.next(), null);
    const negative = await RawKafka.connect(h.port);
    negative.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    t.is(await negative.next(), null);
    t.true(h.logs.some((l) => /request size 1025 is outside 8\.\.1024 bytes/.test(l)), h.logs.join('\n'));
    t.true(h.logs.some((l) => /request size -1 is outside/.test(l)));
    // At the limit it is read and answered (a 1024-byte ApiVersions v0: its body is ignored padding).
    const atLimit = await RawKafka.connect(h.port);
    const f = frame(18, 0, 7, Buffer.alloc(1024 - 13));
    t.is(f.length, 4 + 1024);
    atLimit.write(f);
    const answer = await atLimit.next();
    t.is(answer?.readInt32BE(0), 7);
    atLimit.end();
    await stillServes(t, h);
  } finally {
    await h.stop();
  }
});

test('unknown API key and unserved versions close the connection with the reason logged; ApiVersions answers an unknown version in v0 form', async (t) => {
  const h = await startKafka();
  try {
    const unknown = await RawKafka.connect(h.port);
    unknown.write(frame(999, 0, 1));
    t.is(await unknown.next(), null);
    t.true(h.logs.some((l) => /unknown API key 999/.test(l)), h.logs.join('\n'));
    const oldFetch = await RawKafka.connect(h.port);
    oldFetch.write(frame(1, 0, 2));
    t.is(await oldFetch.next(), null);
    t.true(h.logs.some((l) => /Fetch v0 is not served \(versions 4\.\.11/.test(l)));
    // ApiVersions v99: the v0 layout, UNSUPPORTED_VERSION and the list; the connection stays usable.
    const av = await RawKafka.connect(h.port);
    av.write(frame(18, 99, 5, Buffer.from([1, 2, 3])));
    const answer = await av.next();
    t.not(answer, null);
    const r = new Reader(answer!);
    t.is(r.int32(), 5);
    t.is(r.int16(), KafkaError.UNSUPPORTED_VERSION);
    const n = r.int32();
    const keys = Array.from({ length: n }, () => [r.int16(), r.int16(), r.int16()]);
    t.is(r.remaining, 0);
    t.deepEqual(keys.find((k) => k[0] === 18), [18, 0, 3]);
    t.deepEqual(keys.find((k) => k[0] === 1), [1, 4, 11]);
    const again = await av.request(kafkajsProtocol('apiVersions', 2, {}));
    t.is(again.errorCode, 0);
    av.end();
    await stillServes(t, h);
  } finally {
    await h.stop();
  }
});

test('a body that does not decode closes the connection (logged); other connections carry on', async (t) => {
  const h = await startKafka();
  try {
    const other = await RawKafka.connect(h.port);
    const bad = await RawKafka.connect(h.port);
    const lyingCount = Buffer.alloc(4);
    lyingCount.writeInt32BE(1_000_000, 0); // Metadata v1: a million topics in four bytes
    bad.write(frame(3, 1, 1, lyingCount));
    t.is(await bad.next(), null);
    t.true(h.logs.some((l) => /malformed Metadata v1 request: topics: 1000000 elements in 0 bytes/.test(l)), h.logs.join('\n'));
    const r = await other.request(kafkajsProtocol('metadata', 1, { topics: [] }));
    t.deepEqual(r.brokers.map((b: { nodeId: number }) => b.nodeId), [0]);
    other.end();
  } finally {
    await h.stop();
  }
});

test('random and mutated request frames never take the server down (fast-check)', async (t) => {
  const h = await startKafka({}, { maxRequestBytes: 4096 });
  try {
    await h.engine.createTopic('safe', { partitions: 1 });
    await h.engine.produce('safe', [{ value: 'keep' }]);
    const keys = [0, 1, 2, 3, 18, 999, -1];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), fc.integer({ min: -1, max: 20 }), fc.uint8Array({ maxLength: 300 }), async (apiKey, version, body) => {
        const raw = await RawKafka.connect(h.port);
        raw.write(frame(apiKey, version, 1, Buffer.from(body)));
        raw.write(frame(18, 0, 2)); // then a valid ApiVersions v0
        // Answered (possibly both), or closed: either way the call returns.
        await raw.next();
        raw.end();
        await raw.closed;
      }),
      { numRuns: 150 },
    );
    await stillServes(t, h);
    t.deepEqual(h.engine.offsets('safe', 0), { startOffset: 0, endOffset: 1 });
  } finally {
    await h.stop();
  }
});

/** A Produce v3 request (our codec; its shape is checked against kafkajs and kcat elsewhere). */
function produceFrame(correlationId: number, acks: number, topic: string, records: Buffer | null): Buffer {
  const w = new Writer();
  w.int16(0);
  w.int16(3);
  w.int32(correlationId);
  w.int16(-1);
  writeStruct(w, PRODUCE.request, { transactionalId: null, acks, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] }, 3, false);
  const body = Buffer.concat(w.finish());
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

function produceError(answer: Buffer | null): number {
  const r = new Reader(answer!);
  r.int32(); // correlation id
  r.int32(); // topics
  r.bytes(r.int16()); // name
  r.int32(); // partitions
  r.int32(); // index
  return r.int16();
}

test('bad produce requests get Kafka error codes and store nothing: CRC, magic, codec, acks, size, unknown topic', async (t) => {
  const h = await startKafka();
  const raw = await RawKafka.connect(h.port);
  try {
    await h.engine.createTopic('p', { partitions: 1, maxBatchBytes: 4096 });
    const good = encodeBatch([{ value: 'ok' }]);
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 1]! ^= 0xff;
    const magic1 = Buffer.from(good);
    magic1[16] = 1;
    // A codec in the attributes, with a CRC that matches (so the codec is what is refused).
    const withCodec = (codec: number): Buffer => {
      const b = Buffer.from(good);
      b.writeInt16BE(codec, 21);
      b.writeUInt32BE(computeBatchCrc(b, 0, b.length), 17);
      return b;
    };
    const cases: [string, Buffer, number, number][] = [
      ['bad CRC', produceFrame(1, 1, 'p', corrupt), 1, KafkaError.CORRUPT_MESSAGE],
      ['magic 1', produceFrame(2, 1, 'p', magic1), 2, KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT],
      ['snappy', produceFrame(3, 1, 'p', withCodec(2)), 3, KafkaError.UNSUPPORTED_COMPRESSION_TYPE],
      ['zstd', produceFrame(3, 1, 'p', withCodec(4)), 3, KafkaError.UNSUPPORTED_COMPRESSION_TYPE],
      ['gzip that does not gunzip', produceFrame(3, 1, 'p', withCodec(1)), 3, KafkaError.CORRUPT_MESSAGE],
      ['acks 2', produceFrame(4, 2, 'p', good), 4, KafkaError.INVALID_REQUIRED_ACKS],
      ['too large', produceFrame(5, -1, 'p', encodeBatch([{ value: Buffer.alloc(5000, 1) }], { compression: 'none' })), 5, KafkaError.MESSAGE_TOO_LARGE],
      ['unknown topic', produceFrame(6, 1, 'nope', good), 6, KafkaError.UNKNOWN_TOPIC_OR_PARTITION],
      ['truncated batch', produceFrame(7, 1, 'p', good.subarray(0, 30)), 7, KafkaError.CORRUPT_MESSAGE],
      ['no records', produceFrame(8, 1, 'p', null), 8, KafkaError.INVALID_RECORD],
    ];
    for (const [what, f, id, code] of cases) {
      raw.write(f);
      const answer = await raw.next();
      t.is(answer?.readInt32BE(0), id, what);
      t.is(produceError(answer), code, what);
    }
    t.deepEqual(h.engine.offsets('p', 0), { startOffset: 0, endOffset: 0 });
    t.deepEqual(h.engine.listTopics(), ['p']);
    // Two batches in one partition's records: both stored, the first one's base offset answered.
    raw.write(produceFrame(9, -1, 'p', Buffer.concat([good, encodeBatch([{ value: 'b' }, { value: 'c' }])])));
    const two = await raw.next();
    t.is(produceError(two), KafkaError.NONE);
    t.deepEqual(h.engine.read('p', 0, 0).map((r) => Buffer.from(r.value!).toString()), ['ok', 'b', 'c']);
    // acks=0: stored, no answer; the next request's answer is the next one read.
    raw.write(produceFrame(10, 0, 'p', good));
    raw.write(frame(18, 0, 11));
    t.is((await raw.next())?.readInt32BE(0), 11);
    t.is(h.engine.offsets('p', 0).endOffset, 4);
  } finally {
    raw.end();
    await h.stop();
  }
});

test('in-flight bound: at maxInFlightPerConnection unanswered requests the connection stops reading; answers go out in order', async (t) => {
  const h = await startKafka({}, { maxInFlightPerConnection: 2 });
  const raw = await RawKafka.connect(h.port);
  try {
    await h.engine.createTopic('w', { partitions: 1 });
    const p = fetchV11('w', [{ partition: 0, fetchOffset: 0, maxBytes: 1024 * 1024 }], { maxWaitTime: 60_000 });
    const ids = [await raw.send(p), await raw.send(p), await raw.send(p), await raw.send(p)];
    await until(() => h.server.kafka!.connections().some((c) => c.paused && c.inFlight === 2 && c.requests === 2), 'the connection to stop reading at 2 unanswered requests');
    await h.engine.produce('w', [{ value: 'go' }]);
    for (const id of ids) {
      const answer = await RawKafka.decode(p, await raw.next(), id);
      t.deepEqual(answer.responses[0].partitions[0].messages.map((m: { value: Buffer }) => m.value.toString()), ['go']);
    }
    await until(() => h.server.kafka!.connections().some((c) => !c.paused && c.inFlight === 0 && c.requests === 4), 'reading to resume');
  } finally {
    raw.end();
    await h.stop();
  }
});

test('Kafka connections count against the server\'s connection limit; one over it is closed', async (t) => {
  const h = await startKafka({}, {}, { maxConnections: 1 });
  try {
    const first = await RawKafka.connect(h.port);
    const second = await RawKafka.connect(h.port);
    t.is(await second.next(), null);
    t.true(h.logs.some((l) => /kafka connection from .* refused: too many connections/.test(l)), h.logs.join('\n'));
    const r = await first.request(kafkajsProtocol('apiVersions', 2, {}));
    t.is(r.errorCode, 0);
    first.end();
    await first.closed;
    await until(async () => {
      const again = await RawKafka.connect(h.port);
      again.write(frame(18, 0, 1));
      const ok = (await again.next()) !== null;
      again.end();
      return ok;
    }, 'a slot to be free again once the first connection closed');
  } finally {
    await h.stop();
  }
});
