// A damaged time index entry that still looks ordered (the seal entry of a sealed segment, which
// holds the segment's newest timestamp) must not make retention delete records early: the newest
// timestamp is checked against the log's batch headers before a segment goes by age.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Engine } from '../../engine/index.js';
import { partitionDirName } from '../../engine/topic-name.js';

const T0 = 1_700_000_000_000;
const RETENTION_MS = 5_000;

test('retention by age checks a sealed segment\'s newest timestamp against the log, not only its time index', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-ret-dmg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let clock = T0 + 10_000;
  // One index entry per segment besides the seal's: the time index is [first batch, newest].
  const open = (): Promise<Engine> => Engine.open({ dir, now: () => clock, indexIntervalBytes: 1 << 30, retentionCheckIntervalMs: 24 * 3600 * 1000 });
  let engine = await open();
  await engine.createTopic('r', { segmentBytes: 64 * 1024, retentionMs: RETENTION_MS });
  await engine.produce('r', [{ value: 'first', timestamp: T0 }], { partition: 0 });
  const value = 'x'.repeat(1000);
  // Bounded: a 64 KiB segment rolls after about 60 of these.
  for (let i = 0; i < 200 && engine.describeTopic('r').partitions[0]!.segments < 3; i++) {
    await engine.produce('r', [{ value, timestamp: T0 + 10_000 }], { partition: 0 });
  }
  t.true(engine.describeTopic('r').partitions[0]!.segments >= 3);
  await engine.close();

  // The first segment's seal entry (entry 1): newest timestamp T0 + 10 s; make it T0 + 1 ms, which
  // still follows entry 0 (T0), so the index looks fine.
  const partitionDir = path.join(dir, partitionDirName('r', 0));
  const timeIndex = path.join(partitionDir, '00000000000000000000.timeindex');
  const bytes = fs.readFileSync(timeIndex);
  t.is(Number(bytes.readBigInt64BE(0)), T0);
  t.is(Number(bytes.readBigInt64BE(12)), T0 + 10_000);
  bytes.writeBigInt64BE(BigInt(T0 + 1), 12);
  fs.writeFileSync(timeIndex, bytes);

  // 12 s after T0: by the damaged index the first segment is 12 s old, by the log 2 s. It stays.
  clock = T0 + 12_000;
  engine = await open();
  t.teardown(() => engine.close());
  const before = engine.describeTopic('r').partitions[0]!;
  t.deepEqual(await engine.runRetention(), []);
  t.is(engine.describeTopic('r').partitions[0]!.startOffset, 0);
  t.is(engine.read('r', 0, 0, { maxRecords: 1 })[0]!.value!.toString(), 'first');
  // Once the log's newest timestamp is older than the retention, it goes.
  clock = T0 + 10_000 + RETENTION_MS + 1;
  const report = await engine.runRetention();
  t.true(report.length === 1 && report[0]!.segmentsDeleted >= 1, JSON.stringify(report));
  t.true(engine.describeTopic('r').partitions[0]!.startOffset > 0);
  t.is(engine.describeTopic('r').partitions[0]!.endOffset, before.endOffset);
});
