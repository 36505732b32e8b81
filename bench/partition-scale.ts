// Time, memory and event-loop stalls of topic admin at the documented partition counts, on disk:
// createTopic (which returns the description) and describeTopic of a fresh topic, describeTopic
// after a restart (closed partitions described from their files), and one produce per partition
// plus a describe of the written topic. Not part of `npm run bench` (it measures admin, not
// throughput). Run: node dist/bench/partition-scale.js [partitions ...]  (default 1000 10000)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../engine/index.js';

const MiB = 1024 * 1024;
/** Probe period of the event-loop stall measurement. */
const PROBE_INTERVAL_MS = 1;

interface Step {
  step: string;
  ms: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  maxLoopDelayMs: number;
}

/** Runs `fn`, recording wall time, RSS before/after and the longest gap between 1 ms timer ticks. */
async function measure(step: string, fn: () => unknown): Promise<Step> {
  let last = performance.now();
  let maxGap = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, PROBE_INTERVAL_MS);
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  last = start;
  await fn();
  const ms = performance.now() - start;
  // One more tick: a stall at the very end shows up only when the probe next runs.
  await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
  maxGap = Math.max(maxGap, performance.now() - last);
  clearInterval(probe);
  return { step, ms, rssBeforeMiB: rssBefore / MiB, rssAfterMiB: process.memoryUsage().rss / MiB, maxLoopDelayMs: maxGap };
}

async function run(partitions: number): Promise<Step[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-partition-scale-'));
  const steps: Step[] = [];
  try {
    let engine = await Engine.open({ dir });
    steps.push(await measure(`createTopic ${partitions}`, () => engine.createTopic('wide', { partitions })));
    steps.push(await measure(`describeTopic ${partitions} (fresh)`, () => engine.describeTopic('wide')));
    await engine.close();
    engine = await Engine.open({ dir });
    steps.push(await measure(`describeTopic ${partitions} (after restart, nothing written)`, () => engine.describeTopic('wide')));
    // One call per event-loop turn, as requests from sockets arrive: the loop delay is then the cost
    // of one first write (it creates the partition's directory and files).
    steps.push(
      await measure(`produce 1 record to each of ${partitions} (1 call per loop turn)`, async () => {
        for (let p = 0; p < partitions; p++) {
          await engine.produce('wide', [{ value: `v${p}` }], { partition: p });
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    steps.push(await measure(`describeTopic ${partitions} (written, logs closed or open)`, () => engine.describeTopic('wide')));
    await engine.close();
    engine = await Engine.open({ dir });
    steps.push(await measure(`describeTopic ${partitions} (written, right after restart)`, () => engine.describeTopic('wide')));
    steps.push(await measure(`describeTopic ${partitions} (written, again)`, () => engine.describeTopic('wide')));
    await engine.close();
    steps.push(
      await measure(`open + background figure reading (written, restart)`, async () => {
        engine = await Engine.open({ dir });
        // The engine's private background task (time-sliced): awaited here only to time it.
        await (engine as unknown as { figuresReading: Promise<void> }).figuresReading;
      }),
    );
    steps.push(await measure(`describeTopic ${partitions} (written, after background reading)`, () => engine.describeTopic('wide')));
    const d = engine.describeTopic('wide');
    if (!d.partitions.every((x) => x.endOffset === 1)) throw new Error('describe after restart lost a record');
    console.log(`  file budget: ${JSON.stringify(engine.fileBudget())}`);
    await engine.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return steps;
}

const counts = process.argv.slice(2).map(Number);
for (const n of counts.length > 0 ? counts : [1000, 10_000]) {
  console.log(`${n} partitions, dir under ${os.tmpdir()}:`);
  for (const s of await run(n)) {
    console.log(
      `  ${s.step.padEnd(58)} ${s.ms.toFixed(1).padStart(9)} ms   RSS ${s.rssBeforeMiB.toFixed(0)} → ${s.rssAfterMiB.toFixed(0)} MiB   max loop delay ${s.maxLoopDelayMs.toFixed(1)} ms`,
    );
  }
}
