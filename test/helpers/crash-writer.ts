// Child process for the crash test: appends batches to a partition log with `written` acks and
// prints "<baseOffset> <lastOffset> <sequence>\n" for each ack, until it is killed (or a bound is hit).
// Batch n holds (n % 7) + 1 records whose values are "n-<sequence>-<i>" and alternate none/lz4.
// Usage: node crash-writer.js <dir> [maxBatches]
import { PartitionLog } from '../../engine/partition-log.js';
import { encodeBatch } from '../../engine/record-batch.js';

export function crashBatch(sequence: number): Buffer {
  const count = (sequence % 7) + 1;
  const records = Array.from({ length: count }, (_, i) => ({
    key: `k${i}`,
    value: `n-${sequence}-${i}-${'x'.repeat(sequence % 300)}`,
    timestamp: 1_700_000_000_000 + sequence,
  }));
  return encodeBatch(records, { compression: sequence % 2 === 0 ? 'none' : 'lz4' });
}

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const maxBatches = Number(process.argv[3] ?? 1_000_000);
  const log = PartitionLog.open({ dir, segmentBytes: 256 * 1024, indexIntervalBytes: 1024, flushIntervalMs: 5 });
  process.stdout.write(`ready ${log.endOffset}\n`);
  let sequence = 0;
  // Resume the sequence numbering from what is already there, so values stay unique across runs.
  if (log.endOffset > 0) sequence = Number(process.argv[4] ?? 0);
  for (let burst = 0; sequence < maxBatches; burst++) {
    for (let i = 0; i < 50 && sequence < maxBatches; i++, sequence++) {
      const r = log.append(crashBatch(sequence));
      // Pipes are written synchronously on Linux, so a printed ack left the process before the next append.
      process.stdout.write(`${r.baseOffset} ${r.lastOffset} ${sequence}\n`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await log.close();
  process.stdout.write('done\n');
}

// Only run as a script (the test imports crashBatch).
if (process.argv[1] !== undefined && import.meta.url === new URL(process.argv[1], 'file://').href) {
  main().catch((e) => {
    process.stderr.write(String(e?.stack ?? e) + '\n');
    process.exit(1);
  });
}
