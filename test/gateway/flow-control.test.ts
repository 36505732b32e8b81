// Credit-based delivery and the per-socket bound on queued bytes.
import test from 'ava';
import { encodeBatch, forEachRecord } from '../../engine/record-batch.js';
import { walkBatches } from '../../engine/format/batch-header.js';
import { SEND_ARENA_BYTES } from '../../gateway/server/limits.js';
import { FrameType } from '../../gateway/protocol/frame.js';
import { DELIVER_HEADER_BYTES, decodeDeliver } from '../../gateway/protocol/deliver.js';
import { encodeCredit, encodeSubscribe } from '../../gateway/protocol/subscribe.js';
import { DEFAULT_CONSUMER_BUFFER_BYTES } from '../../gateway/client/limits.js';
import { RawPeer, startGateway, take, until } from './helpers.js';

function deliveredBytes(peer: RawPeer, subId: number): number {
  let n = 0;
  for (const f of peer.frames) if (f.type === FrameType.DELIVER && f.id === subId) n += f.bytes.byteLength - 9;
  return n;
}

test('a consumer that grants nothing receives nothing more; a grant resumes delivery', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('credit', { partitions: 1 });
    const batch = encodeBatch(Array.from({ length: 10 }, (_, i) => ({ value: 'x'.repeat(90) + i })));
    for (let i = 0; i < 50; i++) await h.engine.appendBatch('credit', batch);
    const peer = await RawPeer.open(h.server.url);
    const credit = 3000;
    peer.send(encodeSubscribe(7, { topic: 'credit', partitions: [0], start: 'earliest', group: '', resume: [], creditBytes: credit }));
    await peer.waitFor((f) => f.type === FrameType.SUBSCRIBED, 'SUBSCRIBED');
    // The server stops once the credit is spent (the last batch may overshoot it).
    await until(() => h.server.sessionStats()[0]!.subscriptions[0]!.creditBytes <= 0, 'credit used up');
    await until(() => deliveredBytes(peer, 7) >= credit, 'deliveries received');
    const sub = h.server.sessionStats()[0]!.subscriptions[0]!;
    const received = deliveredBytes(peer, 7);
    t.is(received, sub.bytesSent);
    t.true(received >= credit && received < credit + batch.length);
    t.true(sub.positions[0]! < 500);
    // More appends wake the subscription, which still has no credit: nothing more is sent.
    for (let i = 0; i < 5; i++) await h.engine.appendBatch('credit', batch);
    await h.server.sessions()[0]!; // same tick
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    t.is(h.server.sessionStats()[0]!.subscriptions[0]!.bytesSent, received);
    t.is(deliveredBytes(peer, 7), received);
    // A grant covering the rest brings everything.
    peer.send(encodeCredit(7, 1 << 30));
    await until(() => h.server.sessionStats()[0]!.subscriptions[0]!.positions[0] === 550, 'all delivered');
    await until(() => deliveredBytes(peer, 7) === 55 * batch.length, 'all received');
    const offsets = peer.frames
      .filter((f) => f.type === FrameType.DELIVER)
      .map((f) => decodeDeliver(f.reader).batches);
    t.true(offsets.length > 1);
    peer.close();
  } finally {
    await h.stop();
  }
});

test('a peer that stops reading its socket: the server queues a bounded amount for it, others carry on', async (t) => {
  const maxQueued = 1024 * 1024;
  const h = await startGateway({}, { maxQueuedBytesPerSession: maxQueued });
  try {
    await h.engine.createTopic('flood', { partitions: 1 });
    const stalled = await RawPeer.open(h.server.url);
    stalled.send(encodeSubscribe(1, { topic: 'flood', partitions: null, start: 'earliest', group: '', resume: [], creditBytes: 0xffffffff }));
    await stalled.waitFor((f) => f.type === FrameType.SUBSCRIBED, 'SUBSCRIBED');
    // Stop reading: TCP buffers fill, then the server's queue for this socket.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const batch = encodeBatch([{ value: 'z'.repeat(256 * 1024 - 200) }]);
    const total = 160; // 40 MiB: far more than the socket buffers hold
    for (let i = 0; i < total; i++) await h.engine.appendBatch('flood', batch);
    const stalledStats = () => h.server.sessionStats().find((s) => s.subscriptions.some((x) => x.id === 1))!;
    // The pump stops at the bound and (hysteresis) starts again only below half of it.
    // `paused` is set when the queue reached the bound (the server then also stops reading the peer).
    await until(() => stalledStats().paused, 'queue reaches its bound');
    // The kernel's socket buffers may still take some bytes after the first pause (the pump runs as
    // soon as an append lands, before the socket wrote anything): wait, bounded, until the
    // position stops moving, then check it stays put.
    const position = (): number => stalledStats().subscriptions[0]!.positions[0]!;
    let stuckAt = -1;
    for (let round = 0; round < 100 && stuckAt < 0; round++) {
      const before = position();
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      // No event says "delivery stopped": the position is sampled 10 ms apart until it holds still.
      await new Promise((r) => setTimeout(r, 10));
      if (position() === before) stuckAt = before;
    }
    t.true(stuckAt >= 0, 'delivery to the stalled peer stops');
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    const s = stalledStats();
    t.true(s.queuedBytes <= maxQueued + 1024 * 1024 + 64 * 1024, `queued ${s.queuedBytes}`);
    t.is(s.subscriptions[0]!.positions[0]!, stuckAt, 'no progress while the peer does not read');
    t.true(stuckAt < total, 'delivery paused before the end');
    // Another client on the same server is unaffected.
    const other = await h.connect();
    const meta = await other.send('flood', { value: 'hi' });
    t.is(meta.offset, total);
    const tail = other.subscribe('flood', { from: { offset: total } });
    t.is((await take(tail, 1))[0]!.offset, total);
    // Reading again drains everything.
    (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => stalledStats().subscriptions[0]!.positions[0] === total + 1, 'stalled peer catches up', 15_000);
    await until(() => deliveredBytes(stalled, 1) >= total * batch.length, 'everything received', 15_000);
    stalled.close();
  } finally {
    await h.stop();
  }
});

test('the client consumer grants credit as it consumes: a bounded window, everything arrives', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('window', { partitions: 1 });
    const p = c.producer({ lingerMs: 0, maxBatchBytes: 2000 });
    await Promise.all(Array.from({ length: 2000 }, (_, i) => p.send('window', { value: `v${i}`.padEnd(100, '.') })));
    const window = 8 * 1024;
    const consumer = c.subscribe('window', { from: 'earliest', maxBufferedBytes: window });
    const first = await take(consumer, 10);
    t.is(first[0]!.offset, 0);
    await until(() => (h.server.sessionStats()[0]!.subscriptions[0]?.creditBytes ?? 1) <= 0, 'window used');
    // Not consuming: the server is at most one window (plus one batch) ahead.
    const ahead = h.server.sessionStats()[0]!.subscriptions[0]!.bytesSent;
    t.true(ahead <= window + 2100 + 2100, `sent ${ahead}`);
    const rest = await take(consumer, 1990);
    t.deepEqual(rest.map((r) => r.offset), Array.from({ length: 1990 }, (_, i) => i + 10));
  } finally {
    await h.stop();
  }
});

test('the client consumer gives credit back batch by batch, before the delivery holding them is used up', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('early', { partitions: 1 });
    const batch = encodeBatch(Array.from({ length: 20 }, (_, i) => ({ value: Buffer.alloc(100, i) })));
    for (let i = 0; i < 100; i++) await h.engine.appendBatch('early', batch);
    const c = await h.connect();
    const window = 32 * 1024;
    const consumer = c.subscribe('early', { from: 'earliest', maxBufferedBytes: window });
    const first = await take(consumer, 1);
    t.is(first[0]!.offset, 0);
    await until(() => (h.server.sessionStats()[0]!.subscriptions[0]?.creditBytes ?? 1) <= 0, 'window used');
    // One DELIVER of the whole window (about 15 batches) went out; nothing more without credit.
    const ahead = h.server.sessionStats()[0]!.subscriptions[0]!.bytesSent;
    t.true(ahead <= window + batch.length, `sent ${ahead}`);
    // 8 of its batches handed out: 7 are used up, more than the quarter of the window after which
    // credit goes back, so the server sends on while most of the first delivery is still unread.
    const some = await take(consumer, 159);
    t.is(some[158]!.offset, 159);
    t.true(160 * (batch.length / 20) < ahead, 'the records taken are a part of the first delivery');
    await until(() => h.server.sessionStats()[0]!.subscriptions[0]!.bytesSent > ahead, 'credit back before the delivery was used up');
    const rest = await take(consumer, 2000 - 160);
    t.deepEqual(rest.map((r) => r.offset), Array.from({ length: 2000 - 160 }, (_, i) => i + 160));
  } finally {
    await h.stop();
  }
});

test('small deliveries to a peer that stops reading: copied into the socket ring until it is full, then into buffers of their own; every byte arrives intact and in order', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('ring', { partitions: 1 });
    const peer = await RawPeer.open(h.server.url);
    peer.send(encodeSubscribe(3, { topic: 'ring', partitions: [0], start: 'earliest', group: '', resume: [], creditBytes: 0xffffffff }));
    await peer.waitFor((f) => f.type === FrameType.SUBSCRIBED, 'SUBSCRIBED');
    (peer.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // One delivery per append (the pump runs after each): ~1 KiB each, far more than the ring
    // (SEND_ARENA_BYTES) holds, each value distinct so a slice reused too early would show.
    const total = 600;
    const stats = () => h.server.sessionStats().find((s) => s.subscriptions.some((x) => x.id === 3))!;
    let arenaPeak = 0;
    for (let i = 0; i < total; i++) {
      await h.engine.appendBatch('ring', encodeBatch([{ value: `${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26))) }]));
      arenaPeak = Math.max(arenaPeak, stats().arenaSlices);
    }
    await until(() => stats().subscriptions[0]!.positions[0] === total, 'all handed to the socket');
    // A delivery here is one batch (sometimes two) behind its DELIVER header.
    const delivery = DELIVER_HEADER_BYTES + encodeBatch([{ value: '0:'.padEnd(1000, 'a') }]).length;
    t.true(arenaPeak * delivery > SEND_ARENA_BYTES - 2 * delivery, `the ring filled up, the rest went into buffers of their own (peak ${arenaPeak} slices)`);
    t.true(arenaPeak * delivery <= SEND_ARENA_BYTES, `never more than the ring holds (peak ${arenaPeak} slices)`);
    (peer.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const values: string[] = [];
    let decoded = 0;
    await until(
      () => {
        // DELIVERs are decoded as they come (a delivery may carry several batches).
        const delivers = peer.frames.filter((x) => x.type === FrameType.DELIVER);
        for (; decoded < delivers.length; decoded++) {
          const batches = decodeDeliver(delivers[decoded]!.reader).batches;
          walkBatches(batches, (pos) => void forEachRecord(batches, (r) => void values.push(Buffer.from(r.value!).toString()), 0, pos));
        }
        return values.length >= total;
      },
      'every record received',
      15_000,
    );
    t.deepEqual(values, Array.from({ length: total }, (_, i) => `${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26)))));
    await until(() => stats().arenaSlices === 0, 'ring released once written');
    peer.close();
  } finally {
    await h.stop();
  }
});

test('a consumer with the default window lets the server run DEFAULT_CONSUMER_BUFFER_BYTES ahead, no further', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('default-window', { partitions: 1 });
    const batch = encodeBatch(Array.from({ length: 100 }, (_, i) => ({ value: Buffer.alloc(1000, i) })));
    const batches = Math.ceil((DEFAULT_CONSUMER_BUFFER_BYTES * 1.5) / batch.length);
    for (let i = 0; i < batches; i++) await h.engine.appendBatch('default-window', batch);
    const c = await h.connect();
    const consumer = c.subscribe('default-window', { from: 'earliest' });
    const first = await take(consumer, 1);
    t.is(first[0]!.offset, 0);
    await until(() => (h.server.sessionStats()[0]!.subscriptions[0]?.creditBytes ?? 1) <= 0, 'window used');
    const ahead = h.server.sessionStats()[0]!.subscriptions[0]!.bytesSent;
    t.true(ahead >= DEFAULT_CONSUMER_BUFFER_BYTES && ahead <= DEFAULT_CONSUMER_BUFFER_BYTES + batch.length, `sent ${ahead}`);
    const rest = await take(consumer, batches * 100 - 1);
    t.is(rest[rest.length - 1]!.offset, batches * 100 - 1);
  } finally {
    await h.stop();
  }
});

test('a consumer that keeps up gives credit back in grants of a quarter of its window, not one CREDIT per delivery', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('grants', { partitions: 1 });
    const window = 64 * 1024;
    const consumer = c.subscribe('grants', { from: 'earliest', maxBufferedBytes: window });
    await consumer.ready;
    const p = c.producer({ lingerMs: 0 });
    const credit = (): number => h.server.sessionStats()[0]!.subscriptions[0]!.creditBytes;
    // A request on the same socket after the consumer took its records: a CREDIT it sent before is
    // handled by then (frames of one connection are handled in order).
    const settled = async (): Promise<number> => {
      await c.listTopics();
      return credit();
    };
    // The consumer waits for each record before it is sent (a live tail): when it moves on, the
    // delivery it used up is released with nothing else buffered.
    for (let i = 0; i < 10; i++) {
      const got = take(consumer, 1);
      await p.send('grants', { value: 'x'.repeat(100) });
      t.is((await got)[0]!.offset, i);
    }
    const waiting = take(consumer, 20);
    const held = window - (await settled());
    t.true(held > 10 * 100, `10 used-up deliveries not yet given back (${held} bytes)`);
    // Past a quarter of the window, one grant gives it all back.
    await p.send('grants', Array.from({ length: 20 }, () => ({ value: 'y'.repeat(1000) })));
    await waiting;
    const next = take(consumer, 1);
    await p.send('grants', { value: 'z' });
    await next;
    const stillHeld = window - (await settled());
    t.true(stillHeld < 200, `all but the delivery being read is credit again (${stillHeld} bytes held)`);
  } finally {
    await h.stop();
  }
});
