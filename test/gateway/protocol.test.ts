// Every frame codec round-trips, and malformed input is refused with FrameError.
import test from 'ava';
import fc from 'fast-check';
import * as P from '../../gateway/protocol/index.js';

const id = fc.integer({ min: 0, max: 0xffffffff });
const str = fc.string({ maxLength: 40 });
const off = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

function body(frame: Uint8Array, type: number, expectedId: number): P.FrameReader {
  const { header, reader } = P.readHeader(frame);
  if (header.type !== type || header.id !== expectedId) throw new Error(`header ${header.type}/${header.id}`);
  return reader;
}

test('header, hello, produce, acks round-trip', (t) => {
  fc.assert(
    fc.property(id, str, fc.integer({ min: 0, max: 0xffff }), fc.nat(0xffffffff), (i, s, v, flags) => {
      // The token travels only when flags has AUTH; the principal only to a client that set AUTH.
      const h: P.Hello = { minVersion: v, maxVersion: v, flags, clientId: s, ...((flags & P.AUTH) !== 0 ? { token: `sgl_${s}` } : {}) };
      t.deepEqual(P.decodeHello(body(P.encodeHello(i, h), P.FrameType.HELLO, i)), h);
      const ok = { version: v, flags, maxFrameBytes: flags, maxBatchBytes: flags, serverId: s };
      t.deepEqual(P.decodeHelloOk(body(P.encodeHelloOk(i, ok), P.FrameType.HELLO_OK, i)), ok);
      const okAuth = { ...ok, principal: `p-${s}` };
      t.deepEqual(P.decodeHelloOk(body(P.encodeHelloOk(i, okAuth, true), P.FrameType.HELLO_OK, i), true), okAuth);
    }),
  );
  fc.assert(
    fc.property(id, str, i32, fc.constantFrom('written', 'flushed'), fc.uint8Array({ maxLength: 100 }), (i, topic, partition, acks, batch) => {
      const req = { topic, partition, acks: acks as P.AcksName, batch };
      const decoded = P.decodeProduce(body(P.encodeProduce(i, req), P.FrameType.PRODUCE, i));
      t.deepEqual({ ...decoded, batch: new Uint8Array(decoded.batch) }, req);
      // The in-place header writer produces the same bytes.
      const frame = new Uint8Array(P.produceHeaderBytes(topic) + batch.byteLength);
      frame.set(batch, P.produceHeaderBytes(topic));
      P.writeProduceHeader(frame, i, topic, partition, acks as P.AcksName);
      t.deepEqual(frame, P.encodeProduce(i, req));
    }),
  );
  fc.assert(
    fc.property(id, i32, off, off, (i, partition, a, b) => {
      const ack = { partition, baseOffset: a, lastOffset: b };
      t.deepEqual(P.decodeProduceAck(body(P.encodeProduceAck(i, ack), P.FrameType.PRODUCE_ACK, i)), ack);
    }),
  );
});

test('subscribe, subscribed, credit, deliver, gap, fetch round-trip', (t) => {
  const start = fc.oneof(
    fc.constant('earliest' as const),
    fc.constant('latest' as const),
    off.map((offset) => ({ offset })),
    off.map((timestamp) => ({ timestamp })),
  );
  fc.assert(
    fc.property(
      id, str, fc.option(fc.array(fc.nat(1000), { maxLength: 5 }), { nil: null }), start, str,
      fc.array(fc.record({ partition: fc.nat(100), offset: off }), { maxLength: 4 }), fc.nat(0xffffffff),
      (i, topic, partitions, s, group, resume, creditBytes) => {
        const req = { topic, partitions, start: s, group, resume, creditBytes };
        t.deepEqual(P.decodeSubscribe(body(P.encodeSubscribe(i, req), P.FrameType.SUBSCRIBE, i)), req);
      },
    ),
  );
  const starts = [{ partition: 3, startOffset: 10, endOffset: 20 }];
  t.deepEqual(P.decodeSubscribed(body(P.encodeSubscribed(5, starts), P.FrameType.SUBSCRIBED, 5)), starts);
  t.is(P.decodeCredit(body(P.encodeCredit(6, 12345), P.FrameType.CREDIT, 6)), 12345);
  const gap = { partition: 1, fromOffset: 2, toOffset: 99 };
  t.deepEqual(P.decodeGap(body(P.encodeGap(7, gap), P.FrameType.GAP, 7)), gap);
  const deliver = new Uint8Array([...P.encodeDeliverHeader(8, 4), 1, 2, 3]);
  const d = P.decodeDeliver(body(deliver, P.FrameType.DELIVER, 8));
  t.is(d.partition, 4);
  t.deepEqual([...d.batches], [1, 2, 3]);
  const fetch = { topic: 't', partition: 2, offset: 77, maxBytes: 1000 };
  t.deepEqual(P.decodeFetch(body(P.encodeFetch(9, fetch), P.FrameType.FETCH, 9)), fetch);
  const head = { partition: 2, startOffset: 1, endOffset: 100, nextOffset: 80 };
  const fr = P.decodeFetchResult(body(P.encodeFetchResultHeader(10, head), P.FrameType.FETCH_RESULT, 10));
  t.like(fr, head);
});

test('offsets, admin, ping, error round-trip', (t) => {
  const c = { group: 'g', topic: 't', partition: 1, offset: 5 };
  t.deepEqual(P.decodeCommit(body(P.encodeCommit(1, c), P.FrameType.COMMIT, 1)), c);
  t.deepEqual(P.decodeCommitted(body(P.encodeCommitted(2, c), P.FrameType.COMMITTED, 2)), { group: 'g', topic: 't', partition: 1 });
  t.is(P.decodeCommittedResult(body(P.encodeCommittedResult(3, null), P.FrameType.COMMITTED_RESULT, 3)), null);
  t.is(P.decodeCommittedResult(body(P.encodeCommittedResult(3, 42), P.FrameType.COMMITTED_RESULT, 3)), 42);
  t.deepEqual(P.decodeOffsetsResult(body(P.encodeOffsetsResult(4, { startOffset: 1, endOffset: 2 }), P.FrameType.OFFSETS_RESULT, 4)), { startOffset: 1, endOffset: 2 });
  t.deepEqual(P.decodeCreateTopic(body(P.encodeCreateTopic(5, 'n', { partitions: 3 }), P.FrameType.CREATE_TOPIC, 5)), { name: 'n', config: { partitions: 3 } });
  t.deepEqual(P.decodeTopicList(body(P.encodeTopicList(6, ['a', 'ü']), P.FrameType.TOPIC_LIST, 6)), ['a', 'ü']);
  t.deepEqual(P.decodeTopicDescription(body(P.encodeTopicDescription(7, { x: [1] }), P.FrameType.TOPIC_DESCRIPTION, 7)), { x: [1] });
  t.deepEqual(P.decodeAddPartitions(body(P.encodeAddPartitions(8, 'n', 9), P.FrameType.ADD_PARTITIONS, 8)), { name: 'n', totalPartitions: 9 });
  t.is(P.decodePong(body(P.encodePong(9, 123), P.FrameType.PONG, 9)), 123);
  t.deepEqual(P.decodeError(body(P.encodeError(10, 'CODE', 'msg'), P.FrameType.ERROR, 10)), { code: 'CODE', message: 'msg' });
});

test('truncation anywhere, trailing bytes and bad values are FrameErrors', (t) => {
  const frames: Array<[Uint8Array, (r: P.FrameReader) => unknown]> = [
    [P.encodeSubscribe(1, { topic: 'abc', partitions: [1, 2], start: { offset: 5 }, group: 'g', resume: [{ partition: 1, offset: 2 }], creditBytes: 9 }), P.decodeSubscribe],
    [P.encodeCommit(1, { group: 'g', topic: 't', partition: 1, offset: 5 }), P.decodeCommit],
    [P.encodeHello(1, { minVersion: 1, maxVersion: 1, flags: 1, clientId: 'c' }), P.decodeHello],
    [P.encodeFetch(1, { topic: 't', partition: 0, offset: 1, maxBytes: 2 }), P.decodeFetch],
  ];
  for (const [frame, decode] of frames) {
    for (let cut = 5; cut < frame.byteLength; cut++) {
      t.throws(() => decode(P.readHeader(frame.subarray(0, cut)).reader), { instanceOf: P.FrameError });
    }
    const longer = new Uint8Array([...frame, 0]);
    t.throws(() => decode(P.readHeader(longer).reader), { instanceOf: P.FrameError });
  }
  t.throws(() => P.readHeader(new Uint8Array(4)), { instanceOf: P.FrameError });
  // An i64 beyond 2^53 is refused rather than rounded.
  const w = new P.FrameWriter().u8(P.FrameType.COMMITTED_RESULT).u32(1).u32(0x7fffffff).u32(0xffffffff).finish();
  t.throws(() => P.decodeCommittedResult(P.readHeader(w).reader), { instanceOf: P.FrameError });
});
