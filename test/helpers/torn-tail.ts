// Builds a data directory whose partition 0 of `topic` ends in a torn batch (a crash mid-write):
// two records a, b in partition 0, one record c in partition 1, then a header-and-a-bit of a third
// batch after partition 0's data and no clean-shutdown marker there. Partition 1 was shut down cleanly.
import fs from 'node:fs';
import path from 'node:path';
import { Engine } from '../../engine/index.js';
import { setBatchBaseOffset } from '../../engine/record-batch.js';
import { partitionDirName } from '../../engine/topic-name.js';
import { makeBatch } from './log-fixtures.js';

/** Bytes of the torn batch that reach the file (less than the whole batch). */
export const TORN_BYTES = 80;

/** Returns partition 0's data size before the torn bytes (where recovery must cut). */
export async function makeTornTail(dir: string, topic: string): Promise<{ cutPosition: number }> {
  const engine = await Engine.open({ dir });
  await engine.createTopic(topic, { partitions: 2 });
  await engine.produce(topic, [{ value: 'a' }, { value: 'b' }], { partition: 0 });
  await engine.produce(topic, [{ value: 'c' }], { partition: 1 });
  const cutPosition = engine.describeTopic(topic).partitions[0]!.sizeBytes;
  await engine.close();
  const partitionDir = path.join(dir, partitionDirName(topic, 0));
  fs.rmSync(path.join(partitionDir, '.clean-shutdown'));
  const torn = makeBatch(5, { valueBytes: 100 });
  setBatchBaseOffset(torn, 0, 2);
  const fd = fs.openSync(path.join(partitionDir, '00000000000000000000.log'), 'r+');
  try {
    fs.writeSync(fd, torn, 0, TORN_BYTES, cutPosition);
  } finally {
    fs.closeSync(fd);
  }
  return { cutPosition };
}
