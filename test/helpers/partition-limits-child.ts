// Child process for test/engine/partition-limits.test.ts, started under a lowered open-file limit
// (prlimit). Runs one scenario against an engine in <dir> and prints one JSON line with what it saw;
// exits 0 when the scenario ran to its end (the test checks the figures).
// Usage: node partition-limits-child.js <scenario> <dir>
//   wide      a 500-partition topic: produce to every partition, read every record back, describe,
//             then another topic; reports the most descriptors seen and every error code
//   exhausted descriptors taken by someone else (the child opens /dev/null until EMFILE): the engine's
//             calls that need one fail with TOO_MANY_OPEN_FILES, the rest keep working, and after the
//             descriptors are given back everything works again
//   tiny      Engine.open under a limit that cannot hold one partition log
import fs from 'node:fs';
import { Engine } from '../../engine/index.js';

const WIDE_PARTITIONS = 500;
const WIDE_KEYED_RECORDS = 5000;
/** Upper bound of descriptors the exhausted scenario takes (well above any limit it runs under). */
const HOG_FDS_MAX = 100_000;

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;
const codeOf = (e: unknown): string => String((e as { code?: unknown })?.code ?? (e as Error)?.message ?? e);

async function wide(dir: string): Promise<Record<string, unknown>> {
  let maxFds = openFds();
  const sample = (): void => void (maxFds = Math.max(maxFds, openFds()));
  const engine = await Engine.open({ dir });
  const budget = engine.fileBudget();
  let maxLogs = 0;
  const sampleLogs = (): void => void (maxLogs = Math.max(maxLogs, engine.fileBudget().logsHoldingFds));
  await engine.createTopic('wide', { partitions: WIDE_PARTITIONS });
  sample();
  // One call spanning (nearly) every partition: keys spread over all of them.
  const keyed = await engine.produce('wide', Array.from({ length: WIDE_KEYED_RECORDS }, (_, i) => ({ key: `k${i}`, value: `keyed-${i}` })));
  sample();
  sampleLogs();
  // Then one call per partition, all at once.
  await Promise.all(
    Array.from({ length: WIDE_PARTITIONS }, async (_, p) => {
      await engine.produce('wide', [{ value: `p${p}` }], { partition: p });
      sampleLogs();
    }),
  );
  sample();
  // Read every record back, synchronously, partition after partition.
  const expected = new Map<number, number>();
  for (const a of keyed) expected.set(a.partition, (expected.get(a.partition) ?? 0) + 1);
  let records = 0;
  let mismatches = 0;
  for (let p = 0; p < WIDE_PARTITIONS; p++) {
    const rs = engine.read('wide', p, 0, { maxRecords: WIDE_KEYED_RECORDS + 1 });
    sampleLogs();
    records += rs.length;
    if (rs.length !== (expected.get(p) ?? 0) + 1 || rs[rs.length - 1]!.value!.toString() !== `p${p}`) mismatches++;
  }
  sample();
  const d = engine.describeTopic('wide');
  const described = d.partitions.reduce((n, x) => n + x.endOffset, 0);
  await engine.createTopic('after', { partitions: 3 });
  const after = await engine.produce('after', [{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
  const afterRead = after.map((a) => engine.read('after', a.partition, a.offset).length).reduce((x, y) => x + y, 0);
  sample();
  await engine.close();
  return { budget, maxFds, maxLogs, records, mismatches, described, afterRead };
}

async function exhausted(dir: string): Promise<Record<string, unknown>> {
  const engine = await Engine.open({ dir });
  await engine.createTopic('kept', { partitions: 2 });
  await engine.createTopic('cold', { partitions: 4 });
  await engine.produce('kept', [{ value: 'before' }], { partition: 0 });
  await engine.flush();
  // Someone else takes every descriptor left.
  const hog: number[] = [];
  try {
    while (hog.length < HOG_FDS_MAX) hog.push(fs.openSync('/dev/null', 'r'));
  } catch (e) {
    if (codeOf(e) !== 'EMFILE') throw e;
  }
  const codes: Record<string, string> = {};
  const attempt = async (name: string, fn: () => unknown): Promise<void> => {
    try {
      await fn();
      codes[name] = 'ok';
    } catch (e) {
      codes[name] = codeOf(e);
    }
  };
  await attempt('createTopic', () => engine.createTopic('new', { partitions: 8 }));
  await attempt('firstWrite', () => engine.produce('cold', [{ value: 'x' }], { partition: 3 }));
  // An open log needs no new descriptor: its topic keeps being served.
  await attempt('writeOpenLog', () => engine.produce('kept', [{ value: 'during' }], { partition: 0 }));
  await attempt('readOpenLog', () => {
    if (engine.read('kept', 0, 0).length !== 2) throw new Error('lost a record');
  });
  await attempt('describe', () => engine.describeTopic('kept'));
  const topicsDuring = engine.listTopics();
  for (const fd of hog) fs.closeSync(fd);
  // What the failed calls left (listed once there is a descriptor to list with).
  const leftovers = fs.readdirSync(dir).filter((n) => n.startsWith('new') || n === 'cold-3' || n.endsWith('.tmp'));
  await attempt('createTopicAfter', () => engine.createTopic('new', { partitions: 8 }));
  await attempt('firstWriteAfter', () => engine.produce('cold', [{ value: 'x' }], { partition: 3 }));
  await attempt('readAfter', () => {
    if (engine.read('cold', 3, 0).length !== 1) throw new Error('lost a record');
  });
  await engine.close();
  return { hogged: hog.length, codes, topicsDuring, leftovers };
}

async function tiny(dir: string): Promise<Record<string, unknown>> {
  try {
    const engine = await Engine.open({ dir });
    await engine.close();
    return { code: 'opened' };
  } catch (e) {
    return { code: codeOf(e), message: (e as Error).message, leftLock: fs.existsSync(`${dir}/.lock`) };
  }
}

const scenarios: Record<string, (dir: string) => Promise<Record<string, unknown>>> = { wide, exhausted, tiny };
const [scenario, dir] = process.argv.slice(2);
const run = scenarios[scenario ?? ''];
if (run === undefined || dir === undefined) {
  process.stderr.write('usage: partition-limits-child.js <wide|exhausted|tiny> <dir>\n');
  process.exit(2);
}
const limit = /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1];
run(dir).then(
  (result) => process.stdout.write(`${JSON.stringify({ limit: Number(limit), ...result })}\n`),
  (e) => {
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
