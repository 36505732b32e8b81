import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OffsetStore, validateGroupName } from '../../engine/offset-store.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-offsets-'));
}

test('commit, get, list; values survive reopen', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await OffsetStore.open(dir);
  t.is(store.get('g', 't', 0), null);
  await store.commit('g', 't', 0, 5);
  await store.commit('g', 't', 1, 7);
  await store.commit('g', 'a', 3, 1);
  await store.commit('g', 't', 0, 9);
  await store.commit('other', 't', 0, 100);
  t.is(store.get('g', 't', 0), 9);
  t.deepEqual(store.list('g'), [
    { topic: 'a', partition: 3, offset: 1 },
    { topic: 't', partition: 0, offset: 9 },
    { topic: 't', partition: 1, offset: 7 },
  ]);
  await store.close();
  const again = await OffsetStore.open(dir);
  t.is(again.get('g', 't', 0), 9);
  t.is(again.get('g', 't', 1), 7);
  t.is(again.get('other', 't', 0), 100);
  t.is(again.loadInfo.truncatedBytes, 0);
  await again.close();
});

test('many concurrent commits are group-committed and the last one per key wins', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await OffsetStore.open(dir);
  const commits: Promise<void>[] = [];
  for (let i = 0; i < 2000; i++) commits.push(store.commit(`g${i % 10}`, 'topic', i % 4, i));
  await Promise.all(commits);
  for (let g = 0; g < 10; g++) {
    for (let p = 0; p < 4; p++) {
      // last i with i%10==g and i%4==p
      let last = -1;
      for (let i = 0; i < 2000; i++) if (i % 10 === g && i % 4 === p) last = i;
      t.is(store.get(`g${g}`, 'topic', p), last === -1 ? null : last);
    }
  }
  await store.close();
});

test('a torn last entry is ignored and cut on load; later commits follow the last good entry', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await OffsetStore.open(dir);
  await store.commit('g', 't', 0, 1);
  await store.commit('g', 't', 0, 2);
  await store.close();
  const file = path.join(dir, 'consumer-offsets.journal');
  const good = fs.statSync(file).size;
  // Simulate a crash mid-write: the first 11 bytes of a further entry.
  const full = fs.readFileSync(file);
  fs.appendFileSync(file, full.subarray(0, 11));
  const again = await OffsetStore.open(dir);
  t.is(again.get('g', 't', 0), 2);
  t.is(again.loadInfo.truncatedBytes, 11);
  t.is(fs.statSync(file).size, good);
  await again.commit('g', 't', 0, 3);
  await again.close();
  const third = await OffsetStore.open(dir);
  t.is(third.get('g', 't', 0), 3);
  await third.close();
});

test('a corrupt entry (flipped byte) stops replay there', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await OffsetStore.open(dir);
  await store.commit('g', 't', 0, 1);
  const afterFirst = store.journalBytes;
  await store.commit('g', 't', 0, 2);
  await store.close();
  const file = path.join(dir, 'consumer-offsets.journal');
  const data = fs.readFileSync(file);
  data[afterFirst + 12] ^= 0xff;
  fs.writeFileSync(file, data);
  const again = await OffsetStore.open(dir);
  t.is(again.get('g', 't', 0), 1);
  t.is(again.loadInfo.entries, 1);
  await again.close();
});

test('tombstones delete entries, deleteTopic removes a topic from every group', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await OffsetStore.open(dir);
  await store.commit('g1', 't', 0, 1);
  await store.commit('g1', 't', 1, 1);
  await store.commit('g2', 't', 0, 1);
  await store.commit('g2', 'keep', 0, 4);
  await store.deleteTopic('t');
  t.deepEqual(store.list('g1'), []);
  t.deepEqual(store.list('g2'), [{ topic: 'keep', partition: 0, offset: 4 }]);
  await store.close();
  const again = await OffsetStore.open(dir);
  t.is(again.get('g1', 't', 0), null);
  t.is(again.get('g2', 'keep', 0), 4);
  await again.close();
});

test('the journal is compacted when it grows past its live content, and stays correct', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await OffsetStore.open(dir, { compactBytes: 4096 });
  for (let i = 0; i < 500; i++) await store.commit('g', 't', i % 3, i);
  // 500 entries of ~30 bytes would be ~15 KB uncompacted.
  t.true(store.journalBytes < 4096 + 200, `journal is ${store.journalBytes} bytes`);
  await store.close();
  const again = await OffsetStore.open(dir);
  t.is(again.get('g', 't', 0), 498);
  t.is(again.get('g', 't', 1), 499);
  t.is(again.get('g', 't', 2), 497);
  await again.close();
});

test('group names are validated', (t) => {
  t.throws(() => validateGroupName(''), { code: 'INVALID_ARGUMENT' } as never);
  t.throws(() => validateGroupName(5), { code: 'INVALID_ARGUMENT' } as never);
  t.throws(() => validateGroupName('x'.repeat(256)), { code: 'INVALID_ARGUMENT' } as never);
  t.notThrows(() => validateGroupName('x'.repeat(255)));
});

test('commit after close is refused with CLOSED', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await OffsetStore.open(dir);
  await store.close();
  await t.throwsAsync(store.commit('g', 't', 0, 1), { code: 'CLOSED' } as never);
});
