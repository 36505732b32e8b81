import path from 'node:path';
import test from 'ava';
import { TimeIndex } from '../../engine/time-index.js';
import { tempDir } from '../helpers/log-fixtures.js';

test('time index: entry 0 may be all zeros; timestamps must grow; lastBelow; reopen counts entries', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const p = path.join(dir, 'x.timeindex');
  const idx = TimeIndex.create(p, 10);
  t.throws(() => idx.append(5, 3), { message: /does not follow/ }, 'the first entry is the first batch');
  idx.append(0, 0); // all-zero entry
  idx.append(100, 7);
  idx.append(-0 + 250, 20);
  t.throws(() => idx.append(250, 30), { message: /does not follow/ });
  t.is(idx.lastBelow(0), null);
  t.deepEqual(idx.lastBelow(1), { timestamp: 0, relativeOffset: 0 });
  t.deepEqual(idx.lastBelow(250), { timestamp: 100, relativeOffset: 7 });
  t.deepEqual(idx.lastBelow(1e15), { timestamp: 250, relativeOffset: 20 });
  t.deepEqual(TimeIndex.readLastEntry(p), { timestamp: 250, relativeOffset: 20 });
  idx.file.closeFd();
  t.is(TimeIndex.open(p, false, true).entries, 3);
  t.is(TimeIndex.open(p, false, false).entries, 0, 'no data, no entries');
  const w = TimeIndex.open(p, true, true);
  w.truncateAfter(7);
  t.is(w.entries, 2);
  t.is(w.lastTimestamp, 100);
  w.append(-5 + 1000, 9);
  t.is(w.entries, 3);
  w.file.closeFd();
});
