// Consumer groups on the Kafka port with kcat -G (librdkafka 2.0.2's balanced consumer: JoinGroup,
// SyncGroup with its range assignor, Heartbeat, OffsetCommit, OffsetFetch, LeaveGroup at exit).
import { spawn, type ChildProcess } from 'node:child_process';
import test from 'ava';
import { until } from '../helpers/until.js';
import { startKafka } from './helpers.js';

interface GroupKcat {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  stop(): Promise<void>;
}

/** A long-running `kcat -G group topic` member printing "partition value" lines; stopped by SIGTERM (it leaves the group). */
function kcatMember(broker: string, group: string, topic: string, assignor: string): GroupKcat {
  const child = spawn('kcat', [
    '-X', `partition.assignment.strategy=${assignor}`,
    '-b', broker, '-G', group, topic, '-f', '%p %s\n', '-u',
    '-X', 'auto.offset.reset=earliest',
    '-X', 'heartbeat.interval.ms=100',
    '-X', 'session.timeout.ms=6000',
    '-X', 'auto.commit.interval.ms=100',
    '-X', 'fetch.wait.max.ms=100',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', () => {});
  return {
    child,
    lines,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// range: eager (everything revoked at each rebalance); cooperative-sticky: librdkafka's incremental
// protocol on top of the same JoinGroup/SyncGroup (the client rejoins after giving partitions up).
for (const assignor of ['range', 'cooperative-sticky']) {
  test(`kcat -G (${assignor}): two members split 4 partitions (each new record once), offsets committed at exit, the group empties`, async (t) => {
    const h = await startKafka();
    const members: GroupKcat[] = [];
    const t0 = Date.now();
    try {
      await h.engine.createTopic('kg', { partitions: 4 });
      for (let i = 0; i < 40; i++) await h.engine.produce('kg', [{ value: `v${i}` }], { partition: i % 4 });
      const a = kcatMember(h.broker, 'kgroup', 'kg', assignor);
      members.push(a);
      await until(() => new Set(a.lines).size === 40, 'the first member consumed everything', 20_000).catch((e: Error) => {
        throw new Error(`${e.message}; kcat stderr: ${a.stderr()}`);
      });
      t.log(`first member done ${Date.now() - t0} ms`);
      const b = kcatMember(h.broker, 'kgroup', 'kg', assignor);
      members.push(b);
      await until(() => {
        const d = h.engine.describeGroup('kgroup');
        return d.state === 'stable' && d.members.length === 2 && d.members.every((m) => m.assignment.flatMap((x) => x.partitions).length === 2);
      }, 'two kcat members with 2 partitions each', 20_000).catch((e: Error) => {
        throw new Error(`${e.message}; ${JSON.stringify(h.engine.describeGroup('kgroup'))}; stderr a: ${a.stderr()} b: ${b.stderr()}`);
      });
      t.log(`rebalanced ${Date.now() - t0} ms`);
      const [fromA, fromB] = [a.lines.length, b.lines.length];
      for (let i = 40; i < 80; i++) await h.engine.produce('kg', [{ value: `v${i}` }], { partition: i % 4 });
      const fresh = (): string[] => [...a.lines.slice(fromA), ...b.lines.slice(fromB)].filter((l) => Number(l.split(' v')[1]) >= 40);
      await until(() => new Set(fresh()).size === 40, 'the new records consumed', 20_000);
      t.is(fresh().length, 40, 'each new record once');
      // Each partition's new records went to one member; both members got some.
      const owner = new Map<string, Set<string>>();
      for (const [name, m, from] of [['a', a, fromA], ['b', b, fromB]] as const) {
        for (const l of m.lines.slice(from)) {
          if (Number(l.split(' v')[1]) < 40) continue;
          const p = l.split(' ')[0]!;
          if (!owner.has(p)) owner.set(p, new Set());
          owner.get(p)!.add(name);
        }
      }
      t.deepEqual([...owner.values()].map((s) => s.size), [1, 1, 1, 1]);
      t.deepEqual(new Set([...owner.values()].flatMap((s) => [...s])).size, 2);
      t.log(`consumed ${Date.now() - t0} ms`);
      // At exit (SIGTERM) each member commits what it consumed and leaves: the group empties.
      await Promise.all(members.map((m) => m.stop()));
      t.deepEqual(await Promise.all([0, 1, 2, 3].map((p) => h.engine.committed('kgroup', 'kg', p))), [20, 20, 20, 20]);
      await until(() => h.engine.describeGroup('kgroup').members.length === 0, 'both members left', 20_000);
    } finally {
      await Promise.allSettled(members.map((m) => m.stop()));
      await h.stop();
    }
  });
}
