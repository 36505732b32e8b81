// Recovery made visible: Engine.recoveryReports(), onRecovery() and openAllPartitions().
import test from 'ava';
import fs from 'node:fs';
import { Engine } from '../../engine/index.js';
import type { PartitionRecovery } from '../../engine/types.js';
import { makeTornTail, TORN_BYTES } from '../helpers/torn-tail.js';
import { tempDir, text } from './helpers.js';

test('a torn tail is cut when its partition opens, and reported with where and how much', async (t) => {
  const dir = tempDir();
  const engines: Engine[] = [];
  t.teardown(async () => {
    for (const e of engines) await e.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const { cutPosition } = await makeTornTail(dir, 'torn');
  const engine = await Engine.open({ dir });
  engines.push(engine);
  // Recovery is lazy: nothing opened, nothing reported yet.
  t.deepEqual(engine.recoveryReports(), []);
  const seen: PartitionRecovery[] = [];
  engine.onRecovery((r) => seen.push(r));
  t.is(await engine.openAllPartitions(), 2);
  const reports = engine.recoveryReports();
  t.is(reports.length, 1, 'partition 1 was shut down cleanly');
  const r = reports[0]!;
  t.like(r, { topic: 'torn', partition: 0, clean: false });
  t.is(r.truncated?.position, cutPosition);
  t.is(r.truncated?.bytes, TORN_BYTES);
  t.is(r.truncated?.segment, '00000000000000000000.log');
  t.true(r.scannedBytes > 0);
  t.deepEqual(seen, reports);
  // What lay before the cut is intact, and appends continue after it.
  t.deepEqual(engine.read('torn', 0, 0).map((x) => text(x.value)), ['a', 'b']);
  await engine.produce('torn', [{ value: 'd' }], { partition: 0 });
  t.deepEqual(engine.read('torn', 0, 0).map((x) => [x.offset, text(x.value)]), [[0, 'a'], [1, 'b'], [2, 'd']]);
  // Opening everything again opens nothing new and reports nothing new.
  t.is(await engine.openAllPartitions(), 0);
  t.is(engine.recoveryReports().length, 1);
  await engine.close();
  // After a clean close there is nothing to recover.
  const again = await Engine.open({ dir });
  engines.push(again);
  await again.openAllPartitions();
  t.deepEqual(again.recoveryReports(), []);
});

test('openAllPartitions keeps at most maxOpenPartitions logs open', async (t) => {
  const dir = tempDir();
  const engines: Engine[] = [];
  t.teardown(async () => {
    for (const e of engines) await e.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const first = await Engine.open({ dir });
  engines.push(first);
  await first.createTopic('many', { partitions: 6 });
  for (let p = 0; p < 6; p++) await first.produce('many', [{ value: `v${p}` }], { partition: p });
  await first.close();
  const engine = await Engine.open({ dir, maxOpenPartitions: 2 });
  engines.push(engine);
  t.is(await engine.openAllPartitions(), 6);
  // Evicted logs leave the open set at once (they finish closing in the background).
  const open = (): number => (engine as unknown as { cache: { openLogs: Map<unknown, unknown> } }).cache.openLogs.size;
  t.true(open() <= 2, `${open()} logs open`);
  for (let p = 0; p < 6; p++) t.deepEqual(engine.read('many', p, 0).map((x) => text(x.value)), [`v${p}`]);
});
