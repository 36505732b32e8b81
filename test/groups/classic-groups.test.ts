// Kafka's classic group protocol in the engine's coordinator (engine/groups/classic-group.ts), without
// a wire: the JoinGroup barrier and its bound (rebalanceTimeoutMs), the session timeout, the
// SyncGroup relay, the members-per-group limit, one protocol kind per group, persistence of the kind.
import test from 'ava';
import { Engine, type ClassicJoinOptions } from '../../engine/index.js';
import { until } from '../helpers/until.js';

const code = (e: unknown): string | undefined => (e as { code?: string } | undefined)?.code;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function opts(memberId = '', o: Partial<ClassicJoinOptions> = {}): ClassicJoinOptions {
  return { memberId, clientId: 'c', clientHost: '127.0.0.1', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: bytes('m') }], topics: ['t'], ...o };
}

async function engine(options: Record<string, unknown> = {}): Promise<Engine> {
  const e = await Engine.open({ memory: true, ...options });
  await e.createTopic('t', { partitions: 2 });
  return e;
}

test('JoinGroup waits for every member; the leader gets the members, SyncGroup relays its assignment; describe shows it', async (t) => {
  const e = await engine();
  try {
    const a = await e.joinClassicGroup('g', opts());
    t.is(a.leaderId, a.memberId);
    await e.syncClassicGroup('g', a.memberId, a.generationId, []);
    // b joins: a must rejoin before anyone gets generation +1.
    const bJoin = e.joinClassicGroup('g', opts('', { clientId: 'b' }));
    await until(() => {
      try {
        e.heartbeatClassicGroup('g', a.memberId, a.generationId);
        return false;
      } catch (err) {
        return code(err) === 'REBALANCE_IN_PROGRESS';
      }
    }, 'a told to rejoin');
    const a2 = await e.joinClassicGroup('g', opts(a.memberId));
    const b = await bJoin;
    t.is(a2.generationId, a.generationId + 1);
    t.is(b.generationId, a2.generationId);
    t.is(a2.leaderId, a.memberId, 'the leader stays');
    t.is(a2.members.length, 2);
    t.deepEqual(b.members, []);
    const bSync = e.syncClassicGroup('g', b.memberId, b.generationId, null);
    const mine = await e.syncClassicGroup('g', a.memberId, a2.generationId, [
      { memberId: a.memberId, assignment: bytes('A'), partitions: [{ topic: 't', partitions: [0] }] },
      { memberId: b.memberId, assignment: bytes('B'), partitions: [{ topic: 't', partitions: [1] }] },
    ]);
    t.deepEqual(Buffer.from(mine).toString(), 'A');
    t.deepEqual(Buffer.from(await bSync).toString(), 'B');
    const d = e.describeGroup('g');
    t.is(d.protocolType, 'consumer');
    t.is(d.state, 'stable');
    t.deepEqual(d.offsets.map((o) => o.memberId), [a.memberId, b.memberId]);
    t.is(e.describeClassicGroup('g')?.state, 'Stable');
    t.is(e.describeClassicGroup('g')?.protocolName, 'range');
    // Fenced: an old generation; the current one commits.
    t.is(code(await t.throwsAsync(e.commitAsMember('g', a.memberId, a.generationId, 't', [{ partition: 0, offset: 1 }]))), 'FENCED_MEMBER');
    await e.commitAsMember('g', a.memberId, a2.generationId, 't', [{ partition: 0, offset: 1 }]);
    t.is(await e.committed('g', 't', 0), 1);
  } finally {
    await e.close();
  }
});

test('limits: a member that does not rejoin within rebalanceTimeoutMs is removed; one without heartbeats within sessionTimeoutMs too; members per group', async (t) => {
  const e = await engine({ maxMembersPerGroup: 2 });
  try {
    const a = await e.joinClassicGroup('g', opts('', { rebalanceTimeoutMs: 50, sessionTimeoutMs: 10_000 }));
    await e.syncClassicGroup('g', a.memberId, a.generationId, []);
    // b's join waits for a, which never rejoins: the barrier ends after the rebalance timeout without it.
    const b = await e.joinClassicGroup('g', opts('', { rebalanceTimeoutMs: 50 }));
    t.is(b.leaderId, b.memberId);
    t.is(b.members.length, 1);
    t.is(code(t.throws(() => e.heartbeatClassicGroup('g', a.memberId, a.generationId))), 'UNKNOWN_MEMBER');
    // Members per group (maxMembersPerGroup 2): a third is refused.
    await e.syncClassicGroup('g', b.memberId, b.generationId, []);
    const cJoin = e.joinClassicGroup('g', opts('', { rebalanceTimeoutMs: 10_000 }));
    await e.joinClassicGroup('g', opts(b.memberId));
    const c = await cJoin;
    t.is(code(await t.throwsAsync(e.joinClassicGroup('g', opts()))), 'TOO_MANY_MEMBERS');
    await e.syncClassicGroup('g', b.memberId, c.generationId, []);
    await e.syncClassicGroup('g', c.memberId, c.generationId, null);
    // Session timeout: members that stop heartbeating are removed and the group empties.
    e.leaveClassicGroup('g', b.memberId);
    const s = await e.joinClassicGroup('s', opts('', { sessionTimeoutMs: 30 }));
    await e.syncClassicGroup('s', s.memberId, s.generationId, []);
    await until(() => e.describeGroup('s').members.length === 0, 'the silent member removed after its session timeout', 5000);
  } finally {
    await e.close();
  }
});

test('one protocol kind per group: seglog members refuse Kafka ones and the other way round; either may take an empty group', async (t) => {
  const e = await engine();
  try {
    const sub = e.subscribe('t', { group: 'mixed', from: 'earliest' });
    await until(() => e.listGroups().some((g) => g.group === 'mixed' && g.members === 1), 'the seglog member joined');
    t.is(code(await t.throwsAsync(e.joinClassicGroup('mixed', opts()))), 'GROUP_PROTOCOL_MISMATCH');
    await sub.close();
    const k = await e.joinClassicGroup('mixed', opts());
    t.is(e.listGroups().find((g) => g.group === 'mixed')?.protocolType, 'consumer');
    t.is(code(await t.throwsAsync(e.joinGroup('mixed', { topics: ['t'] }, () => {}))), 'GROUP_PROTOCOL_MISMATCH');
    // Assignors must intersect.
    t.is(code(await t.throwsAsync(e.joinClassicGroup('mixed', opts('', { protocols: [{ name: 'roundrobin', metadata: bytes('') }] })))), 'GROUP_PROTOCOL_MISMATCH');
    e.leaveClassicGroup('mixed', k.memberId);
    const j = await e.joinGroup('mixed', { topics: ['t'] }, () => {});
    t.is(e.listGroups().find((g) => g.group === 'mixed')?.protocolType, 'seglog');
    e.leaveGroup('mixed', j.memberId);
  } finally {
    await e.close();
  }
});
