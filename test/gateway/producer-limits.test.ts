// The producer's admission queue (calls waiting for topic metadata, LZ4 or buffer space) is
// bounded in records (maxQueuedRecords: further calls reject at once with TOO_MANY_REQUESTS) and
// in time (maxBlockMs: a call still waiting then rejects with TIMEOUT).
import test from 'ava';
import { SeglogClientError } from '../../gateway/client/client.js';
import { DEFAULT_MAX_BLOCK_MS, DEFAULT_MAX_QUEUED_RECORDS } from '../../gateway/client/limits.js';
import { startGateway, text, until } from './helpers.js';

test('defaults: 100,000 queued records, 60 s of blocking (as Kafka max.block.ms)', (t) => {
  t.is(DEFAULT_MAX_QUEUED_RECORDS, 100_000);
  t.is(DEFAULT_MAX_BLOCK_MS, 60_000);
});

test('maxQueuedRecords: calls beyond the bound reject with TOO_MANY_REQUESTS and store nothing; the queued ones are sent', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  await h.engine.createTopic('limits', { partitions: 3 });
  const client = await h.connect();
  const producer = client.producer({ lingerMs: 0, maxQueuedRecords: 10 });
  // The topic's partition count is not known yet: the first keyed call waits for it, and every
  // call made meanwhile waits behind it.
  const queued = Array.from({ length: 4 }, (_, i) => producer.send('limits', [{ key: `k${i}`, value: `a${i}` }, { key: `k${i}`, value: `b${i}` }]));
  const overflow = producer.send('limits', [{ key: 'x', value: 'x1' }, { key: 'x', value: 'x2' }, { key: 'x', value: 'x3' }]);
  const fits = producer.send('limits', [{ key: 'y', value: 'y1' }, { key: 'y', value: 'y2' }]); // 8 + 2 = 10 records: fits
  const refused = producer.send('limits', { key: 'z', value: 'z' });
  const e1 = (await t.throwsAsync(overflow)) as SeglogClientError;
  t.is(e1.code, 'TOO_MANY_REQUESTS');
  t.true(e1 instanceof SeglogClientError);
  t.is(((await t.throwsAsync(refused)) as SeglogClientError).code, 'TOO_MANY_REQUESTS');
  const results = await Promise.all(queued);
  t.deepEqual(results.map((r) => r.length), [2, 2, 2, 2]);
  t.is((await fits).length, 2);
  const values: string[] = [];
  for (let p = 0; p < 3; p++) for (const r of h.engine.read('limits', p, 0)) values.push(text(r.value ? new Uint8Array(r.value) : null)!);
  t.deepEqual(values.sort(), ['a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3', 'y1', 'y2']);
  // A call alone in the queue is taken whatever its size (the bound is on what waits behind others).
  const big = Array.from({ length: 50 }, (_, i) => ({ key: `big${i}`, value: 'v' }));
  const fresh = client.producer({ maxQueuedRecords: 10 }); // knows no partition counts yet: waits for them
  t.is((await fresh.send('limits', big)).length, 50);
});

test('maxBlockMs: a call that cannot be queued in time (no connection) rejects with TIMEOUT, and so do the calls behind it', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  await h.engine.createTopic('blocked', { partitions: 2 });
  const client = await h.connect({ requestTimeoutMs: 20_000, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
  const producer = client.producer({ maxBlockMs: 150 });
  await h.server.close(2000);
  await until(() => !client.isConnected, 'the client to notice the server is gone');
  const started = Date.now();
  const first = producer.send('blocked', { key: 'k', value: 'v' });
  const behind = producer.sendBatch('blocked', [{ value: 'w' }]);
  const e = (await t.throwsAsync(first)) as SeglogClientError;
  const elapsedMs = Date.now() - started;
  t.is(e.code, 'TIMEOUT');
  t.regex(e.message, /maxBlockMs \(150 ms\)/);
  t.is(((await t.throwsAsync(behind)) as SeglogClientError).code, 'TIMEOUT');
  // After maxBlockMs, well before the request timeout (20 s) would have ended it.
  t.true(elapsedMs >= 140 && elapsedMs < 5000, `rejected after ${elapsedMs} ms`);
});

test('maxQueuedRecords and maxBlockMs must be positive integers', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const client = await h.connect();
  t.is((t.throws(() => client.producer({ maxQueuedRecords: 0 })) as SeglogClientError).code, 'INVALID_ARGUMENT');
  t.is((t.throws(() => client.producer({ maxBlockMs: 1.5 })) as SeglogClientError).code, 'INVALID_ARGUMENT');
});
