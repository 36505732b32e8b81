// Topic admin over the protocol, /healthz and /metrics, graceful shutdown.
import test from 'ava';
import { encodeBatch } from '../../engine/record-batch.js';
import { decodeError } from '../../gateway/protocol/error.js';
import { FrameType } from '../../gateway/protocol/frame.js';
import { encodeProduce } from '../../gateway/protocol/produce.js';
import { RawPeer, startGateway, take, until } from './helpers.js';

test('topic admin: create, list, describe, add partitions, delete, with typed errors', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    const d = await c.createTopic('admin-a', { partitions: 3, retentionMs: 60_000, compression: 'lz4' });
    t.is(d.name, 'admin-a');
    t.is(d.partitions.length, 3);
    t.is(d.config.retentionMs, 60_000);
    t.is(d.config.compression, 'lz4');
    await c.createTopic('admin-b');
    t.deepEqual((await c.listTopics()).sort(), ['admin-a', 'admin-b']);
    await c.send('admin-a', { value: 'v' }, { partition: 2 });
    const described = await c.describeTopic('admin-a');
    t.is(described.partitions[2]!.endOffset, 1);
    t.deepEqual(await c.offsets('admin-a', 2), { startOffset: 0, endOffset: 1 });
    t.is((await c.addPartitions('admin-a', 5)).partitions.length, 5);
    await t.throwsAsync(c.createTopic('admin-a'), { code: 'TOPIC_EXISTS' } as never);
    await t.throwsAsync(c.createTopic('../escape'), { code: 'INVALID_TOPIC_NAME' } as never);
    await t.throwsAsync(c.createTopic('bad', { partitions: 0 }), { code: 'INVALID_ARGUMENT' } as never);
    await t.throwsAsync(c.describeTopic('missing'), { code: 'TOPIC_NOT_FOUND' } as never);
    // A live subscription on a deleted topic ends with an error.
    const sub = c.subscribe('admin-b', { from: 'earliest' });
    await sub.ready;
    await c.deleteTopic('admin-b');
    await t.throwsAsync(sub.next(), { code: 'TOPIC_NOT_FOUND' } as never);
    await t.throwsAsync(c.deleteTopic('admin-b'), { code: 'TOPIC_NOT_FOUND' } as never);
    t.deepEqual(await c.listTopics(), ['admin-a']);
  } finally {
    await h.stop();
  }
});

test('GET /healthz and /metrics; 404 elsewhere', async (t) => {
  const h = await startGateway();
  try {
    const c = await h.connect();
    await c.createTopic('m', { partitions: 2 });
    await c.send('m', [{ value: 'a' }, { value: 'b' }, { value: 'c' }], { partition: 1 });
    await take(c.subscribe('m', { partitions: 1, from: 'earliest' }), 3);
    const base = `http://127.0.0.1:${h.server.port}`;
    const health = await fetch(`${base}/healthz`);
    t.is(health.status, 200);
    t.like(await health.json(), { status: 'ok', connections: 1, topics: 1 });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    t.regex(metrics, /^seglog_connections 1$/m);
    t.regex(metrics, /^seglog_subscriptions 1$/m);
    t.regex(metrics, /^seglog_records_in_total 3$/m);
    t.regex(metrics, /^seglog_records_out_total 3$/m);
    t.regex(metrics, /^seglog_bytes_in_total \d+$/m);
    t.regex(metrics, /^seglog_append_latency_seconds_count 1$/m);
    t.regex(metrics, /^seglog_partition_end_offset\{topic="m",partition="1"\} 3$/m);
    t.regex(metrics, /^seglog_partition_end_offset\{topic="m",partition="0"\} 0$/m);
    // Event-loop delay since the previous scrape: the longest stall (quantile 1) is at least the median.
    const delay = (q: string): number => Number(new RegExp(`^seglog_event_loop_delay_seconds\\{quantile="${q}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    t.true(delay('0.5') >= 0 && delay('1') >= delay('0.5'), metrics);
    t.regex(metrics, /^# TYPE seglog_gc_pause_seconds histogram$/m);
    // A stall of the server's event loop (this process) shows in the next scrape's maximum.
    // The two 30 ms pauses are clock time, not waits for an effect: the delay monitor samples on its
    // own 10 ms timer (http.ts EVENT_LOOP_RESOLUTION_MS) and emits no event; a scrape to poll it would
    // reset what it measures.
    await new Promise((resolve) => setTimeout(resolve, 30)); // let the monitor take samples
    const blockedUntil = performance.now() + 120;
    while (performance.now() < blockedUntil) {
      // busy: nothing else runs on this thread
    }
    await new Promise((resolve) => setTimeout(resolve, 30)); // the monitor records a stall at its next sample
    const after = await (await fetch(`${base}/metrics`)).text();
    const maxSeconds = Number(/^seglog_event_loop_delay_seconds\{quantile="1"\} (\S+)$/m.exec(after)?.[1]);
    t.true(maxSeconds >= 0.1, `longest stall ${maxSeconds} s after blocking 120 ms`);
    t.is((await fetch(`${base}/nope`)).status, 404);
    t.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await h.stop();
  }
});

test('graceful close: every request in flight is answered, new ones refused, sockets closed with 1001', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('bye', { partitions: 2 });
    const peer = await RawPeer.open(h.server.url);
    const batch = encodeBatch(Array.from({ length: 50 }, (_, i) => ({ value: `r${i}` })));
    const n = 40;
    for (let id = 1; id <= n; id++) peer.send(encodeProduce(id, { topic: 'bye', partition: id % 2, acks: 'flushed', batch }));
    // Close as soon as the first request is being worked on.
    await peer.waitFor((f) => f.type === FrameType.PRODUCE_ACK, 'first ack');
    await h.server.close(5000);
    t.is((await peer.waitClosed()).code, 1001);
    // Requests are read in order: each one read before the close is answered (ack, or refused
    // once draining began); only a tail the server never read may stay unanswered.
    let acked = 0;
    let unanswered = 0;
    for (let id = 1; id <= n; id++) {
      const f = peer.frames.find((x) => x.id === id);
      if (f === undefined) {
        unanswered++;
        continue;
      }
      t.is(unanswered, 0, `request ${id} answered after an unanswered one`);
      if (f.type === FrameType.PRODUCE_ACK) acked++;
      else t.is(decodeError(f.reader).code, 'SHUTTING_DOWN');
    }
    const stored = h.engine.offsets('bye', 0).endOffset + h.engine.offsets('bye', 1).endOffset;
    t.is(stored, acked * 50, 'exactly the acknowledged batches are stored');
    t.true(acked > 0);
  } finally {
    await h.stop();
  }
});

test('heartbeat: a peer that stops answering pings is dropped; a live one stays', async (t) => {
  // 400 ms: long enough that a live peer on a loaded CI machine answers in time, short enough for the test.
  const h = await startGateway({}, { heartbeatIntervalMs: 400 });
  try {
    const live = await h.connect();
    const dead = await RawPeer.open(h.server.url);
    t.is(h.server.sessions().length, 2);
    // Stop reading: the peer can no longer see pings, so it never answers them.
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await until(() => h.server.sessions().length === 1, 'dead peer dropped');
    t.true(h.logs.some((l) => /did not answer a ping/.test(l)));
    t.true((await live.ping()).rttMs >= 0);
    dead.close();
  } finally {
    await h.stop();
  }
});
