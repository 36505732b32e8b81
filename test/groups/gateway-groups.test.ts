// Consumer groups over the gateway (in process): members share partitions with embedded members,
// a closed connection is an immediate leave, fenced commits, admin calls, version 1 clients.
import test from 'ava';
import { FrameType } from '../../gateway/protocol/frame.js';
import { decodeGroupJoined, encodeGroupCommit, encodeGroupJoin } from '../../gateway/protocol/groups.js';
import { decodeError } from '../../gateway/protocol/error.js';
import { encodeHello, decodeHelloOk } from '../../gateway/protocol/hello.js';
import type { ClientRecord, TopicPartitions } from '../../gateway/client/client.js';
import { RawPeer, startGateway, until } from '../gateway/helpers.js';

const flat = (a: TopicPartitions[]): string[] => a.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}:${p}`)).sort();

test('embedded and gateway members of one group share the partitions; each record is read once', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  await h.engine.createTopic('mixed', { partitions: 4 });
  const embedded = h.engine.subscribe('mixed', { group: 'g', from: 'earliest' });
  const c = await h.connect();
  const remote = c.subscribe('mixed', { group: 'g', from: 'earliest' });
  await Promise.all([embedded.ready, remote.ready]);
  await until(() => h.engine.describeGroup('g').state === 'stable' && flat(remote.assignment()).length === 2, 'two members, two partitions each');
  t.is(flat(embedded.assignment()).length, 2);
  t.deepEqual([...flat(embedded.assignment()), ...flat(remote.assignment())].sort(), ['mixed:0', 'mixed:1', 'mixed:2', 'mixed:3']);
  await h.engine.produce('mixed', Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `${i}` })));
  const seen: string[] = [];
  const embeddedLoop = (async () => {
    for await (const r of embedded) seen.push(`${r.partition}:${r.offset}`);
  })();
  const remoteGot: ClientRecord[] = [];
  const remoteLoop = (async () => {
    for await (const r of remote) remoteGot.push(r);
  })();
  await until(() => seen.length + remoteGot.length >= 200, 'all 200 records');
  const all = [...seen, ...remoteGot.map((r) => `${r.partition}:${r.offset}`)];
  t.is(new Set(all).size, 200);
  t.is(all.length, 200);
  // The gateway member's connection closes: an immediate leave; the embedded one gets everything.
  await c.close();
  await until(() => flat(embedded.assignment()).length === 4, 'embedded member owns all four');
  t.is(h.engine.describeGroup('g').members.length, 1);
  await embedded.close();
  await Promise.all([embeddedLoop, remoteLoop]);
});

test('over the wire: a removed member\'s GROUP_COMMIT is FENCED_MEMBER; old (version 1) clients keep working and cannot join', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  await h.engine.createTopic('w', { partitions: 1 });
  const peer = await RawPeer.open(h.server.url);
  t.teardown(() => peer.close());
  // A session long enough for the first commit to land on a loaded machine, short enough to wait for.
  peer.send(encodeGroupJoin(5, { group: 'g', topics: ['w'], sessionTimeoutMs: 1000, rebalanceTimeoutMs: 0, clientId: 'raw' }));
  const joined = decodeGroupJoined((await peer.waitFor((f) => f.type === FrameType.GROUP_JOINED, 'GROUP_JOINED')).reader);
  t.deepEqual(joined.assignment, [{ topic: 'w', partitions: [0] }]);
  peer.send(encodeGroupCommit(6, { group: 'g', memberId: joined.memberId, memberEpoch: joined.memberEpoch, topic: 'w', offsets: [{ partition: 0, offset: 0 }] }));
  await peer.waitFor((f) => f.type === FrameType.GROUP_COMMIT_OK && f.id === 6, 'GROUP_COMMIT_OK');
  // No heartbeats: removed after the session timeout.
  await until(() => h.engine.describeGroup('g').members.length === 0, 'member removed');
  peer.send(encodeGroupCommit(7, { group: 'g', memberId: joined.memberId, memberEpoch: joined.memberEpoch, topic: 'w', offsets: [{ partition: 0, offset: 9 }] }));
  const err = decodeError((await peer.waitFor((f) => f.type === FrameType.ERROR && f.id === 7, 'ERROR')).reader);
  t.is(err.code, 'FENCED_MEMBER');
  t.is(await h.engine.committed('g', 'w', 0), 0);

  const old = await RawPeer.open(h.server.url, false);
  t.teardown(() => old.close());
  old.send(encodeHello(1, { minVersion: 1, maxVersion: 1, flags: 0, clientId: 'v1' }));
  t.is(decodeHelloOk((await old.waitFor((f) => f.type === FrameType.HELLO_OK, 'HELLO_OK')).reader).version, 1);
  old.send(encodeGroupJoin(2, { group: 'g', topics: ['w'], sessionTimeoutMs: 0, rebalanceTimeoutMs: 0, clientId: 'v1' }));
  t.is(decodeError((await old.waitFor((f) => f.type === FrameType.ERROR && f.id === 2, 'ERROR')).reader).code, 'UNSUPPORTED_VERSION');
});

test('client: assigned/revoked events, commit, describe/list/reset/delete with their refusals; two topics in one member', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const c = await h.connect();
  await c.createTopic('a', { partitions: 2 });
  await c.createTopic('b', { partitions: 1 });
  await c.send('a', [{ value: 'a0' }], { partition: 0 });
  await c.send('b', [{ value: 'b0' }, { value: 'b1' }], { partition: 0 });
  // The coordinator's event log: a partition is never assigned while another member owns it.
  const owners = new Map<string, string>();
  const violations: string[] = [];
  h.engine.onGroupEvent((e) => {
    for (const k of flat(e.partitions ?? [])) {
      if (e.type === 'assigned' && owners.has(k)) violations.push(`${k} assigned to ${e.memberId} while ${owners.get(k)} owns it`);
      if (e.type === 'assigned') owners.set(k, e.memberId);
      if (e.type === 'released') owners.delete(k);
    }
  });
  const events: string[] = [];
  const m = c.subscribe(['a', 'b'], { group: 'two', from: 'earliest', autoCommit: false });
  m.on('assigned', (p) => events.push(`assigned ${flat(p).join(',')}`));
  m.on('revoked', (p) => events.push(`revoked ${flat(p).join(',')}`));
  const got = [...((await m.nextBatch()) ?? []), ...((await m.nextBatch()) ?? [])];
  t.deepEqual(got.map((r) => `${r.topic}:${r.offset}`).sort(), ['a:0', 'b:0', 'b:1'], 'two batches (one per topic), as arrays');
  t.deepEqual(events, ['assigned a:0,a:1,b:0']);
  await m.commit();
  const d = await c.describeGroup('two');
  t.is(d.state, 'stable');
  t.deepEqual(d.offsets.map((o) => [o.topic, o.partition, o.committed, o.endOffset, o.lag]), [['a', 0, 1, 1, 0], ['a', 1, 0, 0, 0], ['b', 0, 2, 2, 0]]);
  await t.throwsAsync(c.resetGroupOffsets('two', 'a', 'earliest'), { code: 'GROUP_NOT_EMPTY' } as never);
  // A second member takes some partitions: the first is told what it loses.
  const other = await h.connect();
  const second = other.subscribe(['a', 'b'], { group: 'two', from: 'earliest', autoCommit: false });
  await until(() => flat(second.assignment()).length > 0 && events.length === 2, 'revocation and reassignment');
  t.regex(events[1]!, /^revoked /);
  t.deepEqual([...flat(m.assignment()), ...flat(second.assignment())].sort(), ['a:0', 'a:1', 'b:0']);
  t.deepEqual(violations, []);
  // Metrics: members, lag and rebalances per group.
  const metrics = await (await fetch(`http://${h.server.url.slice('ws://'.length)}/metrics`)).text();
  t.regex(metrics, /^seglog_group_members\{group="two"\} 2$/m);
  t.regex(metrics, /^seglog_group_lag\{group="two",topic="b",partition="0"\} 0$/m);
  t.regex(metrics, /^seglog_group_rebalances_total\{group="two"\} [1-9]\d*$/m);
  await Promise.all([m.close(), second.close()]);
  await until(async () => (await c.describeGroup('two')).members.length === 0, 'both left');
  t.deepEqual(await c.listGroups(), [{ group: 'two', state: 'empty', protocolType: 'seglog', members: 0 }]);
  t.deepEqual(await c.resetGroupOffsets('two', 'b', { offset: 1 }), [{ partition: 0, offset: 1 }]);
  await t.throwsAsync(c.describeGroup('missing'), { code: 'GROUP_NOT_FOUND' } as never);
  await t.throwsAsync(c.deleteGroup('missing'), { code: 'GROUP_NOT_FOUND' } as never);
  await c.deleteGroup('two');
  t.deepEqual(await c.listGroups(), []);
});

test('server limit: group memberships per connection', async (t) => {
  const h = await startGateway({}, { maxGroupMembershipsPerSession: 1 });
  t.teardown(() => h.stop());
  await h.engine.createTopic('l', { partitions: 1 });
  const c = await h.connect();
  const first = c.subscribe('l', { group: 'g1' });
  await first.ready;
  const second = c.subscribe('l', { group: 'g2' });
  await t.throwsAsync(second.ready, { code: 'INVALID_ARGUMENT', message: /at most 1 group memberships/ } as never);
  await first.close();
});
