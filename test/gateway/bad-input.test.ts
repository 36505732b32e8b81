// Bad input never takes the server down or touches stored data.
import test from 'ava';
import { encodeBatch } from '../../engine/record-batch.js';
import { FrameWriter } from '../../gateway/protocol/codec.js';
import { decodeError } from '../../gateway/protocol/error.js';
import { FrameType, PROTOCOL_VERSION } from '../../gateway/protocol/frame.js';
import { encodeHello } from '../../gateway/protocol/hello.js';
import { encodePing } from '../../gateway/protocol/ping.js';
import { encodeProduce } from '../../gateway/protocol/produce.js';
import { encodeSubscribe } from '../../gateway/protocol/subscribe.js';
import { RawPeer, startGateway, take, text } from './helpers.js';

async function errorFor(peer: RawPeer, id: number): Promise<{ code: string; message: string }> {
  const f = await peer.waitFor((x) => x.id === id && (x.type === FrameType.ERROR || x.type === FrameType.PRODUCE_ACK), `answer to ${id}`);
  if (f.type !== FrameType.ERROR) return { code: 'NO_ERROR', message: '' };
  return decodeError(f.reader);
}

async function seeded() {
  const h = await startGateway({}, { maxBatchBytes: 64 * 1024 });
  const c = await h.connect();
  await c.createTopic('safe', { partitions: 2 });
  await c.send('safe', Array.from({ length: 10 }, (_, i) => ({ value: `keep-${i}` })), { partition: 0 });
  return { h, c };
}

async function assertIntact(t: import('ava').ExecutionContext, h: Awaited<ReturnType<typeof seeded>>['h']) {
  // A fresh client still works, and the stored records are exactly what was written.
  const c = await h.connect();
  t.deepEqual(h.engine.offsets('safe', 0), { startOffset: 0, endOffset: 10 });
  t.deepEqual(h.engine.offsets('safe', 1), { startOffset: 0, endOffset: 0 });
  const got = await take(c.subscribe('safe', { partitions: 0, from: 'earliest' }), 10);
  t.deepEqual(got.map((r) => text(r.value)), Array.from({ length: 10 }, (_, i) => `keep-${i}`));
  t.is((await c.ping()).rttMs >= 0, true);
}

test('malformed frames, unknown types and bad requests get error frames; the connection carries on', async (t) => {
  const { h } = await seeded();
  try {
    const peer = await RawPeer.open(h.server.url);
    const good = encodeBatch([{ value: 'intruder' }]);
    const cases: Array<[string, Uint8Array, string]> = [
      ['unknown type', new FrameWriter().u8(0x42).u32(11).finish(), 'UNKNOWN_FRAME_TYPE'],
      ['server-only type', new FrameWriter().u8(FrameType.DELIVER).u32(12).finish(), 'INVALID_FRAME'],
      ['truncated string', new FrameWriter().u8(FrameType.PRODUCE).u32(13).u16(50).finish(), 'INVALID_FRAME'],
      ['trailing bytes', new FrameWriter().u8(FrameType.PING).u32(14).u8(1).finish(), 'INVALID_FRAME'],
      ['bad acks', new FrameWriter().u8(FrameType.PRODUCE).u32(15).string('safe').i32(0).u8(9).raw(good).finish(), 'INVALID_FRAME'],
      ['invalid topic name', encodeProduce(16, { topic: '../etc', partition: -1, acks: 'written', batch: good }), 'INVALID_TOPIC_NAME'],
      ['unknown topic', encodeProduce(17, { topic: 'nope', partition: -1, acks: 'written', batch: good }), 'TOPIC_NOT_FOUND'],
      ['unknown partition', encodeProduce(18, { topic: 'safe', partition: 7, acks: 'written', batch: good }), 'PARTITION_NOT_FOUND'],
      ['negative partition', encodeProduce(19, { topic: 'safe', partition: -5, acks: 'written', batch: good }), 'PARTITION_NOT_FOUND'],
      ['empty batch', encodeProduce(20, { topic: 'safe', partition: 0, acks: 'written', batch: new Uint8Array(0) }), 'CORRUPT_RECORD'],
      ['subscribe unknown topic', encodeSubscribe(21, { topic: 'nope', partitions: null, start: 'earliest', group: '', resume: [], creditBytes: 100 }), 'TOPIC_NOT_FOUND'],
      ['subscribe unknown partition', encodeSubscribe(22, { topic: 'safe', partitions: [5], start: 'earliest', group: '', resume: [], creditBytes: 100 }), 'PARTITION_NOT_FOUND'],
      ['subscribe bad start kind', new FrameWriter().u8(FrameType.SUBSCRIBE).u32(23).string('safe').i32(-1).u8(9).i64(0).string('').i32(0).u32(1).finish(), 'INVALID_FRAME'],
      ['huge partition count', new FrameWriter().u8(FrameType.SUBSCRIBE).u32(24).string('safe').i32(0x7fffffff).finish(), 'INVALID_FRAME'],
      ['bad topic config JSON', new FrameWriter().u8(FrameType.CREATE_TOPIC).u32(25).string('t2').text('{nope').finish(), 'INVALID_FRAME'],
      ['unknown topic config', new FrameWriter().u8(FrameType.CREATE_TOPIC).u32(26).string('t2').text('{"flavour":1}').finish(), 'INVALID_ARGUMENT'],
      ['invalid UTF-8 name', new FrameWriter().u8(FrameType.DESCRIBE_TOPIC).u32(27).u16(2).u8(0xff).u8(0xfe).finish(), 'INVALID_FRAME'],
    ];
    for (const [name, frame, code] of cases) {
      peer.send(frame);
      const e = await errorFor(peer, new DataView(frame.buffer, frame.byteOffset).getUint32(1));
      t.is(e.code, code, name);
    }
    peer.send(encodePing(99));
    await peer.waitFor((f) => f.type === FrameType.PONG && f.id === 99, 'PONG');
    t.is(peer.closed, null);
    peer.close();
    await assertIntact(t, h);
  } finally {
    await h.stop();
  }
});

test('bad CRC, lying length and oversized batches are refused and nothing is written', async (t) => {
  const { h } = await seeded();
  try {
    const peer = await RawPeer.open(h.server.url);
    const batch = encodeBatch([{ value: 'a' }, { value: 'b' }]);
    const badCrc = Buffer.from(batch);
    badCrc[badCrc.length - 1]! ^= 0x55;
    const longer = Buffer.from(batch);
    longer.writeInt32BE(longer.readInt32BE(8) + 40, 8);
    const shorter = Buffer.from(batch);
    shorter.writeInt32BE(shorter.readInt32BE(8) - 3, 8);
    const padded = Buffer.concat([batch, Buffer.alloc(16)]);
    const badMagic = Buffer.from(batch);
    badMagic[16] = 1;
    const big = encodeBatch([{ value: 'x'.repeat(64 * 1024 + 200) }]); // over the batch limit, within the frame limit
    const cases: Array<[string, Uint8Array, string]> = [
      ['bad CRC', badCrc, 'CORRUPT_RECORD'],
      ['length longer than the frame', longer, 'CORRUPT_RECORD'],
      ['length shorter than the frame', shorter, 'CORRUPT_RECORD'],
      ['trailing garbage after the batch', padded, 'CORRUPT_RECORD'],
      ['bad magic', badMagic, 'CORRUPT_RECORD'],
      ['over maxBatchBytes', big, 'BATCH_TOO_LARGE'],
      ['truncated header', batch.subarray(0, 30), 'CORRUPT_RECORD'],
    ];
    let id = 100;
    for (const [name, b, code] of cases) {
      peer.send(encodeProduce(++id, { topic: 'safe', partition: 1, acks: 'written', batch: b }));
      t.is((await errorFor(peer, id)).code, code, name);
    }
    t.is(peer.closed, null);
    peer.close();
    await assertIntact(t, h);
  } finally {
    await h.stop();
  }
});

test('protocol violations close the connection with a reason; other connections carry on', async (t) => {
  const { h } = await seeded();
  try {
    const bystander = await h.connect();
    // A frame before HELLO.
    const early = await RawPeer.open(h.server.url, false);
    early.send(encodePing(1));
    t.is((await early.waitClosed()).code, 1002);
    // Text message.
    const texty = await RawPeer.open(h.server.url);
    texty.ws.send('hello?');
    t.like(await texty.waitClosed(), { code: 1002 });
    // Too short for a header.
    const short = await RawPeer.open(h.server.url);
    short.send(new Uint8Array([1, 2]));
    t.is((await short.waitClosed()).code, 1002);
    // HELLO twice.
    const twice = await RawPeer.open(h.server.url);
    twice.send(encodeHello(2, { minVersion: 1, maxVersion: 1, flags: 0, clientId: 'x' }));
    t.is((await twice.waitClosed()).code, 1002);
    // No common version: error frame, then close.
    const future = await RawPeer.open(h.server.url, false);
    future.send(encodeHello(3, { minVersion: PROTOCOL_VERSION + 1, maxVersion: PROTOCOL_VERSION + 5, flags: 0, clientId: 'x' }));
    const f = await future.waitFor((x) => x.type === FrameType.ERROR, 'version error');
    t.is(decodeError(f.reader).code, 'UNSUPPORTED_VERSION');
    t.is((await future.waitClosed()).code, 1002);
    // Oversized message: ws refuses it (1009) before we parse anything.
    const huge = await RawPeer.open(h.server.url);
    huge.send(encodeProduce(4, { topic: 'safe', partition: 0, acks: 'written', batch: new Uint8Array(200 * 1024) }));
    t.is((await huge.waitClosed()).code, 1009);
    // Garbage that is not even WebSocket.
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = net.connect(h.server.port, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      s.resume();
    });
    t.deepEqual(await bystander.send('safe', { value: 'still-here' }, { partition: 1 }), { topic: 'safe', partition: 1, offset: 0 });
    await bystander.send('safe', { value: 'x' }, { partition: 1 });
    t.deepEqual(h.engine.offsets('safe', 0), { startOffset: 0, endOffset: 10 });
  } finally {
    await h.stop();
  }
});
