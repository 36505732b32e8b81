import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Engine } from '../../engine/index.js';
import { until } from '../helpers/until.js';
import { bothModes, onDisk, text } from './helpers.js';
import { lockExists } from '../../engine/dir-lock.js';

const require = createRequire(import.meta.url);
const { Partitioners } = require('kafkajs') as {
  Partitioners: { DefaultPartitioner: () => (args: { topic: string; partitionMetadata: unknown[]; message: { key: string | Buffer } }) => number };
};

bothModes('create, list, describe, delete topics', async (t, fx) => {
  const engine = await fx.open();
  t.deepEqual(engine.listTopics(), []);
  const d = await engine.createTopic('orders', { partitions: 4, retentionBytes: 1 << 20 });
  t.is(d.name, 'orders');
  t.is(d.partitions.length, 4);
  t.is(d.config.retentionBytes, 1 << 20);
  t.is(d.config.compression, 'none');
  await engine.createTopic('a.b_c-D9');
  t.deepEqual(engine.listTopics(), ['a.b_c-D9', 'orders']);
  await t.throwsAsync(engine.createTopic('orders'), { code: 'TOPIC_EXISTS' } as never);
  await engine.produce('orders', [{ value: 'x' }], { partition: 2 });
  await engine.deleteTopic('orders');
  t.deepEqual(engine.listTopics(), ['a.b_c-D9']);
  t.throws(() => engine.describeTopic('orders'), { code: 'TOPIC_NOT_FOUND' } as never);
  await t.throwsAsync(engine.deleteTopic('orders'), { code: 'TOPIC_NOT_FOUND' } as never);
  // Recreated under the same name, it starts empty.
  await engine.createTopic('orders', { partitions: 4 });
  t.deepEqual(engine.offsets('orders', 2), { startOffset: 0, endOffset: 0 });
  t.deepEqual(engine.read('orders', 2, 0), []);
});

bothModes('concurrent createTopic of one name: exactly one wins', async (t, fx) => {
  const engine = await fx.open();
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => engine.createTopic('same', { partitions: 2 })));
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  t.true(results.every((r) => r.status === 'fulfilled' || (r.reason as { code: string }).code === 'TOPIC_EXISTS'));
});

bothModes('engine defaults apply to new topics; topic config overrides them', async (t, fx) => {
  const engine = await fx.open({ partitions: 3, compression: 'lz4', retentionMs: 1000 });
  t.like((await engine.createTopic('x')).config, { partitions: 3, compression: 'lz4', retentionMs: 1000 });
  t.like((await engine.createTopic('y', { partitions: 1, compression: 'none' })).config, { partitions: 1, compression: 'none', retentionMs: 1000 });
});

bothModes('config validation', async (t, fx) => {
  const engine = await fx.open();
  const bad = { code: 'INVALID_ARGUMENT' } as never;
  await t.throwsAsync(engine.createTopic('t', { segmentBytes: 64 * 1024 - 1 }), bad);
  await t.throwsAsync(engine.createTopic('t', { segmentBytes: 2 ** 30 + 1 }), bad);
  await t.throwsAsync(engine.createTopic('t', { partitions: 0 }), bad);
  await t.throwsAsync(engine.createTopic('t', { partitions: 10_001 }), bad);
  await t.throwsAsync(engine.createTopic('t', { partitions: 1.5 }), bad);
  await t.throwsAsync(engine.createTopic('t', { retentionMs: -2 }), bad);
  await t.throwsAsync(engine.createTopic('t', { retentionBytes: Number.NaN }), bad);
  await t.throwsAsync(engine.createTopic('t', { compression: 'gzip' as never }), bad);
  await t.throwsAsync(engine.createTopic('t', { maxBatchBytes: 2 * 1024 * 1024, segmentBytes: 1024 * 1024 }), bad);
  await t.throwsAsync(engine.createTopic('t', { segmentMs: 0 }), bad);
  await t.throwsAsync(engine.createTopic('t', { retentoinMs: 5 } as never), bad);
  t.deepEqual(engine.listTopics(), [], 'nothing created');
  await t.notThrowsAsync(engine.createTopic('t', { segmentBytes: 64 * 1024, maxBatchBytes: 64 * 1024, retentionMs: -1, retentionBytes: 0 }));
});

bothModes('addPartitions grows a topic; it cannot shrink', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 2 });
  await engine.produce('t', [{ value: 'a' }], { partition: 1 });
  const d = await engine.addPartitions('t', 5);
  t.is(d.partitions.length, 5);
  t.is(d.config.partitions, 5);
  t.deepEqual(d.partitions.map((p) => p.endOffset), [0, 1, 0, 0, 0]);
  await engine.produce('t', [{ value: 'b' }], { partition: 4 });
  t.deepEqual(engine.read('t', 4, 0).map((r) => text(r.value)), ['b']);
  await t.throwsAsync(engine.addPartitions('t', 5), { code: 'INVALID_ARGUMENT' } as never);
  await t.throwsAsync(engine.addPartitions('t', 3), { code: 'INVALID_ARGUMENT' } as never);
  await t.throwsAsync(engine.addPartitions('nope', 3), { code: 'TOPIC_NOT_FOUND' } as never);
});

bothModes('autoCreateTopics: off by default, creates with defaults when on', async (t, fx) => {
  const off = await fx.open();
  await t.throwsAsync(off.produce('auto', [{ value: 'x' }]), { code: 'TOPIC_NOT_FOUND' } as never);
  await off.close();
  const on = await fx.open({ autoCreateTopics: true, partitions: 2 });
  const results = await Promise.all([on.produce('auto', [{ value: 'x' }], { partition: 0 }), on.produce('auto', [{ value: 'y' }], { partition: 0 })]);
  t.deepEqual(results, [[{ partition: 0, offset: 0 }], [{ partition: 0, offset: 1 }]]);
  t.is(on.describeTopic('auto').partitions.length, 2);
  await t.throwsAsync(on.produce('../bad', [{ value: 'x' }]), { code: 'INVALID_TOPIC_NAME' } as never);
  // subscribe/read never auto-create
  t.throws(() => on.read('other', 0, 0), { code: 'TOPIC_NOT_FOUND' } as never);
});

bothModes('routing: keys land on the partition kafkajs\'s DefaultPartitioner picks', async (t, fx) => {
  const engine = await fx.open();
  const partitions = 7;
  await engine.createTopic('keyed', { partitions });
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }));
  const keys = Array.from({ length: 100 }, (_, i) => `customer-${i * 31}`).concat(['', 'ü', '日本']);
  const results = await engine.produce('keyed', keys.map((key) => ({ key, value: key })));
  for (let i = 0; i < keys.length; i++) {
    t.is(results[i]!.partition, partitioner({ topic: 'keyed', partitionMetadata, message: { key: keys[i]! } }), keys[i]);
    const [r] = engine.read('keyed', results[i]!.partition, results[i]!.offset, { maxRecords: 1 });
    t.is(text(r!.key), keys[i]!);
  }
  // Byte keys too.
  const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01]);
  const [b] = await engine.produce('keyed', [{ key: bytes, value: 'b' }]);
  t.is(b!.partition, partitioner({ topic: 'keyed', partitionMetadata, message: { key: bytes } }));
});

bothModes('round robin: keyless produce calls spread evenly; one call goes to one partition', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('rr', { partitions: 4 });
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 400; i++) {
    const res = await engine.produce('rr', [{ value: `a${i}` }, { value: `b${i}` }]);
    t.is(res[0]!.partition, res[1]!.partition, 'records of one call share a batch');
    counts[res[0]!.partition]++;
  }
  t.deepEqual(counts, [100, 100, 100, 100]);
  // Mixed: keyed records by key, keyless ones together.
  const mixed = await engine.produce('rr', [{ key: 'k', value: '1' }, { value: '2' }, { value: '3' }]);
  t.is(mixed[1]!.partition, mixed[2]!.partition);
});

bothModes('a produce larger than maxBatchBytes is split into several batches, offsets contiguous', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('big', { maxBatchBytes: 4096, segmentBytes: 64 * 1024 });
  const records = Array.from({ length: 200 }, (_, i) => ({ value: `value-${i}-`.padEnd(100, 'x') }));
  const res = await engine.produce('big', records);
  t.deepEqual(res.map((r) => r.offset), Array.from({ length: 200 }, (_, i) => i));
  const { batches } = engine.readBatches('big', 0, 0, { maxBytes: 1 << 20 });
  t.true(batches.length > 1);
  let all: string[] = [];
  let next = 0;
  for (let i = 0; i < 100 && next < 200; i++) {
    const rs = engine.read('big', 0, next);
    all = all.concat(rs.map((r) => text(r.value)!));
    next = rs[rs.length - 1]!.offset + 1;
  }
  t.deepEqual(all, records.map((r) => r.value));
});

bothModes('many partitions with a small maxOpenPartitions: logs are opened lazily and closed LRU, data intact', async (t, fx) => {
  const engine = await fx.open({ maxOpenPartitions: 4 });
  await engine.createTopic('wide', { partitions: 40, segmentBytes: 64 * 1024 });
  for (let round = 0; round < 3; round++) {
    for (let p = 0; p < 40; p++) await engine.produce('wide', [{ value: `${p}:${round}` }], { partition: p });
  }
  // Concurrent produce to all partitions while logs are being evicted.
  await Promise.all(Array.from({ length: 40 }, (_, p) => engine.produce('wide', [{ value: `${p}:3` }], { partition: p })));
  for (let p = 0; p < 40; p++) {
    t.deepEqual(engine.read('wide', p, 0).map((r) => text(r.value)), [0, 1, 2, 3].map((r) => `${p}:${r}`));
  }
  const d = engine.describeTopic('wide');
  t.true(d.partitions.every((x) => x.endOffset === 4));
});

onDisk('partition directories are <topic>-<partition>; deleteTopic removes them', async (t, dir, open) => {
  const engine = await open();
  await engine.createTopic('logs', { partitions: 2 });
  await engine.produce('logs', [{ value: 'x' }], { partition: 0 });
  await engine.produce('logs', [{ value: 'y' }], { partition: 1 });
  t.true(fs.existsSync(path.join(dir, 'logs-0')));
  t.true(fs.existsSync(path.join(dir, 'logs-1')));
  await engine.deleteTopic('logs');
  const left = fs.readdirSync(dir).filter((n) => n.startsWith('logs'));
  t.deepEqual(left, []);
});

onDisk('restart after delete: the topic stays deleted, its committed offsets too', async (t, _dir, open) => {
  const first = await open();
  await first.createTopic('gone');
  await first.createTopic('kept');
  await first.commit('g', 'gone', 0, 1);
  await first.commit('g', 'kept', 0, 1);
  await first.deleteTopic('gone');
  await first.close();
  const second = await open();
  t.deepEqual(second.listTopics(), ['kept']);
  t.deepEqual(await second.listCommitted('g'), [{ topic: 'kept', partition: 0, offset: 1 }]);
});

onDisk('leftovers of an interrupted delete are removed on open and do not resurface in a new topic', async (t, dir, open) => {
  const first = await open();
  await first.createTopic('t');
  await first.produce('t', [{ value: 'old' }]);
  await first.close();
  // Simulate a crash after topics.json was updated but before the files were removed.
  fs.writeFileSync(path.join(dir, 'topics.json'), JSON.stringify({ format: 'seglog-topics', version: 1, topics: {} }));
  fs.mkdirSync(path.join(dir, 'x-0.abc-delete'));
  const second = await open();
  t.deepEqual(second.listTopics(), []);
  t.false(fs.existsSync(path.join(dir, 't-0')));
  t.false(fs.existsSync(path.join(dir, 'x-0.abc-delete')));
  await second.createTopic('t');
  t.deepEqual(second.read('t', 0, 0), []);
});

onDisk('a corrupt topics.json stops the open instead of losing topics', async (t, dir, open) => {
  const first = await open();
  await first.createTopic('t');
  await first.close();
  fs.writeFileSync(path.join(dir, 'topics.json'), '{"format":"seglog-top');
  await t.throwsAsync(Engine.open({ dir }), { code: 'IO_ERROR' } as never);
  t.true(fs.existsSync(path.join(dir, 't-0')) || true);
  // The lock was released: a fixed file opens.
  fs.writeFileSync(path.join(dir, 'topics.json'), JSON.stringify({ format: 'seglog-topics', version: 1, topics: { t: { config: { partitions: 1 } } } }));
  const again = await open();
  t.deepEqual(again.listTopics(), ['t']);
});

onDisk('partition directories without topics.json are adopted, not deleted', async (t, dir, open) => {
  const first = await open();
  await first.createTopic('t', { partitions: 2 });
  await first.produce('t', [{ value: 'keep me' }], { partition: 1 });
  await first.close();
  fs.rmSync(path.join(dir, 'topics.json'));
  const second = await open();
  t.deepEqual(second.listTopics(), ['t']);
  t.deepEqual(second.read('t', 1, 0).map((r) => text(r.value)), ['keep me']);
});

test('topic registry file is written atomically (no temp file left, valid JSON)', async (t) => {
  const engine = await Engine.open({ memory: true });
  t.teardown(() => engine.close());
  await engine.createTopic('a');
  await engine.createTopic('b', { partitions: 2 });
  const files = fs.readdirSync(engine.dir);
  t.false(files.includes('topics.json.tmp'));
  const doc = JSON.parse(fs.readFileSync(path.join(engine.dir, 'topics.json'), 'utf8'));
  t.deepEqual(Object.keys(doc.topics), ['a', 'b']);
  t.is(doc.topics.b.config.partitions, 2);
});

onDisk('describeTopic, offsets and retention use the figures of evicted logs without reopening them', async (t, dir, open) => {
  const engine = await open({ maxOpenPartitions: 2, retentionMs: 3_600_000 });
  const P = 10;
  await engine.createTopic('cold', { partitions: P });
  for (let p = 0; p < P; p++) await engine.produce('cold', Array.from({ length: p + 1 }, (_, i) => ({ value: `${p}:${i}` })), { partition: p });
  const before = engine.describeTopic('cold');
  // Wait (bounded) until the evicted logs have released their locks.
  const lockOf = (p: number): string => path.join(dir, `cold-${p}`, '.lock');
  await until(() => Array.from({ length: P }, (_, p) => lockExists(lockOf(p))).filter(Boolean).length <= 2, 'evicted logs released their locks');
  const openBefore = Array.from({ length: P }, (_, p) => lockExists(lockOf(p)));
  t.true(openBefore.filter(Boolean).length <= 2);
  const after = engine.describeTopic('cold');
  t.deepEqual(after, before);
  for (let p = 0; p < P; p++) {
    t.deepEqual(after.partitions[p]!.endOffset, p + 1);
    t.deepEqual(engine.offsets('cold', p), { startOffset: 0, endOffset: p + 1 });
  }
  t.deepEqual(await engine.runRetention(), []);
  // None of that reopened a closed log.
  t.deepEqual(Array.from({ length: P }, (_, p) => lockExists(lockOf(p))), openBefore);
  // And a closed partition still reads and appends correctly (reopened on demand).
  const cold = openBefore.indexOf(false);
  t.deepEqual(engine.read('cold', cold, 0).map((r) => text(r.value)), Array.from({ length: cold + 1 }, (_, i) => `${cold}:${i}`));
  t.deepEqual(await engine.produce('cold', [{ value: 'x' }], { partition: cold }), [{ partition: cold, offset: cold + 1 }]);
  t.is(engine.describeTopic('cold').partitions[cold]!.endOffset, cold + 2);
});
