// Whole-topic subscriptions (SUBSCRIBE with partition count -1) follow partitions added later,
// from offset 0: on the server, in the client's consumer (positions, commits), and across a
// reconnect. Also the engine hook the gateway uses for it, Engine.onPartitionsAdded.
import test from 'ava';
import type { ClientRecord } from '../../gateway/client/record-codec.js';
import { startGateway, take, text, until } from './helpers.js';

const code = (c: string) => ({ code: c }) as never;
const pv = (rs: ClientRecord[]) => rs.map((r) => [r.partition, r.offset, text(r.value)]);

test('Engine.onPartitionsAdded tells listeners the new partition numbers; unsubscribing and a throwing listener are harmless', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  await h.engine.createTopic('t', { partitions: 1 });
  await h.engine.createTopic('other', { partitions: 1 });
  const seen: number[][] = [];
  const off = h.engine.onPartitionsAdded('t', (ps) => seen.push(ps));
  const stop = h.engine.onPartitionsAdded('t', () => {
    throw new Error('listener bug');
  });
  await h.engine.addPartitions('t', 3);
  await h.engine.addPartitions('other', 2);
  t.deepEqual(seen, [[1, 2]]);
  off();
  stop();
  await h.engine.addPartitions('t', 4);
  t.deepEqual(seen, [[1, 2]]);
  t.is(h.engine.describeTopic('t').partitions.length, 4);
  t.throws(() => h.engine.onPartitionsAdded('nope', () => {}), code('TOPIC_NOT_FOUND'));
  t.throws(() => h.engine.onPartitionsAdded('t', 5 as never), code('INVALID_ARGUMENT'));
});

test('a whole-topic subscription from "latest" reads an added partition from offset 0; a partition list does not grow', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const c = await h.connect();
  await c.createTopic('t', { partitions: 1 });
  await c.send('t', { value: 'old' }, { partition: 0 });
  const whole = c.subscribe('t');
  const listed = c.subscribe('t', { partitions: [0] });
  await Promise.all([whole.ready, listed.ready]);
  await c.addPartitions('t', 3);
  // Written to the new partitions before anything is read from them: still delivered (offset 0 on).
  await c.send('t', [{ value: 'b0' }, { value: 'b1' }], { partition: 1 });
  await c.send('t', { value: 'c0' }, { partition: 2 });
  await c.send('t', { value: 'a1' }, { partition: 0 });
  const got = await take(whole, 4);
  const sorted = pv(got).sort((x, y) => (x[0] as number) - (y[0] as number) || (x[1] as number) - (y[1] as number));
  t.deepEqual(sorted, [
    [0, 1, 'a1'],
    [1, 0, 'b0'],
    [1, 1, 'b1'],
    [2, 0, 'c0'],
  ]);
  t.deepEqual(Object.fromEntries(whole.positions()), { 0: 2, 1: 2, 2: 1 });
  t.deepEqual(pv(await take(listed, 1)), [[0, 1, 'a1']]);
  // The server follows the new partitions for the whole-topic subscription only.
  const subs = h.server.sessionStats()[0]!.subscriptions;
  t.deepEqual(subs.map((s) => Object.keys(s.positions).length).sort(), [1, 3]);
  await whole.close();
  await listed.close();
});

test('reconnecting after partitions were added (one known to the consumer, one added while disconnected): no loss, no duplicates', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const producer = await h.connect();
  // The first reconnect attempt waits 200-400 ms: the second partition is added and written meanwhile.
  const reader = await h.connect({ reconnect: { initialDelayMs: 400, maxDelayMs: 400 } });
  await producer.createTopic('t', { partitions: 1 });
  const consumer = reader.subscribe('t', { maxBufferedBytes: 4096 });
  await consumer.ready;
  await producer.send('t', { value: 'p0-0' }, { partition: 0 });
  await producer.addPartitions('t', 2);
  await producer.send('t', [{ value: 'p1-0' }, { value: 'p1-1' }], { partition: 1 });
  const got = await take(consumer, 3);
  t.deepEqual(pv(got).sort(), [
    [0, 0, 'p0-0'],
    [1, 0, 'p1-0'],
    [1, 1, 'p1-1'],
  ]);

  h.server.sessions().find((s) => s.stats().subscriptions.length > 0)!.terminate();
  await until(() => !reader.isConnected, 'the reader to notice the disconnect');
  await h.engine.addPartitions('t', 3);
  const enc = new TextEncoder();
  await h.engine.produce('t', [{ value: enc.encode('p2-0') }], { partition: 2 });
  await h.engine.produce('t', [{ value: enc.encode('p1-2') }], { partition: 1 });
  await until(() => reader.isConnected, 'the reader to reconnect');
  await producer.send('t', { value: 'p0-1' }, { partition: 0 });
  await producer.send('t', { value: 'p2-1' }, { partition: 2 });
  got.push(...(await take(consumer, 4)));
  const keys = got.map((r) => `${r.partition}/${r.offset}`);
  t.is(new Set(keys).size, keys.length, 'no duplicates');
  t.deepEqual(got.map((r) => text(r.value)).sort(), ['p0-0', 'p0-1', 'p1-0', 'p1-1', 'p1-2', 'p2-0', 'p2-1']);
  t.deepEqual(Object.fromEntries(consumer.positions()), { 0: 2, 1: 3, 2: 2 });
  // Nothing else arrives: a later record is the next one taken.
  await producer.send('t', { value: 'last' }, { partition: 2 });
  t.deepEqual(pv(await take(consumer, 1)), [[2, 2, 'last']]);
  await consumer.close();
});

test('a group consumer commits positions of partitions added after it subscribed', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const c = await h.connect();
  await c.createTopic('t', { partitions: 1 });
  const consumer = c.subscribe('t', { group: 'g', from: 'earliest', autoCommit: false });
  await consumer.ready;
  await c.addPartitions('t', 2);
  await c.send('t', [{ value: 'x' }, { value: 'y' }], { partition: 1 });
  t.deepEqual(pv(await take(consumer, 2)), [
    [1, 0, 'x'],
    [1, 1, 'y'],
  ]);
  await consumer.commit();
  t.is(await c.committed('g', 't', 1), 2);
  await consumer.close();
  // The group resumes there.
  await c.send('t', { value: 'z' }, { partition: 1 });
  const again = c.subscribe('t', { group: 'g', from: 'earliest', autoCommit: false });
  t.deepEqual(pv(await take(again, 1)), [[1, 2, 'z']]);
  await again.close();
});

test('stopAtEnd over a whole topic ends at the starting end offsets; an added partition adds nothing', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const c = await h.connect();
  await c.createTopic('t', { partitions: 1 });
  await c.send('t', [{ value: 'a' }, { value: 'b' }], { partition: 0 });
  const consumer = c.subscribe('t', { from: 'earliest', stopAtEnd: true, maxBufferedBytes: 1 });
  await consumer.ready;
  await c.addPartitions('t', 2);
  await c.send('t', { value: 'new' }, { partition: 1 });
  const got: ClientRecord[] = [];
  for await (const r of consumer) {
    got.push(r);
    if (got.length > 10) break;
  }
  t.deepEqual(pv(got), [
    [0, 0, 'a'],
    [0, 1, 'b'],
  ]);
});

// The engine's whole-topic subscriptions follow partitions added later; the gateway's (partition
// count -1, "every partition of the topic") used to keep the partitions they started with, so
// records produced to an added partition never reached a client subscribed to the whole topic.
test('a whole-topic subscription over the gateway receives records of partitions added later', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const c = await h.connect();
  await c.createTopic('t', { partitions: 1 });
  const sub = c.subscribe('t', { from: 'earliest' });
  await c.send('t', { value: 'a' }, { partition: 0 });
  t.deepEqual((await take(sub, 1)).map((r) => text(r.value)), ['a']);
  await c.addPartitions('t', 2);
  await c.send('t', { value: 'b' }, { partition: 1 });
  const got = await take(sub, 1, 3000).catch(() => []);
  t.deepEqual(got.map((r) => [r.partition, text(r.value)]), [[1, 'b']]);
});
