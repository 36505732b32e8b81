// Memory-mode directories left on tmpfs by killed processes are removed by the next memory-mode
// open (engine/memory-dirs.ts); live or unlocked ones are left alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Engine } from '../../engine/engine.js';
import { LOCK_FILE } from '../../engine/dir-lock.js';
import { MEMORY_DIR_PREFIX, sweepOrphanMemoryDirs, tmpfsRoot } from '../../engine/memory-dirs.js';

// No process has this pid (Linux pids stay below 2^22).
const DEAD_HOLDER = '999999999 -';

function makeDir(root: string, name: string, lockTarget: string | null): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, '00000000000000000000.log'), Buffer.alloc(4096, 1));
  if (lockTarget !== null) fs.symlinkSync(lockTarget, path.join(dir, LOCK_FILE));
  return dir;
}

test('the sweep removes memory-mode directories whose lock holder is dead, and nothing else', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-sweep-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const orphan = makeDir(root, `${MEMORY_DIR_PREFIX}dead`, DEAD_HOLDER);
  const live = makeDir(root, `${MEMORY_DIR_PREFIX}live`, `${process.pid} -`);
  const unlocked = makeDir(root, `${MEMORY_DIR_PREFIX}new`, null);
  const other = makeDir(root, 'someone-else', DEAD_HOLDER);
  t.is(sweepOrphanMemoryDirs(root), 1);
  t.false(fs.existsSync(orphan));
  for (const d of [live, unlocked, other]) t.true(fs.existsSync(d), d);
});

test('one sweep looks at no more entries than its limit', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-sweep-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const n of ['a', 'b', 'c']) makeDir(root, `${MEMORY_DIR_PREFIX}${n}`, DEAD_HOLDER);
  t.is(sweepOrphanMemoryDirs(root, 2), 2);
  t.is(fs.readdirSync(root).length, 1);
  t.is(sweepOrphanMemoryDirs(root, 2), 1);
  t.is(fs.readdirSync(root).length, 0);
});

test('a memory-mode engine removes a directory a killed memory-mode process left behind', async (t) => {
  const root = tmpfsRoot();
  const orphan = makeDir(root, `${MEMORY_DIR_PREFIX}test-${process.pid}-${Date.now()}`, DEAD_HOLDER);
  t.teardown(() => fs.rmSync(orphan, { recursive: true, force: true }));
  const engine = await Engine.open({ memory: true });
  t.teardown(() => engine.close());
  t.false(fs.existsSync(orphan));
  // Its own directory is locked by this live process: a second memory engine leaves it alone.
  const second = await Engine.open({ memory: true });
  await second.close();
  await engine.createTopic('still-here', { partitions: 1 });
  t.deepEqual((await engine.produce('still-here', [{ value: 'x' }])).length, 1);
});
