// Partition counts inside the documented limits under real descriptor limits: the file budget
// (engine/fd-budget.ts), describing without opening logs (engine/partition-figures.ts), lazy
// partition files, and failures that leave nothing behind. The limit cases run in a child process
// under `prlimit --nofile` (test/helpers/partition-limits-child.ts).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockExists } from '../../engine/dir-lock.js';
import test from 'ava';
import { Engine, TOPIC_LIMITS } from '../../engine/index.js';
import {
  CLOSING_LOGS_SHARE,
  ENGINE_SHARED_FDS,
  FDS_PER_OPEN_LOG,
  OPEN_FILES_LIMIT_FALLBACK,
  OPEN_FILES_LIMIT_OPTION_MAX,
  OPEN_PARTITIONS_DEFAULT_MAX,
  PROCESS_FDS_FALLBACK,
  SOCKET_RESERVE_SHARE,
  SYNC_OPEN_RESERVE_SHARE,
  currentFdBudget,
  isFdExhaustion,
  parseOpenFilesSoftLimit,
  planFdBudget,
  typedFdError,
} from '../../engine/fd-budget.js';
import { readPartitionFigures } from '../../engine/partition-figures.js';
import { SLICE_STEP_MS, TimeSlice } from '../../engine/time-slice.js';
import { makeTornTail } from '../helpers/torn-tail.js';
import { tempDir, text } from './helpers.js';

const childScript = fileURLToPath(new URL('../helpers/partition-limits-child.js', import.meta.url));
const hasPrlimit = fs.existsSync('/proc/self/limits') && spawnSync('prlimit', ['--version']).status === 0;
/** A child scenario gets this long before it is killed (the 500-partition one takes ~10 s on a slow disk). */
const CHILD_TIMEOUT_MS = 100_000;

/** Runs a child scenario under `prlimit --nofile=<limit>:<limit>` and parses its JSON line. */
function runChild(scenario: string, dir: string, limit: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn('prlimit', [`--nofile=${limit}:${limit}`, process.execPath, childScript, scenario, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // 'close', not 'exit': only then has all of the child's stdout been read.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`child ${scenario} exited with ${code ?? signal}: ${err}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>);
      } catch (e) {
        reject(new Error(`child ${scenario} printed no JSON result (${(e as Error).message}): stdout ${JSON.stringify(out)}, stderr ${err}`));
      }
    });
  });
}

function withDir(t: { teardown(fn: () => void): void }): string {
  const dir = tempDir('seglog-limits-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openEngine(t: { teardown(fn: () => Promise<void>): void }, options: Parameters<typeof Engine.open>[0]): Promise<Engine> {
  const engine = await Engine.open(options);
  t.teardown(() => engine.close().catch(() => undefined));
  return engine;
}

/** Partition directories holding a `.lock`, i.e. whose log is open. */
const lockedPartitionDirs = (dir: string): string[] =>
  fs.readdirSync(dir).filter((n) => lockExists(path.join(dir, n, '.lock')));

// --- the budget ------------------------------------------------------------------------------------

test('planFdBudget: sockets keep their share, each log counts FDS_PER_OPEN_LOG, the default LRU leaves room for closing logs', (t) => {
  const b = planFdBudget(1024, 20);
  t.is(b.socketReserveFds, Math.ceil(1024 * SOCKET_RESERVE_SHARE));
  t.is(b.maxLogsHoldingFds, Math.floor((1024 - b.socketReserveFds - 20 - ENGINE_SHARED_FDS) / FDS_PER_OPEN_LOG));
  t.is(b.maxLogsForWrites, b.maxLogsHoldingFds - Math.ceil(b.maxLogsHoldingFds * SYNC_OPEN_RESERVE_SHARE));
  t.is(b.defaultMaxOpenPartitions, b.maxLogsHoldingFds - Math.ceil(b.maxLogsHoldingFds * CLOSING_LOGS_SHARE));
  // Everything the engine may hold stays inside the limit, with the sockets' share untouched.
  t.true(b.maxLogsHoldingFds * FDS_PER_OPEN_LOG + ENGINE_SHARED_FDS + 20 + b.socketReserveFds <= 1024);
  // A large limit: the default cap applies.
  t.is(planFdBudget(1_048_576, 20).defaultMaxOpenPartitions, OPEN_PARTITIONS_DEFAULT_MAX);
  t.is(planFdBudget(Infinity, 20).openFilesLimit, OPEN_FILES_LIMIT_OPTION_MAX);
  // Too small for one log.
  t.is(planFdBudget(48, 20).maxLogsHoldingFds, 0);
  // One log: writes and the LRU may use it.
  const one = planFdBudget(Math.ceil((20 + ENGINE_SHARED_FDS + FDS_PER_OPEN_LOG) / (1 - SOCKET_RESERVE_SHARE)) + 1, 20);
  t.is(one.maxLogsHoldingFds, 1);
  t.is(one.maxLogsForWrites, 1);
  t.is(one.defaultMaxOpenPartitions, 1);
});

test('the soft "Max open files" of /proc/self/limits is read; without /proc conservative fallbacks apply', (t) => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 4096                 files     \n';
  t.is(parseOpenFilesSoftLimit(limits), 1024);
  t.is(parseOpenFilesSoftLimit(limits.replace('1024 ', 'unlimited')), Infinity);
  t.is(parseOpenFilesSoftLimit('Max processes 10 10\n'), null);
  const fallback = currentFdBudget(undefined, { softLimit: () => null, openFds: () => null });
  t.is(fallback.openFilesLimit, OPEN_FILES_LIMIT_FALLBACK);
  t.is(fallback.inUseAtOpenFds, PROCESS_FDS_FALLBACK);
  t.is(currentFdBudget(500, { softLimit: () => 9999, openFds: () => 7 }).openFilesLimit, 500);
});

test('EMFILE and ENFILE, also wrapped as a cause, become TOO_MANY_OPEN_FILES; other errors pass unchanged', (t) => {
  const emfile = Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
  const wrapped = new Error('cannot write topics.json', { cause: Object.assign(new Error('ENFILE'), { code: 'ENFILE' }) });
  t.true(isFdExhaustion(emfile));
  t.true(isFdExhaustion(wrapped));
  t.is((typedFdError(emfile, 'x') as { code: string }).code, 'TOO_MANY_OPEN_FILES');
  t.is((typedFdError(wrapped, 'x') as { code: string }).code, 'TOO_MANY_OPEN_FILES');
  const other = Object.assign(new Error('EACCES'), { code: 'EACCES' });
  t.is(typedFdError(other, 'x'), other);
});

test('Engine.open refuses a limit too small for one log and a maxOpenPartitions the limit cannot hold (TOO_MANY_OPEN_FILES)', async (t) => {
  const dir = withDir(t);
  await t.throwsAsync(Engine.open({ dir, openFilesLimit: 40 }), { code: 'TOO_MANY_OPEN_FILES' } as never);
  const fit = currentFdBudget(1024).maxLogsHoldingFds;
  await t.throwsAsync(Engine.open({ dir, openFilesLimit: 1024, maxOpenPartitions: fit + 1 }), { code: 'TOO_MANY_OPEN_FILES', message: /maxOpenPartitions/ } as never);
  await t.throwsAsync(Engine.open({ dir, openFilesLimit: OPEN_FILES_LIMIT_OPTION_MAX + 1 }), { code: 'INVALID_ARGUMENT' } as never);
  // Nothing was left locked: a fitting open works.
  const engine = await openEngine(t, { dir, openFilesLimit: 1024, maxOpenPartitions: fit });
  t.is(engine.fileBudget().maxOpenPartitions, fit);
});

test('a small budget: writes over many partitions at once wait for room, reads go partition after partition, order and data intact, never more logs than the budget', async (t) => {
  const dir = withDir(t);
  const engine = await openEngine(t, { dir, openFilesLimit: 240, segmentBytes: 64 * 1024, flushIntervalMs: 20 });
  const budget = engine.fileBudget();
  const P = 120;
  t.true(budget.maxLogsHoldingFds < P / 2, `budget ${JSON.stringify(budget)}`);
  let peak = 0;
  const sample = (): void => void (peak = Math.max(peak, engine.fileBudget().logsHoldingFds));
  await engine.createTopic('wide', { partitions: P });
  // One call over all partitions (keys), then three calls per partition, all started at once.
  const keyed = await engine.produce('wide', Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, value: `keyed-${i}` })));
  sample();
  t.is(new Set(keyed.map((a) => a.partition)).size, P);
  await Promise.all(
    Array.from({ length: P * 3 }, async (_, i) => {
      const p = i % P;
      await engine.produce('wide', [{ value: `${p}:${Math.floor(i / P)}` }], { partition: p });
      sample();
    }),
  );
  const perPartition = new Map<number, number>();
  for (const a of keyed) perPartition.set(a.partition, (perPartition.get(a.partition) ?? 0) + 1);
  for (let p = 0; p < P; p++) {
    const rs = engine.read('wide', p, 0, { maxRecords: 10_000 });
    sample();
    const tail = rs.slice(perPartition.get(p)).map((r) => text(r.value));
    t.deepEqual(tail, [`${p}:0`, `${p}:1`, `${p}:2`], `partition ${p}`);
  }
  const d = engine.describeTopic('wide');
  t.deepEqual(d.partitions.map((x) => x.endOffset), Array.from({ length: P }, (_, p) => perPartition.get(p)! + 3));
  t.true(peak <= budget.maxLogsHoldingFds, `peak ${peak} of ${budget.maxLogsHoldingFds}`);
  t.true(peak > budget.maxOpenPartitions, 'the budget was reached, not only the LRU bound');
  // Another topic works afterwards.
  await engine.createTopic('after', { partitions: 2 });
  t.deepEqual(await engine.produce('after', [{ value: 'x' }], { partition: 1 }), [{ partition: 1, offset: 0 }]);
});

test('maxWaitingWrites: writes beyond the bound of those waiting for room fail at once with TOO_MANY_OPEN_FILES and store nothing; the rest are stored once', async (t) => {
  const dir = withDir(t);
  const MAX_WAITING = 4;
  const engine = await openEngine(t, { dir, openFilesLimit: 240, segmentBytes: 64 * 1024, flushIntervalMs: 20, maxWaitingWrites: MAX_WAITING });
  const P = 120;
  t.true(engine.fileBudget().maxLogsHoldingFds < P / 2);
  await engine.createTopic('wide', { partitions: P });
  const outcomes = await Promise.all(
    Array.from({ length: P }, (_, p) =>
      engine.produce('wide', [{ value: `v${p}` }], { partition: p }).then(
        (acks) => ({ p, ok: true as const, offset: acks[0]!.offset }),
        (e: { code?: string; message?: string }) => ({ p, ok: false as const, code: e.code, message: e.message }),
      ),
    ),
  );
  const refused = outcomes.filter((o) => !o.ok);
  t.true(refused.length > 0, 'the bound was reached');
  t.true(outcomes.some((o) => o.ok));
  for (const o of refused) {
    t.is(o.code, 'TOO_MANY_OPEN_FILES');
    t.regex(o.message ?? '', /writes already wait for room in the open-file budget \(maxWaitingWrites\)/);
  }
  for (const o of outcomes) {
    const stored = engine.read('wide', o.p, 0, { maxRecords: 10 }).map((r) => text(r.value));
    t.deepEqual(stored, o.ok ? [`v${o.p}`] : [], `partition ${o.p}`);
  }
  await t.throwsAsync(Engine.open({ dir: withDir(t), maxWaitingWrites: 0 }), { message: /maxWaitingWrites/ });
});

// --- under a real open-file limit (child processes) ------------------------------------------------

(hasPrlimit ? test : test.skip)('500 partitions under a 1,024 file limit: produce to all, read all back, describe, then another topic; descriptors stay inside the limit', async (t) => {
  const dir = withDir(t);
  const r = await runChild('wide', dir, 1024);
  t.is(r.limit, 1024);
  t.is(r.mismatches, 0);
  t.is(r.records, 5500);
  t.is(r.described, 5500);
  t.is(r.afterRead, 2);
  const budget = r.budget as { maxLogsHoldingFds: number; socketReserveFds: number };
  t.true((r.maxLogs as number) <= budget.maxLogsHoldingFds);
  // The sockets' share stayed free.
  t.true((r.maxFds as number) <= 1024 - budget.socketReserveFds, `max fds ${String(r.maxFds)}`);
});

(hasPrlimit ? test : test.skip)('descriptors exhausted by someone else: calls needing one fail with TOO_MANY_OPEN_FILES and leave nothing; open logs keep serving; all works once descriptors are back', async (t) => {
  const dir = withDir(t);
  const r = await runChild('exhausted', dir, 256);
  t.true((r.hogged as number) > 0);
  t.deepEqual(r.codes, {
    createTopic: 'TOO_MANY_OPEN_FILES',
    firstWrite: 'TOO_MANY_OPEN_FILES',
    writeOpenLog: 'ok',
    readOpenLog: 'ok',
    describe: 'ok',
    createTopicAfter: 'ok',
    firstWriteAfter: 'ok',
    readAfter: 'ok',
  });
  // The failed creation left the topic absent; neither it nor the failed first write left files.
  t.deepEqual(r.topicsDuring, ['cold', 'kept']);
  t.deepEqual(r.leftovers, []);
});

(hasPrlimit ? test : test.skip)('a limit too small for one partition log: Engine.open fails with TOO_MANY_OPEN_FILES and takes no lock', async (t) => {
  const dir = withDir(t);
  const r = await runChild('tiny', dir, 48);
  t.is(r.code, 'TOO_MANY_OPEN_FILES');
  t.is(r.leftLock, false);
});

// --- describing without opening, lazy files, clean failures ----------------------------------------

test('describeTopic of a 10,000-partition topic opens no log and creates no file; a never-written partition is read, offset and subscribed to without files', async (t) => {
  const dir = withDir(t);
  const engine = await openEngine(t, { dir });
  const before = fs.readdirSync(dir).sort();
  const created = await engine.createTopic('huge', { partitions: TOPIC_LIMITS.partitionsMax });
  t.is(created.partitions.length, TOPIC_LIMITS.partitionsMax);
  t.true(created.partitions.every((p) => p.endOffset === 0 && p.segments === 1 && p.newestTimestamp === null));
  t.deepEqual(engine.describeTopic('huge'), created);
  t.deepEqual(engine.read('huge', 9_999, 0), []);
  t.deepEqual(engine.readBatches('huge', 17, 0).batches, []);
  t.throws(() => engine.read('huge', 3, 1), { code: 'OFFSET_OUT_OF_RANGE' } as never);
  t.deepEqual(engine.offsets('huge', 42), { startOffset: 0, endOffset: 0 });
  t.is(engine.offsetForTimestamp('huge', 5, 0), null);
  const sub = engine.subscribe('huge', { from: { timestamp: 0 } });
  sub.end(null);
  t.is(engine.fileBudget().logsHoldingFds, 0);
  t.deepEqual(fs.readdirSync(dir).sort(), [...before, 'topics.json'].sort());
  await engine.deleteTopic('huge');
  t.deepEqual(engine.listTopics(), []);
});

test('after a restart, describeTopic reads closed partitions from their files (no log opened) with the figures their opened logs report', async (t) => {
  const dir = withDir(t);
  const first = await Engine.open({ dir, indexIntervalBytes: 64, segmentBytes: 64 * 1024, maxOpenPartitions: 4 });
  const P = 2000;
  await first.createTopic('many', { partitions: P, retentionMs: -1 });
  await first.createTopic('trimmed', { partitions: 1, retentionBytes: 64 * 1024 });
  // Varied partitions: small; indexes past their first 4 KiB (700 small batches, an entry each);
  // batches larger than the header walk's reads; several segments; explicit timestamps throughout.
  const specs: Array<{ p: number; calls: number; valueBytes: number }> = [
    { p: 0, calls: 3, valueBytes: 10 },
    { p: 3, calls: 700, valueBytes: 1 },
    { p: 7, calls: 30, valueBytes: 12_000 },
    { p: 1999, calls: 200, valueBytes: 600 },
  ];
  const written = specs.map((x) => x.p);
  for (const { p, calls, valueBytes } of specs) {
    for (let n = 0; n < calls; n++) {
      const timestamp = 1_700_000_000_000 + n * 1000 + p;
      await first.produce('many', [{ value: 'v'.repeat(valueBytes), timestamp }, { value: 'x', timestamp }], { partition: p });
    }
  }
  for (let n = 0; n < 400; n++) await first.produce('trimmed', [{ value: 'r'.repeat(800) }]);
  t.true((await first.runRetention()).length > 0);
  await first.close();

  const engine = await openEngine(t, { dir, maxOpenPartitions: 16 });
  const described = engine.describeTopic('many');
  const trimmed = engine.describeTopic('trimmed');
  t.is(engine.fileBudget().logsHoldingFds, 0);
  t.deepEqual(lockedPartitionDirs(dir), []);
  // Never-written partitions have no directory, and describing did not make one.
  t.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('many-')).sort(), written.map((p) => `many-${p}`).sort());
  t.true(trimmed.partitions[0]!.startOffset > 0);
  t.true(described.partitions[1999]!.segments > 1);
  // The same figures as the logs report once open (reading opens them).
  for (const p of written) engine.read('many', p, described.partitions[p]!.startOffset, { maxRecords: 1 });
  engine.read('trimmed', 0, trimmed.partitions[0]!.startOffset, { maxRecords: 1 });
  t.true(engine.fileBudget().logsHoldingFds >= written.length + 1);
  t.deepEqual(engine.describeTopic('many'), described);
  t.deepEqual(engine.describeTopic('trimmed'), trimmed);
  for (const { p, calls } of specs) {
    t.is(described.partitions[p]!.endOffset, calls * 2);
    t.is(described.partitions[p]!.newestTimestamp, 1_700_000_000_000 + (calls - 1) * 1000 + p);
  }
});

test('readPartitionFigures: a missing directory is an empty partition; no clean-shutdown marker, or a segment it cannot read alone, defers to the log', (t) => {
  const dir = withDir(t);
  t.deepEqual(readPartitionFigures(path.join(dir, 'absent-0'))?.endOffset, 0);
  const p0 = path.join(dir, 'p-0');
  fs.mkdirSync(p0);
  fs.writeFileSync(path.join(p0, '00000000000000000000.log'), Buffer.alloc(4096));
  // Not closed cleanly: only recovery knows the figures.
  t.is(readPartitionFigures(p0), null);
  // Closed cleanly, but a .log without its indexes (an interrupted roll): the log's open knows what to do.
  fs.writeFileSync(path.join(p0, '.clean-shutdown'), '0\n');
  t.is(readPartitionFigures(p0), null);
});

test('after a crash, a partition not closed cleanly is recovered when first described (and reported); the cleanly closed one is still read from its files', async (t) => {
  const dir = withDir(t);
  await makeTornTail(dir, 'torn');
  const engine = await openEngine(t, { dir });
  const d = engine.describeTopic('torn');
  t.deepEqual(d.partitions.map((p) => p.endOffset), [2, 1]);
  t.deepEqual(engine.recoveryReports().map((r) => `${r.topic}-${r.partition} ${r.truncated === null ? 'clean' : 'cut'}`), ['torn-0 cut']);
  t.deepEqual(lockedPartitionDirs(dir), ['torn-0']);
});

test('a failed creation leaves nothing behind and the topic absent; the next creation works and survives a restart', async (t) => {
  const dir = withDir(t);
  const engine = await Engine.open({ dir });
  await engine.createTopic('kept', { partitions: 2 });
  // The registry's rename cannot replace a directory: the write fails after its temp file was written.
  const registry = path.join(dir, 'topics.json');
  const saved = fs.readFileSync(registry);
  fs.rmSync(registry);
  fs.mkdirSync(registry);
  fs.writeFileSync(path.join(registry, 'block'), '');
  await t.throwsAsync(engine.createTopic('wide', { partitions: 3000 }), { code: 'IO_ERROR' } as never);
  t.deepEqual(engine.listTopics(), ['kept']);
  t.throws(() => engine.describeTopic('wide'), { code: 'TOPIC_NOT_FOUND' } as never);
  t.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('wide') || n.endsWith('.tmp')), []);
  fs.rmSync(registry, { recursive: true });
  fs.writeFileSync(registry, saved);
  await engine.createTopic('wide', { partitions: 3000 });
  await engine.close();
  const again = await openEngine(t, { dir });
  t.deepEqual(again.listTopics(), ['kept', 'wide']);
  t.is(again.describeTopic('wide').partitions.length, 3000);
});

test('TimeSlice yields one event-loop turn after SLICE_STEP_MS of work', async (t) => {
  const slice = new TimeSlice();
  let turned = false;
  setImmediate(() => (turned = true));
  const start = performance.now();
  // Busy work, checking in as a sliced loop does; bounded.
  for (let i = 0; i < 1_000_000 && !turned; i++) {
    while (performance.now() - start < SLICE_STEP_MS * (i + 1) && performance.now() - start < 1000);
    await slice.maybeYield();
  }
  t.true(turned);
  t.true(performance.now() - start < 1000);
});
