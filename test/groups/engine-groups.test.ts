// Consumer groups in the engine: assignment, rebalancing (revoke before assign, fewest moves),
// fencing, persistence, admin calls and their limits.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import { Engine, type ConsumedRecord, type GroupEvent, type GroupSubscription, type TopicPartitions } from '../../engine/index.js';
import { tempDir } from '../engine/helpers.js';
import { until } from '../helpers/until.js';

async function open(t: ExecutionContext, options: Record<string, unknown> = {}, dir = tempDir()): Promise<{ engine: Engine; dir: string }> {
  const engine = await Engine.open({ dir, ...options });
  t.teardown(async () => {
    await engine.close().catch(() => undefined);
  });
  return { engine, dir };
}

const flat = (a: TopicPartitions[]): string[] => a.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}:${p}`)).sort();

/** Replays the coordinator's events: throws when a partition is assigned while another member owns it. */
function ownershipChecker(engine: Engine): { owners: Map<string, string>; violations: string[] } {
  const owners = new Map<string, string>();
  const violations: string[] = [];
  engine.onGroupEvent((e: GroupEvent) => {
    for (const k of flat(e.partitions ?? [])) {
      if (e.type === 'assigned') {
        if (owners.has(k)) violations.push(`${k} assigned to ${e.memberId} while ${owners.get(k)} owns it`);
        owners.set(k, e.memberId);
      } else if (e.type === 'released') owners.delete(k);
    }
  });
  return { owners, violations };
}

/** Pulls records into `into` until the member ends (bounded by the test's own waits). */
function drain(sub: GroupSubscription, into: ConsumedRecord[]): Promise<void> {
  return (async () => {
    for await (const r of sub) into.push(r);
  })();
}

test('3 members on 6 partitions own 2 each; every record goes to exactly one member; a 4th joins with one move and never two owners', async (t) => {
  const { engine } = await open(t);
  await engine.createTopic('orders', { partitions: 6 });
  const check = ownershipChecker(engine);
  const members = [0, 1, 2].map((i) => engine.subscribe('orders', { group: 'billing', from: 'earliest', clientId: `m${i}`, sessionTimeoutMs: 5000 }));
  await Promise.all(members.map((m) => m.ready));
  await until(() => engine.describeGroup('billing').state === 'stable', 'stable group');
  const d = engine.describeGroup('billing');
  t.is(d.members.length, 3);
  for (const m of d.members) t.is(flat(m.assignment).length, 2);
  t.deepEqual(d.members.flatMap((m) => flat(m.assignment)).sort(), [0, 1, 2, 3, 4, 5].map((p) => `orders:${p}`));
  const got: ConsumedRecord[][] = [[], [], []];
  const loops = members.map((m, i) => drain(m, got[i]!));
  const records = Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
  await engine.produce('orders', records);
  await until(() => got.reduce((n, g) => n + g.length, 0) >= 600, 'all records delivered');
  const seen = got.flat().map((r) => `${r.partition}:${r.offset}`);
  t.is(seen.length, 600);
  t.is(new Set(seen).size, 600, 'no record went to two members');
  for (let i = 0; i < 3; i++) {
    const mine = new Set(flat(members[i]!.assignment()));
    for (const r of got[i]!) t.true(mine.has(`orders:${r.partition}`));
  }
  const before = new Map(engine.describeGroup('billing').members.flatMap((m) => flat(m.assignment).map((k) => [k, m.memberId] as const)));
  const fourth = engine.subscribe('orders', { group: 'billing', from: 'earliest', clientId: 'm3', sessionTimeoutMs: 5000 });
  const got4: ConsumedRecord[] = [];
  const loop4 = drain(fourth, got4);
  await until(() => engine.describeGroup('billing').state === 'stable' && flat(fourth.assignment()).length > 0, 'rebalanced to 4');
  const after = engine.describeGroup('billing');
  t.deepEqual(after.members.map((m) => flat(m.assignment).length).sort(), [1, 1, 2, 2]);
  const moved = [...before].filter(([k, owner]) => after.members.find((m) => m.memberId === owner)!.assignment.every((tp) => !flat([tp]).includes(k)));
  t.is(moved.length, 1, 'the fewest moves: one partition');
  t.deepEqual(check.violations, []);
  // The moved partition's records were committed by its old owner at revoke: the new one starts there.
  await engine.produce('orders', records.slice(0, 60));
  await until(() => got.reduce((n, g) => n + g.length, 0) + got4.length >= 660, 'records after the rebalance');
  const all = [...got.flat(), ...got4].map((r) => `${r.partition}:${r.offset}`);
  t.is(new Set(all).size, all.length, 'no duplicates across a graceful rebalance');
  await Promise.all([...members, fourth].map((m) => m.close()));
  await Promise.all([...loops, loop4]);
  t.is(engine.describeGroup('billing').state, 'empty');
  t.deepEqual(check.violations, []);
});

test('a removed member (no heartbeats) is fenced: its commit is refused; its partitions go to the others', async (t) => {
  const { engine } = await open(t);
  await engine.createTopic('t', { partitions: 2 });
  const assignments: number[] = [];
  const silent = await engine.joinGroup('g', { topics: ['t'], sessionTimeoutMs: 50 }, (a) => assignments.push(a.memberEpoch));
  t.is(engine.describeGroup('g').members.length, 1);
  await engine.commitAsMember('g', silent.memberId, 1, 't', [{ partition: 0, offset: 0 }]);
  const live = engine.subscribe('t', { group: 'g', from: 'earliest', sessionTimeoutMs: 5000 });
  await live.ready;
  await until(() => engine.describeGroup('g').members.length === 1 && flat(live.assignment()).length === 2, 'silent member removed');
  const e = await t.throwsAsync(engine.commitAsMember('g', silent.memberId, 1, 't', [{ partition: 0, offset: 5 }]));
  t.is((e as { code?: string }).code, 'FENCED_MEMBER');
  t.is(await engine.committed('g', 't', 0), 0);
  t.is((t.throws(() => engine.heartbeatGroup('g', silent.memberId, 1)) as { code?: string }).code, 'UNKNOWN_MEMBER');
  // A live member cannot commit what it does not own either.
  await engine.createTopic('other', { partitions: 1 });
  const e2 = await t.throwsAsync(engine.commitAsMember('g', live.memberId!, live.memberEpoch, 'other', [{ partition: 0, offset: 1 }]));
  t.is((e2 as { code?: string }).code, 'FENCED_MEMBER');
  // Nor can anyone outside the group while it has members (a tool, an old client): only after
  // the last member left does a plain commit land.
  const outside = await t.throwsAsync(engine.commit('g', 't', 0, 9));
  t.is((outside as { code?: string }).code, 'GROUP_NOT_EMPTY');
  t.regex(outside!.message, /commit from outside the group/);
  t.is(await engine.committed('g', 't', 0), 0);
  await live.close();
  await until(() => engine.describeGroup('g').members.length === 0, 'the live member left');
  await engine.commit('g', 't', 0, 9);
  t.is(await engine.committed('g', 't', 0), 9);
});

test('a member that does not confirm a revocation keeps the partition until rebalanceTimeoutMs removes it', async (t) => {
  const { engine } = await open(t);
  await engine.createTopic('t', { partitions: 2 });
  const check = ownershipChecker(engine);
  let stubborn: { memberId: string } | null = null;
  const hb = setInterval(() => {
    if (stubborn !== null) {
      try {
        engine.heartbeatGroup('g', stubborn.memberId, 0); // alive, but never confirms epoch ≥ 1's revocation
      } catch {
        // removed
      }
    }
  }, 10);
  t.teardown(() => clearInterval(hb));
  stubborn = await engine.joinGroup('g', { topics: ['t'], sessionTimeoutMs: 5000, rebalanceTimeoutMs: 100 }, () => undefined);
  const second = engine.subscribe('t', { group: 'g', from: 'earliest', sessionTimeoutMs: 5000 });
  await second.ready;
  const d = engine.describeGroup('g');
  t.is(d.state, 'reconciling');
  t.is(flat(second.assignment()).length, 0, 'nothing assigned while the old owner still owns it');
  await until(() => flat(second.assignment()).length === 2, 'stubborn member removed, partitions reassigned');
  t.is(engine.describeGroup('g').members.length, 1);
  t.deepEqual(check.violations, []);
  await second.close();
});

test('groups and committed offsets survive a restart; a member rejoins and continues from them', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let engine = await Engine.open({ dir });
  await engine.createTopic('t', { partitions: 3 });
  await engine.produce('t', Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
  const sub = engine.subscribe('t', { group: 'g', from: 'earliest' });
  const got: ConsumedRecord[] = [];
  for await (const r of sub) {
    got.push(r);
    if (got.length === 12) break; // return() commits and leaves
  }
  const committed = engine.describeGroup('g').offsets.map((o) => o.committed ?? 0);
  t.is(committed.reduce((a, b) => a + b, 0), 12);
  await engine.close();
  engine = await Engine.open({ dir });
  t.teardown(() => engine.close());
  t.deepEqual(engine.listGroups(), [{ group: 'g', state: 'empty', protocolType: 'seglog', members: 0 }]);
  t.deepEqual(engine.describeGroup('g').offsets.map((o) => o.committed ?? 0), committed);
  const again = engine.subscribe('t', { group: 'g', from: 'latest' });
  const rest: ConsumedRecord[] = [];
  for await (const r of again) {
    rest.push(r);
    if (rest.length === 18) break;
  }
  const all = [...got, ...rest].map((r) => `${r.partition}:${r.offset}`);
  t.is(new Set(all).size, 30, 'every record once across the restart');
});

test('describe, reset and delete: lag, refusals with members, unknown groups, bad targets', async (t) => {
  const { engine } = await open(t);
  await engine.createTopic('t', { partitions: 2 });
  await engine.produce('t', Array.from({ length: 10 }, () => ({ value: 'x' })), { partition: 0 });
  t.is((t.throws(() => engine.describeGroup('nope')) as { code?: string }).code, 'GROUP_NOT_FOUND');
  await t.throwsAsync(engine.resetGroupOffsets('nope', 't', 'earliest'), { code: 'GROUP_NOT_FOUND' } as never);
  await t.throwsAsync(engine.deleteGroup('nope'), { code: 'GROUP_NOT_FOUND' } as never);
  const m = engine.subscribe('t', { group: 'g', from: 'earliest' });
  await m.ready;
  await t.throwsAsync(engine.resetGroupOffsets('g', 't', 'earliest'), { code: 'GROUP_NOT_EMPTY' } as never);
  await t.throwsAsync(engine.deleteGroup('g'), { code: 'GROUP_NOT_EMPTY' } as never);
  await m.close();
  t.deepEqual(await engine.resetGroupOffsets('g', 't', { offset: 4 }), [{ partition: 0, offset: 4 }, { partition: 1, offset: 0 }]);
  const d = engine.describeGroup('g');
  t.deepEqual(d.offsets.map((o) => [o.partition, o.committed, o.endOffset, o.lag]), [[0, 4, 10, 6], [1, 0, 0, 0]]);
  t.deepEqual(await engine.resetGroupOffsets('g', 't', 'latest'), [{ partition: 0, offset: 10 }, { partition: 1, offset: 0 }]);
  await t.throwsAsync(engine.resetGroupOffsets('g', 't', { offset: -1 }), { code: 'INVALID_ARGUMENT' } as never);
  await t.throwsAsync(engine.resetGroupOffsets('g', 't', 'sideways' as never), { code: 'INVALID_ARGUMENT' } as never);
  await t.throwsAsync(engine.resetGroupOffsets('g', 'missing', 'earliest'), { code: 'TOPIC_NOT_FOUND' } as never);
  await engine.deleteGroup('g');
  t.deepEqual(engine.listGroups(), []);
  t.is(await engine.committed('g', 't', 0), null);
});

test('limits: members per group, groups per engine, topics per member, timeouts', async (t) => {
  const { engine } = await open(t, { maxGroups: 2, maxMembersPerGroup: 2 });
  await engine.createTopic('t', { partitions: 1 });
  const noop = (): void => undefined;
  await engine.joinGroup('a', { topics: ['t'] }, noop);
  await engine.joinGroup('a', { topics: ['t'] }, noop);
  await t.throwsAsync(engine.joinGroup('a', { topics: ['t'] }, noop), { code: 'TOO_MANY_MEMBERS' } as never);
  await engine.joinGroup('b', { topics: ['t'] }, noop);
  await t.throwsAsync(engine.joinGroup('c', { topics: ['t'] }, noop), { code: 'TOO_MANY_GROUPS' } as never);
  const many = Array.from({ length: 101 }, () => 't');
  await t.throwsAsync(engine.joinGroup('b', { topics: many }, noop), { code: 'INVALID_ARGUMENT', message: /at most 100 topics/ } as never);
  await t.throwsAsync(engine.joinGroup('b', { topics: ['t'], sessionTimeoutMs: 9 }, noop), { code: 'INVALID_ARGUMENT', message: /sessionTimeoutMs/ } as never);
  await t.throwsAsync(engine.joinGroup('b', { topics: ['t'], rebalanceTimeoutMs: 3_600_001 }, noop), { code: 'INVALID_ARGUMENT', message: /rebalanceTimeoutMs/ } as never);
  await t.throwsAsync(engine.joinGroup('b', { topics: ['missing'] }, noop), { code: 'TOPIC_NOT_FOUND' } as never);
  await t.throwsAsync(Engine.open({ memory: true, maxGroups: 0 }), { code: 'INVALID_ARGUMENT' } as never);
  t.throws(() => engine.subscribe(['t', 't2'], {} as never), { code: 'INVALID_ARGUMENT' } as never);
  t.throws(() => engine.subscribe('t', { group: 'b', autoCommitIntervalMs: 0 }), { code: 'INVALID_ARGUMENT', message: /autoCommitIntervalMs/ } as never);
  t.throws(() => engine.subscribe('t', { group: 'b', from: 'sideways' as never }), { code: 'INVALID_ARGUMENT', message: /from must be/ } as never);
});

test('closing the engine ends its group members\' iterations', async (t) => {
  const { engine } = await open(t);
  await engine.createTopic('t', { partitions: 1 });
  const member = engine.subscribe('t', { group: 'g' });
  await member.ready;
  const loop = (async () => {
    let n = 0;
    for await (const _ of member) n++;
    return n;
  })();
  await engine.close();
  t.is(await loop, 0);
});

test('partitions added to a subscribed topic are assigned too', async (t) => {
  const { engine } = await open(t);
  await engine.createTopic('t', { partitions: 2 });
  const a = engine.subscribe('t', { group: 'g', from: 'earliest' });
  const b = engine.subscribe('t', { group: 'g', from: 'earliest' });
  await Promise.all([a.ready, b.ready]);
  await until(() => engine.describeGroup('g').state === 'stable', 'stable');
  await engine.addPartitions('t', 4);
  await until(() => engine.describeGroup('g').state === 'stable' && flat(a.assignment()).length + flat(b.assignment()).length === 4, 'new partitions assigned');
  t.is(flat(a.assignment()).length, 2);
  await Promise.all([a.close(), b.close()]);
});

test('a member whose topic is deleted ends with TOPIC_NOT_FOUND and leaves the group at once', async (t) => {
  const { engine } = await open(t);
  await engine.createTopic('gone', { partitions: 2 });
  const member = engine.subscribe('gone', { group: 'g', from: 'earliest' });
  await member.ready;
  await until(() => flat(member.assignment()).length === 2, 'assigned');
  const loop = (async () => {
    for await (const _ of member) {
      // nothing is produced
    }
  })();
  await engine.deleteTopic('gone');
  await t.throwsAsync(loop, { code: 'TOPIC_NOT_FOUND' } as never);
  t.is(engine.describeGroup('g').members.length, 0);
});
