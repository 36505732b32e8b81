// Child process for the lock tests.
//   node lock-holder.js hold <dir>   opens a PartitionLog on <dir>, prints "locked", waits to be killed
//   node lock-holder.js try <dir>    tries to open it, prints "opened" or the error code, exits
import { PartitionLog } from '../../engine/partition-log.js';

const [mode, dir] = process.argv.slice(2);
try {
  const log = PartitionLog.open({ dir: dir!, segmentBytes: 64 * 1024, flushIntervalMs: 0 });
  process.stdout.write(mode === 'hold' ? 'locked\n' : 'opened\n');
  if (mode === 'hold') {
    setInterval(() => {}, 1000); // until killed (the test bounds its life)
    setTimeout(() => process.exit(0), 30_000);
  } else {
    await log.close();
  }
} catch (e) {
  process.stdout.write(`${(e as { code?: string }).code ?? String(e)}\n`);
}
