// The durability contract end to end (README "Durability contract", engine/FORMAT.md §2.7 recovery), with the
// server run as a user runs it (`seglog serve`, a child process) and the client library producing
// over several topics and partitions:
//   - SIGKILL mid-stream (acks `written`, then `flushed`), restart on the same directory: every
//     acknowledged record is there with the same content at the same offset, offsets are contiguous
//     from 0, nothing that was never produced appears, producing continues the offsets, committed
//     consumer offsets came back. Several kills at random moments, on one growing directory.
//   - SIGTERM mid-stream: exit code 0, every partition is marked clean, and reopening it runs no
//     recovery scan (PartitionLog.recovery: the server itself reports this nowhere).
//
// Records are derived from their `order` (a number unique across the test) and the label of the
// phase that sent them, so what was sent needs no storage: a stored record is checked by parsing its
// value and re-deriving everything else.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { PartitionLog } from '../../engine/partition-log.js';
import { CLEAN_SHUTDOWN_MARKER } from '../../engine/recovery.js';
import { partitionDirName } from '../../engine/topic-name.js';
import { SeglogClient, type ClientRecord } from '../../gateway/client/client.js';
import { startServe, stopServe, type ServeProcess } from '../helpers/gateway-process.js';
import { until } from '../helpers/until.js';

type Acks = 'written' | 'flushed';

interface Target {
  topic: string;
  partition: number;
  /** Which producer sends to it: one per partition, so the per-partition order is defined. */
  lz4: boolean;
}

/** 'orders' rolls small segments (recovery then spans several); 'auto' is created by the first produce. */
const TOPICS = [
  { name: 'orders', config: { partitions: 3, segmentBytes: 256 * 1024 } },
  { name: 'events', config: { partitions: 2 } },
];
const TARGETS: Target[] = [
  { topic: 'orders', partition: 0, lz4: false },
  { topic: 'orders', partition: 1, lz4: false },
  { topic: 'orders', partition: 2, lz4: false },
  { topic: 'events', partition: 0, lz4: true },
  { topic: 'events', partition: 1, lz4: true },
  { topic: 'auto', partition: 0, lz4: false },
];
const GROUP = 'billing';
/** Bounds of one produce phase: it normally ends with the kill, long before these. */
const PHASE_RECORDS_MAX = 300_000;
const PHASE_MS_MAX = 8_000;
/** Random delay before the kill, counted from the phase's first ack and first confirmed commit. */
const KILL_DELAY_MS_MIN = 30;
const KILL_DELAY_MS_MAX = 500;
const CHUNK_RECORDS = 100;
const CHUNKS_IN_FLIGHT_MAX = 40;
/** Kill cycles per acks mode; SEGLOG_KILL_ROUNDS raises both for a longer fault run (bounded at 100). */
const KILL_ROUNDS_EXTRA = Math.min(100, Math.max(0, Number(process.env['SEGLOG_KILL_ROUNDS'] ?? 0) || 0));
const KILL_ROUNDS_WRITTEN = Math.max(3, KILL_ROUNDS_EXTRA);
const KILL_ROUNDS_FLUSHED = Math.max(2, KILL_ROUNDS_EXTRA);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const utf8 = new TextDecoder();
const text = (b: Uint8Array | null): string | null => (b === null ? null : utf8.decode(b));
const targetKey = (t: { topic: string; partition: number }): string => `${t.topic}/${t.partition}`;

// --- what a record with a given order looks like ------------------------------------------------

function targetOf(order: number): Target {
  return TARGETS[order % TARGETS.length]!;
}

function expectedRecord(label: string, order: number): { key: string | null; value: string; headers: Record<string, string> } {
  return {
    key: order % 5 === 0 ? null : `k${order % 17}`,
    value: `${label}:${order}:${'x'.repeat(order % 40)}`,
    headers: { order: String(order), phase: label },
  };
}

/** What the test sent and what the server acknowledged, across all phases. */
class History {
  nextOrder = 0;
  /** Orders [from, to) were sent by the phase with this label. */
  readonly phases = new Map<string, { from: number; to: number }>();
  /** Per target: offset → order, for every acknowledged record. */
  readonly acked = new Map<string, Map<number, number>>(TARGETS.map((t) => [targetKey(t), new Map()]));
  readonly lastAckedOffset = new Map<string, number>();
  /** Per target: the last offset whose commit was confirmed, and one sent but not (yet) confirmed. */
  readonly commits = new Map<string, { confirmed: number | null; pending: number | null }>();
  readonly problems: string[] = [];

  beginPhase(label: string): void {
    this.phases.set(label, { from: this.nextOrder, to: this.nextOrder });
  }

  take(label: string): number {
    const order = this.nextOrder++;
    this.phases.get(label)!.to = order + 1;
    return order;
  }

  ack(order: number, topic: string, partition: number, offset: number): void {
    const key = targetKey({ topic, partition });
    const target = targetOf(order);
    if (target.topic !== topic || target.partition !== partition) this.problem(`order ${order} was sent to ${targetKey(target)} but acked on ${key}`);
    const map = this.acked.get(key)!;
    if (map.has(offset)) this.problem(`offset ${offset} of ${key} acked twice (orders ${map.get(offset)} and ${order})`);
    map.set(offset, order);
    if (offset > (this.lastAckedOffset.get(key) ?? -1)) this.lastAckedOffset.set(key, offset);
  }

  problem(p: string): void {
    if (this.problems.length < 20) this.problems.push(p);
  }

  /** The phase label and order of a stored value, or null when no phase sent such a record. */
  parse(value: string | null): { label: string; order: number } | null {
    const m = value === null ? null : /^([a-z]+\d+):(\d+):x*$/.exec(value);
    if (m === null) return null;
    const order = Number(m[2]);
    const range = this.phases.get(m[1]!);
    if (range === undefined || order < range.from || order >= range.to) return null;
    return { label: m[1]!, order };
  }
}

// --- producing until the server goes away ---------------------------------------------------------

interface PhaseResult {
  acked: number;
  failed: number;
  killDelayMs: number;
}

/**
 * Produces records to every target (one send() per record; the producers batch them) and
 * commits consumer offsets, until the server is stopped with `signal` after a random delay.
 */
async function produceUntilStopped(s: ServeProcess, h: History, label: string, acks: Acks, signal: NodeJS.Signals): Promise<PhaseResult & { exit: { code: number | null; signal: NodeJS.Signals | null } }> {
  const client = await SeglogClient.connect(s.url, { reconnect: false, requestTimeoutMs: 10_000 });
  const plain = client.producer({ lingerMs: 1, acks });
  const lz4 = client.producer({ lingerMs: 2, acks, compression: 'lz4' });
  h.beginPhase(label);
  let acked = 0;
  let failed = 0;
  let confirmedCommits = 0;
  let stop = false;

  const producing = (async () => {
    const started = Date.now();
    const chunks: Promise<unknown>[] = [];
    for (let sent = 0; !stop && sent < PHASE_RECORDS_MAX && Date.now() - started < PHASE_MS_MAX; ) {
      const chunk: Promise<unknown>[] = [];
      for (let i = 0; i < CHUNK_RECORDS; sent++) {
        const order = h.take(label);
        const target = targetOf(order);
        const producer = target.lz4 ? lz4 : plain;
        const rec = expectedRecord(label, order);
        const p = producer.send(target.topic, rec, { partition: target.partition }).then(
          (meta) => {
            acked++;
            h.ack(order, meta.topic, meta.partition, meta.offset);
          },
          () => void failed++,
        );
        chunk.push(p);
        i++;
      }
      chunks.push(Promise.allSettled(chunk));
      if (chunks.length > CHUNKS_IN_FLIGHT_MAX) await chunks.shift();
      else await new Promise((r) => setImmediate(r));
      if (failed > 0) break;
    }
    await Promise.allSettled(chunks);
  })();

  const committing = (async () => {
    for (let i = 0; i < 100_000 && !stop; i++) {
      await sleep(5); // pacing, not waiting for an effect: a commit every ~5 ms while records flow
      const target = TARGETS[i % TARGETS.length]!;
      const key = targetKey(target);
      const last = h.lastAckedOffset.get(key);
      if (last === undefined) continue;
      const entry = h.commits.get(key) ?? { confirmed: null, pending: null };
      h.commits.set(key, entry);
      // Commits go one at a time: at most one is unconfirmed when the server dies.
      entry.pending = last + 1;
      try {
        await client.commit(GROUP, target.topic, target.partition, last + 1);
      } catch {
        break;
      }
      entry.confirmed = last + 1;
      entry.pending = null;
      confirmedCommits++;
    }
  })();

  // Arm the kill once records and a commit were acknowledged, then wait a random bounded time.
  await until(() => acked > 0 && confirmedCommits > 0, 'a first ack and a first confirmed commit');
  // The random delay is the test itself: the kill lands at a different point of the traffic each round.
  const killDelayMs = KILL_DELAY_MS_MIN + Math.floor(Math.random() * (KILL_DELAY_MS_MAX - KILL_DELAY_MS_MIN));
  await sleep(killDelayMs);
  const exit = await stopServe(s, signal);
  stop = true;
  await Promise.all([producing, committing]);
  await client.close();
  return { acked, failed, killDelayMs, exit };
}

// --- checking a restarted server ------------------------------------------------------------------

/** Reads every partition back and checks it against the history; then produces one record to each. */
async function verify(t: ExecutionContext, s: ServeProcess, h: History, acks: Acks, continueLabel: string): Promise<void> {
  const client = await SeglogClient.connect(s.url, { reconnect: false, requestTimeoutMs: 10_000 });
  try {
    const topics = await client.listTopics();
    t.deepEqual(topics.sort(), [...new Set(TARGETS.map((x) => x.topic))].sort(), 'the topics came back (auto-created one included)');
    const ends = new Map<string, number>();
    for (const target of TARGETS) {
      const key = targetKey(target);
      const { startOffset, endOffset } = await client.offsets(target.topic, target.partition);
      t.is(startOffset, 0, `${key} starts at 0`);
      const orders: number[] = [];
      let next = 0;
      for (let guard = 0; next < endOffset && guard < 100_000; guard++) {
        const r = await client.fetch(target.topic, target.partition, next, { maxBytes: 1024 * 1024 });
        if (r.records.length === 0) break;
        for (const rec of r.records) {
          if (rec.offset !== next) h.problem(`${key}: record at offset ${rec.offset}, expected ${next} (offsets not contiguous)`);
          next = rec.offset + 1;
          orders[rec.offset] = checkStored(h, key, rec);
        }
      }
      t.is(next, endOffset, `${key}: records 0..${endOffset - 1} are all there`);
      // Every acknowledged record, same content at the same offset.
      let lastOrder = -1;
      for (const [offset, order] of h.acked.get(key)!) {
        if (orders[offset] !== order) h.problem(`${key}: acked offset ${offset} holds order ${orders[offset]}, acked as order ${order}`);
      }
      // One producer per partition: the records keep their send order.
      for (let o = 0; o < orders.length; o++) {
        if (orders[o]! <= lastOrder) h.problem(`${key}: order ${orders[o]} at offset ${o} after order ${lastOrder}`);
        lastOrder = orders[o]!;
      }
      ends.set(key, endOffset);
    }

    // Committed offsets: the last confirmed one, or the one that was in flight at the kill.
    t.true([...h.commits.values()].some((e) => e.confirmed !== null), 'some commits were confirmed before the kill');
    for (const [key, entry] of h.commits) {
      const target = TARGETS.find((x) => targetKey(x) === key)!;
      const got = await client.committed(GROUP, target.topic, target.partition);
      const allowed = [entry.confirmed, entry.pending].filter((x) => x !== null || entry.confirmed === null);
      if (!allowed.includes(got)) h.problem(`${key}: committed ${got}, expected one of ${JSON.stringify(allowed)}`);
      entry.confirmed = got;
      entry.pending = null;
    }

    // Producing continues the offsets.
    h.beginPhase(continueLabel);
    for (const target of TARGETS) {
      let order = h.take(continueLabel);
      while (targetOf(order) !== target) order = h.take(continueLabel); // skipped orders are simply never sent
      const meta = await client.send(target.topic, expectedRecord(continueLabel, order), { partition: target.partition, acks });
      t.is(meta.offset, ends.get(targetKey(target))!, `${targetKey(target)}: the first record after the restart gets the next offset`);
      h.ack(order, meta.topic, meta.partition, meta.offset);
    }
    t.deepEqual(h.problems, []);
  } finally {
    await client.close();
  }
}

/** Checks one stored record against what its phase sent; returns its order (-1 when unknown). */
function checkStored(h: History, key: string, rec: ClientRecord): number {
  const value = text(rec.value);
  const parsed = h.parse(value);
  if (parsed === null) {
    h.problem(`${key}: offset ${rec.offset} holds ${JSON.stringify(value?.slice(0, 60))}, which was never produced`);
    return -1;
  }
  const target = targetOf(parsed.order);
  if (targetKey(target) !== key) h.problem(`${key}: offset ${rec.offset} holds order ${parsed.order}, sent to ${targetKey(target)}`);
  const expected = expectedRecord(parsed.label, parsed.order);
  const headers = Object.fromEntries(rec.headers.map((x) => [x.key, text(x.value)]));
  if (text(rec.key) !== expected.key || JSON.stringify(headers) !== JSON.stringify(expected.headers)) {
    h.problem(`${key}: offset ${rec.offset} (order ${parsed.order}): key/headers ${text(rec.key)} ${JSON.stringify(headers)} differ from what was sent`);
  }
  return parsed.order;
}

function markerPaths(dir: string): string[] {
  return TARGETS.map((x) => path.join(dir, partitionDirName(x.topic, x.partition), CLEAN_SHUTDOWN_MARKER));
}

async function createTopics(s: ServeProcess): Promise<void> {
  const client = await SeglogClient.connect(s.url, { reconnect: false });
  try {
    for (const topic of TOPICS) await client.createTopic(topic.name, topic.config);
  } finally {
    await client.close();
  }
}

async function killRounds(t: ExecutionContext, acks: Acks, rounds: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `seglog-crash-${acks}-`));
  let s: ServeProcess | null = null;
  try {
    s = await startServe(dir);
    await createTopics(s);
    const h = new History();
    for (let round = 0; round < rounds; round++) {
      const r = await produceUntilStopped(s, h, `p${round}`, acks, 'SIGKILL');
      s = null;
      t.log(`round ${round}: killed ${r.killDelayMs} ms after arming; ${r.acked} records acked, ${r.failed} sends failed by the kill`);
      t.is(r.exit.signal, 'SIGKILL');
      t.true(r.acked > 0, 'records were acknowledged before the kill');
      for (const p of markerPaths(dir)) t.false(fs.existsSync(p), `${p}: a killed server leaves no clean-shutdown marker`);
      s = await startServe(dir);
      await verify(t, s, h, acks, `c${round}`);
    }
    const exit = await stopServe(s, 'SIGTERM');
    s = null;
    t.is(exit.code, 0);
  } finally {
    if (s !== null) await stopServe(s, 'SIGKILL').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test.serial(`SIGKILL mid-stream, acks written, ${KILL_ROUNDS_WRITTEN} kills at random moments: acked records, offsets and commits survive`, async (t) => {
  await killRounds(t, 'written', KILL_ROUNDS_WRITTEN);
});

test.serial(`SIGKILL mid-stream, acks flushed, ${KILL_ROUNDS_FLUSHED} kills: acked records, offsets and commits survive`, async (t) => {
  await killRounds(t, 'flushed', KILL_ROUNDS_FLUSHED);
});

test.serial('SIGTERM mid-stream: exit code 0, partitions marked clean, the reopen scans nothing, and the data is all there', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-crash-term-'));
  let s: ServeProcess | null = null;
  try {
    s = await startServe(dir);
    await createTopics(s);
    const h = new History();
    const r = await produceUntilStopped(s, h, 'p0', 'written', 'SIGTERM');
    const output = s.output();
    s = null;
    t.log(`SIGTERM ${r.killDelayMs} ms after arming; ${r.acked} records acked, ${r.failed} sends failed by the shutdown`);
    t.deepEqual(r.exit, { code: 0, signal: null }, output);
    t.regex(output, /SIGTERM: finishing in-flight requests, flushing, closing/);

    // Each partition: the marker holds its end offset, and a reopen trusts it (no recovery scan).
    for (const target of TARGETS) {
      const partitionDir = path.join(dir, partitionDirName(target.topic, target.partition));
      const marker = path.join(partitionDir, CLEAN_SHUTDOWN_MARKER);
      t.true(fs.existsSync(marker), `${marker} exists after SIGTERM`);
      const markedEnd = Number(fs.readFileSync(marker, 'utf8'));
      const log = PartitionLog.open({ dir: partitionDir, flushIntervalMs: 0 });
      try {
        t.deepEqual(log.recovery, { clean: true, scannedBytes: 0, truncated: null }, `${targetKey(target)} reopens without recovery`);
        t.is(markedEnd, log.endOffset, 'the marker holds the end offset');
        const acked = [...h.acked.get(targetKey(target))!.keys()];
        t.true(log.endOffset >= (acked.length === 0 ? 0 : Math.max(...acked) + 1), 'every acked record lies below the end');
      } finally {
        // close() writes the marker again, so the server's restart below also finds the log clean.
        await log.close();
      }
    }

    s = await startServe(dir);
    await verify(t, s, h, 'written', 'c0');
    const exit = await stopServe(s, 'SIGTERM');
    s = null;
    t.is(exit.code, 0);
  } finally {
    if (s !== null) await stopServe(s, 'SIGKILL').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A kill while a segment is being created (a roll: create .log, size it, create .index and
// .timeindex, then seal the old one) can leave a new segment file of size 0: created, not yet sized.
// Killing a writer with 64 KiB segments at random moments leaves one within a few tries. The files
// are made here as such a kill leaves them, so the test is deterministic: the partition must open
// again with every record, and not fail on mapping a 0-byte file.
test.serial('a kill during a segment roll (0-byte new .log, or 0-byte new .index) leaves the partition readable', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-crash-roll-'));
  let s: ServeProcess | null = null;
  try {
    s = await startServe(dir);
    await createTopics(s);
    const h = new History();
    const r = await produceUntilStopped(s, h, 'p0', 'written', 'SIGTERM');
    s = null;
    t.is(r.exit.code, 0);
    const segmentName = (offset: number): string => String(offset).padStart(20, '0');
    // The state of a kill during the roll: no clean-shutdown marker (removed: the kill came before
    // any close) and the next segment's files as far as the roll got.
    const cut = (target: Target, files: Record<string, number>): void => {
      const partitionDir = path.join(dir, partitionDirName(target.topic, target.partition));
      const marker = path.join(partitionDir, CLEAN_SHUTDOWN_MARKER);
      const end = Number(fs.readFileSync(marker, 'utf8'));
      fs.rmSync(marker);
      for (const [suffix, bytes] of Object.entries(files)) {
        const file = path.join(partitionDir, segmentName(end) + suffix);
        fs.writeFileSync(file, '');
        fs.truncateSync(file, bytes); // sparse, as ftruncate makes it
      }
    };
    cut(TARGETS[0]!, { '.log': 0 }); // killed between creating and sizing the .log
    cut(TARGETS[1]!, { '.log': 256 * 1024, '.index': 0 }); // killed between creating and sizing the .index
    cut(TARGETS[3]!, { '.log': 0 });
    s = await startServe(dir);
    await verify(t, s, h, 'written', 'c0');
    t.is((await stopServe(s, 'SIGTERM')).code, 0);
    s = null;
  } finally {
    if (s !== null) await stopServe(s, 'SIGKILL').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
