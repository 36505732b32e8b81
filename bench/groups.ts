// Consumer group figures (not part of `npm run bench`; run `node dist/bench/groups.js`): a real
// `seglog serve --memory` and every member in its own process (this script, forked as a member).
//  1. Rebalance time 3 → 4 members: a steady stream (1 record per partition per ms on 6
//     partitions); from the 4th member's subscribe() call to its first record.
//  2. After a kill: SIGKILL of a member; from the kill to the first record of one of its partitions
//     delivered to its new owner.
//  3. Replay: a 6-partition topic read from earliest by one consumer (no group) and by a 3-member
//     group (SEGLOG_GROUPS_BENCH_MEMBERS), each member a process: records/s until every record was
//     read (SEGLOG_GROUPS_BENCH_RECORDS, default 1.2M of 100 B).
// Bounded: every wait has a deadline; children are killed at the end, even on error.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SeglogClient } from '../gateway/client/client.js';
import { SERVE_NODE_FLAGS } from '../gateway/cli/serve-node-flags.js';

const here = fileURLToPath(import.meta.url);
const CLI = path.resolve(path.dirname(here), '../gateway/cli/cli.js');
const WAIT_MS_MAX = 60_000;
const REPLAY_RECORDS = Number(process.env['SEGLOG_GROUPS_BENCH_RECORDS'] ?? 1_200_000);
const RECORD_BYTES = 100;
/** Members of the replaying group (3 by default). */
const REPLAY_MEMBERS = Number(process.env['SEGLOG_GROUPS_BENCH_MEMBERS'] ?? 3);

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS_MAX;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

// --- member (child) ------------------------------------------------------------------------------

async function member(url: string, topic: string, group: string, mode: string): Promise<void> {
  const client = await SeglogClient.connect(url, { clientId: `member-${process.pid}` });
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  out('READY');
  await new Promise<void>((resolve) => readline.createInterface({ input: process.stdin }).once('line', () => resolve()));
  out(`S ${Date.now()}`);
  const consumer =
    group === '' ? client.subscribe(topic, { from: 'earliest', maxBufferedBytes: 4 << 20 }) : client.subscribe(topic, { group, from: mode === 'count' ? 'earliest' : 'latest', clientId: `member-${process.pid}`, maxBufferedBytes: 4 << 20 });
  const fresh = new Set<number>();
  if ('on' in consumer && typeof consumer.on === 'function') {
    consumer.on('assigned', (ps) => ps.forEach((tp) => tp.partitions.forEach((p) => fresh.add(p))));
    if (process.env['SEGLOG_GROUPS_BENCH_TRACE']) {
      consumer.on('assigned', (ps) => process.stderr.write(`${process.pid} ${Date.now()} assigned ${JSON.stringify(ps)} at ${n}\n`));
      consumer.on('revoked', (ps) => process.stderr.write(`${process.pid} ${Date.now()} revoked ${JSON.stringify(ps)} at ${n}\n`));
    }
  }
  process.on('SIGTERM', () => void consumer.close().then(() => process.exit(0)));
  let n = 0;
  let last = 0;
  let reported = 0;
  if (mode === 'count') {
    // The count and the time of the newest record, whenever it changed (the parent waits for the total).
    setInterval(() => {
      if (n !== reported) out(`C ${n} ${last}`);
      reported = n;
    }, 20).unref();
  }
  for await (const r of consumer) {
    n++;
    if (mode === 'count') {
      last = Date.now();
      continue;
    }
    if (fresh.delete(r.partition)) out(`F ${r.partition} ${Date.now()}`);
  }
}

// --- parent --------------------------------------------------------------------------------------

interface Child {
  proc: ChildProcess;
  lines: string[];
}

function start(args: string[]): Child {
  const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const c: Child = { proc, lines: [] };
  readline.createInterface({ input: proc.stdout! }).on('line', (l) => c.lines.push(l));
  return c;
}

const children: Child[] = [];

async function startMember(url: string, topic: string, group: string, mode: string): Promise<Child> {
  const c = start([here, 'member', url, topic, group, mode]);
  children.push(c);
  await until(() => c.lines.includes('READY'), 'member ready');
  return c;
}

const go = (c: Child): void => void c.proc.stdin!.write('go\n');
const lineTime = (c: Child, prefix: string): number[] => c.lines.filter((l) => l.startsWith(prefix)).map((l) => Number(l.split(' ').at(-1)));

async function main(): Promise<void> {
  const server = start([...SERVE_NODE_FLAGS, CLI, 'serve', '--memory', '--port', '0']);
  children.push(server);
  await until(() => server.lines.some((l) => /listening on ws:\/\//.test(l)), 'server');
  const url = /listening on (ws:\/\/\S+)/.exec(server.lines.find((l) => /listening on/.test(l))!)![1]!;
  const admin = await SeglogClient.connect(url);
  try {
    // 1 and 2: a steady stream.
    await admin.createTopic('live', { partitions: 6 });
    const producer = setInterval(() => {
      for (let p = 0; p < 6; p++) void admin.send('live', { value: 'x' }, { partition: p }).catch(() => undefined);
    }, 1);
    const first = await Promise.all([0, 1, 2].map(() => startMember(url, 'live', 'live-group', 'live')));
    first.forEach(go);
    const stable = async (n: number): Promise<boolean> => {
      const d = await admin.describeGroup('live-group').catch(() => null);
      return d !== null && d.members.length === n && d.state === 'stable';
    };
    await until(() => stable(3), '3 members stable');
    await until(() => first.every((c) => lineTime(c, 'F').length === 2), 'records flowing to all three');
    const fourth = await startMember(url, 'live', 'live-group', 'live');
    go(fourth);
    await until(() => lineTime(fourth, 'F').length > 0 && lineTime(fourth, 'S').length > 0, 'fourth member reads');
    const joinMs = Math.min(...lineTime(fourth, 'F')) - lineTime(fourth, 'S')[0]!;
    await until(() => stable(4), '4 members stable');
    // Kill one of the first three (it owns at least one partition).
    const victim = first[0]!;
    const d = await admin.describeGroup('live-group');
    const victimPartitions = new Set(d.offsets.filter((o) => d.members.find((m) => m.memberId === o.memberId)?.clientId === `member-${victim.proc.pid}`).map((o) => o.partition));
    const survivors = [...first.slice(1), fourth];
    const before = survivors.map((c) => c.lines.length);
    const killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    const newOwnerFirst = (): number[] =>
      survivors.flatMap((c, i) => c.lines.slice(before[i]).filter((l) => l.startsWith('F ') && victimPartitions.has(Number(l.split(' ')[1]))).map((l) => Number(l.split(' ')[2])));
    await until(() => newOwnerFirst().length > 0, 'a victim partition read by its new owner');
    const killMs = Math.min(...newOwnerFirst()) - killedAt;
    clearInterval(producer);
    for (const c of survivors) c.proc.kill('SIGTERM');
    console.log(`rebalance 3 → 4 members: ${joinMs} ms from the 4th member's subscribe() to its first record`);
    console.log(`after SIGKILL of a member owning ${victimPartitions.size} partition(s): ${killMs} ms from the kill to the first record delivered to a new owner`);

    // 3: replay.
    await admin.createTopic('replay', { partitions: 6 });
    const value = 'v'.repeat(RECORD_BYTES);
    const perBatch = 5000;
    for (let i = 0; i < REPLAY_RECORDS; i += perBatch) await admin.sendBatch('replay', Array.from({ length: perBatch }, () => ({ value })), { partition: (i / perBatch) % 6 });
    const latest = (c: Child): [number, number] => {
      const l = c.lines.filter((x) => x.startsWith('C ')).at(-1);
      return l === undefined ? [0, 0] : [Number(l.split(' ')[1]), Number(l.split(' ')[2])];
    };
    const counted = (cs: Child[]): number => cs.reduce((n, c) => n + latest(c)[0], 0);
    const runReplay = async (group: string, members: number): Promise<number> => {
      const cs = await Promise.all(Array.from({ length: members }, () => startMember(url, 'replay', group, 'count')));
      const t0 = Date.now();
      cs.forEach(go);
      await until(() => counted(cs) === REPLAY_RECORDS, 'replay');
      const ms = Math.max(...cs.map((c) => latest(c)[1])) - t0;
      for (const c of cs) c.proc.kill('SIGKILL');
      return ms;
    };
    const singleMs = await runReplay('', 1);
    const groupMs = await runReplay('replayers', REPLAY_MEMBERS);
    const rate = (ms: number): string => `${((REPLAY_RECORDS / ms) * 1000 / 1e6).toFixed(2)}M records/s`;
    console.log(`replay of ${REPLAY_RECORDS} records of ${RECORD_BYTES} B on 6 partitions: one consumer ${singleMs} ms (${rate(singleMs)}); ${REPLAY_MEMBERS}-member group ${groupMs} ms (${rate(groupMs)}), each member a process`);
  } finally {
    await admin.close().catch(() => undefined);
    for (const c of children) c.proc.kill('SIGKILL');
  }
}

if (process.argv[2] === 'member') {
  const [, , , url, topic, group, mode] = process.argv;
  await member(url!, topic!, group!, mode!);
} else {
  await main();
  process.exit(0);
}
