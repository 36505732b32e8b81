import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { OffsetOutOfRangeError } from '../../engine/format/errors.js';
import { Engine } from '../../engine/index.js';
import { encodeBatch } from '../../engine/record-batch.js';
import { topicNameProblem } from '../../engine/topic-name.js';
import { bothModes } from './helpers.js';

const code = (c: string) => ({ code: c }) as never;

const BAD_NAMES: unknown[] = ['../x', '..', '.', 'a/b', 'a\\b', '', 'x'.repeat(250), 'sp ace', 'nul\0', 'ü', 'a:b', null, undefined, 5, {}, ['a']];

test('topic name rules', (t) => {
  for (const name of BAD_NAMES) t.not(topicNameProblem(name), null, String(name));
  for (const name of ['a', 'A-z_0.9', 'x'.repeat(249), '...', '.a', '-', '_'] as const) t.is(topicNameProblem(name), null, name);
});

bothModes('invalid topic names are refused everywhere with INVALID_TOPIC_NAME, nothing escapes the data dir', async (t, fx) => {
  const engine = await fx.open({ autoCreateTopics: true });
  for (const name of BAD_NAMES) {
    await t.throwsAsync(engine.createTopic(name as string), code('INVALID_TOPIC_NAME'), String(name));
    await t.throwsAsync(engine.produce(name as string, [{ value: 'x' }]), code('INVALID_TOPIC_NAME'));
    await t.throwsAsync(engine.appendBatch(name as string, encodeBatch([{ value: 'x' }])), code('INVALID_TOPIC_NAME'));
    t.throws(() => engine.read(name as string, 0, 0), code('INVALID_TOPIC_NAME'));
    t.throws(() => engine.describeTopic(name as string), code('INVALID_TOPIC_NAME'));
    await t.throwsAsync(engine.deleteTopic(name as string), code('INVALID_TOPIC_NAME'));
  }
  t.deepEqual(engine.listTopics(), []);
  const parent = path.dirname(engine.dir);
  t.false(fs.existsSync(path.join(parent, 'x-0')));
  t.deepEqual(fs.readdirSync(engine.dir).filter((n) => !['.lock', 'consumer-offsets.journal'].includes(n)), []);
});

bothModes('unknown topics and partitions give TOPIC_NOT_FOUND / PARTITION_NOT_FOUND', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 2 });
  await t.throwsAsync(engine.produce('nope', [{ value: 'x' }]), code('TOPIC_NOT_FOUND'));
  await t.throwsAsync(engine.appendBatch('nope', encodeBatch([{ value: 'x' }])), code('TOPIC_NOT_FOUND'));
  t.throws(() => engine.read('nope', 0, 0), code('TOPIC_NOT_FOUND'));
  t.throws(() => engine.readBatches('nope', 0, 0), code('TOPIC_NOT_FOUND'));
  t.throws(() => engine.offsets('nope', 0), code('TOPIC_NOT_FOUND'));
  t.throws(() => engine.offsetForTimestamp('nope', 0, 0), code('TOPIC_NOT_FOUND'));
  t.throws(() => engine.watch('nope', 0, () => undefined), code('TOPIC_NOT_FOUND'));
  await t.throwsAsync(engine.commit('g', 'nope', 0, 0), code('TOPIC_NOT_FOUND'));
  await t.throwsAsync(engine.committed('g', 'nope', 0), code('TOPIC_NOT_FOUND'));
  await t.throwsAsync(engine.addPartitions('nope', 4), code('TOPIC_NOT_FOUND'));
  for (const p of [2, 99, -1]) {
    await t.throwsAsync(engine.produce('t', [{ value: 'x' }], { partition: p }), code('PARTITION_NOT_FOUND'));
    await t.throwsAsync(engine.appendBatch('t', encodeBatch([{ value: 'x' }]), { partition: p }), code('PARTITION_NOT_FOUND'));
    t.throws(() => engine.read('t', p, 0), code('PARTITION_NOT_FOUND'));
    t.throws(() => engine.offsets('t', p), code('PARTITION_NOT_FOUND'));
    await t.throwsAsync(engine.commit('g', 't', p, 0), code('PARTITION_NOT_FOUND'));
  }
  for (const p of [0.5, Number.NaN, '0', null]) {
    t.throws(() => engine.read('t', p as number, 0), code('INVALID_ARGUMENT'));
    await t.throwsAsync(engine.produce('t', [{ value: 'x' }], { partition: p as number }), code('INVALID_ARGUMENT'));
  }
  t.deepEqual([engine.offsets('t', 0).endOffset, engine.offsets('t', 1).endOffset], [0, 0], 'nothing written');
});

bothModes('offsets: negative, fractional or out of range give typed errors carrying start and end', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  await engine.produce('t', [{ value: 'a' }, { value: 'b' }]);
  for (const off of [-1, 1.5, Number.NaN, Infinity, '1', null]) {
    t.throws(() => engine.read('t', 0, off as number), code('INVALID_ARGUMENT'), String(off));
    t.throws(() => engine.readBatches('t', 0, off as number), code('INVALID_ARGUMENT'));
    await t.throwsAsync(engine.commit('g', 't', 0, off as number), code('INVALID_ARGUMENT'));
  }
  const e = t.throws(() => engine.read('t', 0, 3), { instanceOf: OffsetOutOfRangeError });
  t.is(e!.code, 'OFFSET_OUT_OF_RANGE');
  t.is(e!.startOffset, 0);
  t.is(e!.endOffset, 2);
  t.throws(() => engine.readBatches('t', 0, 100), code('OFFSET_OUT_OF_RANGE'));
  t.throws(() => engine.offsetForTimestamp('t', 0, 1.5), code('INVALID_ARGUMENT'));
  t.throws(() => engine.read('t', 0, 0, { maxRecords: 0 }), code('INVALID_ARGUMENT'));
  t.throws(() => engine.read('t', 0, 0, { maxBytes: -5 }), code('INVALID_ARGUMENT'));
});

bothModes('oversized batches and records give BATCH_TOO_LARGE, nothing written', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { maxBatchBytes: 4096, segmentBytes: 64 * 1024 });
  await engine.produce('t', [{ value: 'ok' }]);
  await t.throwsAsync(engine.produce('t', [{ value: 'x'.repeat(5000) }]), code('BATCH_TOO_LARGE'));
  // A call whose one record is too large writes none of the others either.
  await t.throwsAsync(engine.produce('t', [{ value: 'small' }, { value: 'x'.repeat(5000) }]), code('BATCH_TOO_LARGE'));
  const big = encodeBatch(Array.from({ length: 100 }, () => ({ value: 'y'.repeat(100) })));
  await t.throwsAsync(engine.appendBatch('t', big), code('BATCH_TOO_LARGE'));
  t.deepEqual(engine.offsets('t', 0), { startOffset: 0, endOffset: 1 });
  t.deepEqual(engine.read('t', 0, 0).map((r) => r.value?.toString()), ['ok']);
});

bothModes('corrupt producer batches (flipped bytes, lying lengths, bad magic, codec) are refused, nothing written', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  await engine.produce('t', [{ value: 'before' }]);
  const good = encodeBatch([{ key: 'k', value: 'v' }, { value: 'w' }]);
  const variants: Array<[string, Buffer]> = [];
  const flipped = Buffer.from(good);
  flipped[good.length - 2] ^= 0x40;
  variants.push(['flipped record byte', flipped]);
  const flippedHeader = Buffer.from(good);
  flippedHeader[40] ^= 1; // producerId, inside the CRC
  variants.push(['flipped header byte', flippedHeader]);
  const longer = Buffer.from(good);
  longer.writeInt32BE(good.length, 8); // batchLength says 12 more bytes than there are
  variants.push(['length too long', longer]);
  const shorter = Buffer.from(good);
  shorter.writeInt32BE(good.length - 20, 8);
  variants.push(['length too short', shorter]);
  variants.push(['truncated', good.subarray(0, good.length - 3)]);
  variants.push(['trailing garbage', Buffer.concat([good, Buffer.from([1, 2, 3])])]);
  variants.push(['header only', good.subarray(0, 30)]);
  variants.push(['empty', Buffer.alloc(0)]);
  const magic = Buffer.from(good);
  magic[16] = 1;
  variants.push(['magic 1', magic]);
  const count = Buffer.from(good);
  count.writeInt32BE(5, 57);
  variants.push(['record count lies', count]);
  for (const [what, bytes] of variants) {
    const err = await t.throwsAsync(engine.appendBatch('t', bytes), undefined, what);
    t.true(['CORRUPT_RECORD', 'INVALID_RECORD'].includes((err as { code?: string })?.code ?? ''), `${what}: ${String(err)}`);
  }
  await t.throwsAsync(engine.appendBatch('t', 'not bytes' as never), code('INVALID_ARGUMENT'));
  t.deepEqual(engine.offsets('t', 0), { startOffset: 0, endOffset: 1 }, 'end offset unchanged');
  t.deepEqual(engine.read('t', 0, 0).map((r) => r.value?.toString()), ['before'], 'data still readable');
  // And the log still takes good data after all that.
  t.deepEqual(await engine.appendBatch('t', good), { partition: 0, baseOffset: 1, lastOffset: 2 });
});

bothModes('bad records and options in produce: typed errors, nothing written', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t', { partitions: 2 });
  await t.throwsAsync(engine.produce('t', 'x' as never), code('INVALID_ARGUMENT'));
  await t.throwsAsync(engine.produce('t', [{ value: 5 as never }]), code('INVALID_RECORD'));
  await t.throwsAsync(engine.produce('t', [{ value: 'ok' }, null as never]), { message: /record 1/ });
  await t.throwsAsync(engine.produce('t', [{ key: 7 as never, value: 'x' }]), code('INVALID_ARGUMENT'));
  await t.throwsAsync(engine.produce('t', [{ value: 'x', timestamp: 1.5 }]), code('INVALID_RECORD'));
  await t.throwsAsync(engine.produce('t', [{ value: 'x', headers: [{ key: 3 as never, value: 'v' }] }]), code('INVALID_RECORD'));
  await t.throwsAsync(engine.produce('t', [{ value: 'x' }], { acks: 'all' as never }), code('INVALID_ARGUMENT'));
  // Keyed records to several partitions, one of them bad: nothing is written anywhere.
  await t.throwsAsync(engine.produce('t', [{ key: 'a', value: 'x' }, { key: 'b', value: 'y' }, { key: 'c', value: {} as never }]), code('INVALID_RECORD'));
  t.deepEqual([engine.offsets('t', 0).endOffset, engine.offsets('t', 1).endOffset], [0, 0]);
  t.deepEqual(await engine.produce('t', []), []);
});

bothModes('bad group names and watch listeners', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  await t.throwsAsync(engine.commit('', 't', 0, 0), code('INVALID_ARGUMENT'));
  await t.throwsAsync(engine.commit('g'.repeat(256), 't', 0, 0), code('INVALID_ARGUMENT'));
  await t.throwsAsync(engine.committed(5 as never, 't', 0), code('INVALID_ARGUMENT'));
  await t.throwsAsync(engine.listCommitted(null as never), code('INVALID_ARGUMENT'));
  t.throws(() => engine.watch('t', 0, 'nope' as never), code('INVALID_ARGUMENT'));
});

bothModes('a throwing watcher does not break appends or other watchers', async (t, fx) => {
  const engine = await fx.open();
  await engine.createTopic('t');
  let calls = 0;
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  engine.watch('t', 0, () => {
    throw new Error('boom');
  });
  engine.watch('t', 0, () => void calls++);
  await engine.produce('t', [{ value: 'x' }]);
  for (let i = 0; i < 10 && (calls === 0 || warnings.length === 0); i++) await new Promise((r) => setImmediate(r));
  t.is(calls, 1);
  t.true(warnings.some((w) => w.includes('boom')));
  t.is(engine.offsets('t', 0).endOffset, 1);
});

test('produce and appendBatch with null options give a typed error or use the defaults, never a TypeError', async (t) => {
  const engine = await Engine.open({ memory: true });
  t.teardown(() => engine.close());
  await engine.createTopic('t');
  const acks = await engine.produce('t', [{ value: 'a' }], null as never);
  t.deepEqual(acks, [{ partition: 0, offset: 0 }]);
  const res = await engine.appendBatch('t', encodeBatch([{ value: 'b' }]), null as never);
  t.is(res.baseOffset, 1);
  await t.throwsAsync(engine.produce('t', [{ value: 'a' }], 'flushed' as never), code('INVALID_ARGUMENT'));
});
