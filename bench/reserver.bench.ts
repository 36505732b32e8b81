// What the reservation worker thread (engine/reserver.ts, PartitionLog's backgroundReserve, on by
// default) is worth on this machine: PartitionLog.append (CRC-checked, batches of 1000) with
// reservation on the worker and on the calling thread, with the machine as it is and with a CPU hog
// (a child process spinning on one core) — on 2 cores, the worker then competes with the hog for
// the other one. These are the figures to choose the default by (bench/README.md, suite `reserver`:
// so far no clear winner on 2 cores, so the default stays).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trackChild } from './children.js';
import { RECORD_SIZES, progress, result, type BenchOptions, type BenchResult } from './harness.js';
import { appendRate, makeBatches } from './partition-log.bench.js';

const SUITE = 'reserver';
/** Time for the hog to be scheduled before the first round. */
const HOG_START_MS = 200;

async function withHog<T>(run: () => Promise<T>): Promise<T> {
  const hog = trackChild(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  try {
    await new Promise((r) => setTimeout(r, HOG_START_MS));
    return await run();
  } finally {
    const exited = new Promise((r) => hog.once('exit', r));
    hog.kill('SIGKILL');
    await exited;
  }
}

export async function runReserverBench(options: BenchOptions): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-reserver-'));
  try {
    let n = 0;
    for (const recordBytes of RECORD_SIZES) {
      const batches = makeBatches(recordBytes);
      for (const load of ['as it is', 'one core busy (CPU hog)'] as const) {
        for (const background of [true, false]) {
          const where = background ? 'on the reserver thread (default)' : 'on the calling thread';
          progress(`append, reservation ${where}, machine ${load}, ${recordBytes} B`);
          const measureIt = (): ReturnType<typeof appendRate> => appendRate(path.join(dir, `log-${n++}`), batches, { backgroundReserve: background }, false, options);
          const rate = load === 'as it is' ? await measureIt() : await withHog(measureIt);
          out.push(result(SUITE, `PartitionLog.append, CRC-checked, reservation ${where}, machine ${load}`, recordBytes, rate));
        }
      }
    }
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
