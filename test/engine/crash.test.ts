// Crash: a child process appends with `written` acks and is killed with SIGKILL mid-stream; the
// reopened log must hold every acked record, with contiguous offsets and nothing after the last valid
// batch. Two rounds, so the second writer also starts from a recovered log.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { PartitionLog } from '../../engine/partition-log.js';
import { batchBaseOffset, batchLastOffset, decodeRecords } from '../../engine/record-batch.js';
import { crashBatch } from '../helpers/crash-writer.js';
import { tempDir } from '../helpers/log-fixtures.js';

const writerScript = fileURLToPath(new URL('../helpers/crash-writer.js', import.meta.url));

interface Ack {
  base: number;
  last: number;
  sequence: number;
}

/** Runs the writer until `killAfterAcks` acks were printed, then SIGKILLs it. Bounded by a timeout. */
function runAndKill(dir: string, killAfterAcks: number, firstSequence: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, dir, '1000000', String(firstSequence)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let pending = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer did not reach ${killAfterAcks} acks in time (${acks.length}); stderr: ${stderr}`));
    }, 15_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!; // a partial line is not an ack
      for (const line of lines) {
        const m = /^(\d+) (\d+) (\d+)$/.exec(line);
        if (m) acks.push({ base: Number(m[1]), last: Number(m[2]), sequence: Number(m[3]) });
      }
      if (!killed && acks.length >= killAfterAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}/${signal}: ${stderr}`));
      else resolve(acks);
    });
  });
}

test('SIGKILL mid-stream: every acked record survives, offsets contiguous, nothing after the last valid batch', async (t) => {
  const { dir, cleanup } = tempDir('seglog-crash-');
  t.teardown(cleanup);
  const all: Ack[] = [];
  for (const [round, killAfter] of [[0, 1500], [1, 700]] as const) {
    const acks = await runAndKill(dir, killAfter, all.length === 0 ? 0 : all[all.length - 1]!.sequence + 1000);
    t.true(acks.length >= killAfter, `round ${round}: ${acks.length} acks`);
    all.push(...acks);

    const log = PartitionLog.open({ dir, segmentBytes: 256 * 1024, indexIntervalBytes: 1024, flushIntervalMs: 0 });
    t.false(log.recovery.clean, 'a killed writer leaves no clean-shutdown marker');
    t.true(log.segments().length >= 2, 'the writer rolled segments');
    const lastAck = all[all.length - 1]!;
    t.true(log.endOffset >= lastAck.last + 1);

    // Every acked batch, byte for byte in content.
    for (const ack of all) {
      const batch = log.read(ack.base, 1)[0]!;
      const records = decodeRecords(batch);
      const expected = decodeRecords(crashBatch(ack.sequence));
      if (batchBaseOffset(batch) !== ack.base || batchLastOffset(batch) !== ack.last || records.length !== expected.length) {
        t.fail(`acked batch at ${ack.base} (sequence ${ack.sequence}) is not what was appended`);
        break;
      }
      for (let i = 0; i < records.length; i++) {
        if (!records[i]!.value!.equals(expected[i]!.value!)) t.fail(`record ${ack.base + i} differs`);
      }
    }

    // Contiguous offsets from 0 to the end (read() checks every CRC).
    let next = 0;
    for (let guard = 0; next < log.endOffset && guard < 100_000; guard++) {
      for (const b of log.read(next, 256 * 1024)) {
        if (batchBaseOffset(b) !== next) t.fail(`gap: batch at ${batchBaseOffset(b)}, expected ${next}`);
        next = batchLastOffset(b) + 1;
      }
    }
    t.is(next, log.endOffset);

    // Nothing after the last valid batch: only zeros follow the data in the active segment.
    const active = log.segments().at(-1)!;
    const file = path.join(dir, `${String(active.baseOffset).padStart(20, '0')}.log`);
    const bytes = fs.readFileSync(file);
    t.is(bytes.subarray(active.sizeBytes).findIndex((b) => b !== 0), -1);
    await log.close();
  }
});
