// Consumer groups on the Kafka port with kafkajs's consumer (classic protocol, its range/roundrobin
// assignor relayed by SyncGroup): two members share a topic's partitions, a member leaving hands
// everything to the other, committed offsets resume after a restart; commits are shared with the
// WebSocket front end and `seglog groups describe`; a group has one protocol kind at a time; an old
// generation's commit is fenced (ILLEGAL_GENERATION).
import test from 'ava';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { runCli } from '../helpers/cli-run.js';
import { until } from '../helpers/until.js';
import { RawKafka, kafkajsProtocol, startKafka, type KafkaHarness } from './helpers.js';

interface Seen {
  member: string;
  partition: number;
  offset: number;
  value: string;
}

/** A kafkajs group consumer with short intervals (so rebalances are noticed within a few fetches). */
async function member(kafka: Kafka, group: string, topic: string, name: string, seen: Seen[]): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 100, maxWaitTimeInMs: 100, retry: { retries: 5, initialRetryTime: 50 } });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommitInterval: 50,
    eachMessage: async ({ partition, message }: EachMessagePayload) => {
      seen.push({ member: name, partition, offset: Number(message.offset), value: message.value!.toString() });
    },
  });
  return consumer;
}

async function produce(h: KafkaHarness, topic: string, from: number, n: number): Promise<void> {
  // Spread over the partitions explicitly (so every partition has data).
  for (let i = from; i < from + n; i++) await h.engine.produce(topic, [{ value: `v${i}` }], { partition: i % 4 });
}

const values = (seen: Seen[]): string[] => [...new Set(seen.map((s) => s.value))].sort();
const range = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `v${from + i}`).sort();

test('kafkajs group: two members share 4 partitions, each record once; one leaves and the other takes all; commits resume after a restart', async (t) => {
  const h = await startKafka();
  const consumers: Consumer[] = [];
  try {
    await h.engine.createTopic('orders', { partitions: 4 });
    const seen: Seen[] = [];
    const a = await member(h.kafkajs(), 'billing', 'orders', 'a', seen);
    consumers.push(a);
    await until(() => h.engine.describeGroup('billing').members.length === 1, 'the first member joined');
    const b = await member(h.kafkajs(), 'billing', 'orders', 'b', seen);
    consumers.push(b);
    const shared = (): boolean => {
      const d = h.engine.describeGroup('billing');
      return d.state === 'stable' && d.members.length === 2 && d.members.every((m) => m.assignment.flatMap((x) => x.partitions).length === 2);
    };
    await until(shared, 'two members with 2 partitions each', 20_000);
    const d = h.engine.describeGroup('billing');
    t.is(d.protocolType, 'consumer');
    t.deepEqual(d.members.flatMap((m) => m.assignment.flatMap((x) => x.partitions)).sort(), [0, 1, 2, 3]);
    await produce(h, 'orders', 0, 40);
    await until(() => values(seen).length === 40, 'every record consumed', 20_000);
    // Steady state: each record once, each partition read by one member.
    t.is(seen.length, 40);
    t.deepEqual(values(seen), range(0, 40));
    for (let p = 0; p < 4; p++) t.is(new Set(seen.filter((s) => s.partition === p).map((s) => s.member)).size, 1);
    t.deepEqual(new Set(seen.map((s) => s.member)).size, 2);
    // Committed offsets reach the engine (auto-commit).
    await until(async () => (await Promise.all([0, 1, 2, 3].map((p) => h.engine.committed('billing', 'orders', p)))).every((o) => o === 10), 'offsets committed');

    // b leaves (LeaveGroup): a gets all four partitions.
    const left = Date.now();
    await b.disconnect();
    consumers.splice(consumers.indexOf(b), 1);
    await until(() => {
      const g = h.engine.describeGroup('billing');
      return g.state === 'stable' && g.members.length === 1 && g.members[0]!.assignment.flatMap((x) => x.partitions).length === 4;
    }, 'the remaining member owns all partitions', 20_000);
    t.log(`rebalance after a member left: ${Date.now() - left} ms`);
    const before = seen.length;
    await produce(h, 'orders', 40, 8);
    await until(() => values(seen).length === 48, 'records after the rebalance consumed', 20_000);
    t.true(seen.slice(before).every((s) => s.member === 'a'));

    // Restart: a new consumer of the group resumes from the committed offsets (nothing again).
    await until(async () => (await Promise.all([0, 1, 2, 3].map((p) => h.engine.committed('billing', 'orders', p)))).every((o) => o === 12), 'offsets committed after the rebalance');
    await a.disconnect();
    consumers.splice(consumers.indexOf(a), 1);
    await until(() => h.engine.describeGroup('billing').members.length === 0, 'the group empty');
    const again: Seen[] = [];
    consumers.push(await member(h.kafkajs(), 'billing', 'orders', 'c', again));
    await produce(h, 'orders', 48, 4);
    await until(() => values(again).length === 4, 'the restarted consumer got the new records', 20_000);
    t.deepEqual(values(again), range(48, 4));
  } finally {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await h.stop();
  }
});

test('Kafka commits are read over the WebSocket and by `seglog groups describe`, and the other way round; one protocol kind per group', async (t) => {
  const h = await startKafka();
  const consumers: Consumer[] = [];
  try {
    await h.engine.createTopic('shared', { partitions: 2 });
    await h.engine.produce('shared', [{ value: 'x' }, { value: 'y' }, { value: 'z' }], { partition: 0 });
    const seen: Seen[] = [];
    consumers.push(await member(h.kafkajs(), 'mixed', 'shared', 'k', seen));
    await until(() => seen.length === 3, 'kafkajs consumed');
    const ws = await h.client();
    await until(async () => (await ws.committed('mixed', 'shared', 0)) === 3, 'the Kafka commit visible over the WebSocket');
    const env = { SEGLOG_URL: h.server.url };
    const r = await runCli(['groups', 'describe', 'mixed', '--format', 'json'], { env });
    t.is(r.code, 0, r.stderr);
    const described = JSON.parse(r.stdout) as { protocolType: string; members: { clientId: string; assignment: { topic: string; partitions: number[] }[] }[]; offsets: { partition: number; committed: number | null }[] };
    t.is(described.protocolType, 'consumer');
    t.is(described.members.length, 1);
    t.deepEqual(described.members[0]!.assignment, [{ topic: 'shared', partitions: [0, 1] }]);
    t.is(described.offsets.find((o) => o.partition === 0)?.committed, 3);

    // A WebSocket member of a group with Kafka members: a typed error.
    const wsMember = ws.subscribe('shared', { group: 'mixed', from: 'earliest' });
    const err = await t.throwsAsync(wsMember.next());
    t.is((err as { code?: string } | undefined)?.code, 'GROUP_PROTOCOL_MISMATCH');
    await wsMember.close().catch(() => {});

    // A WebSocket commit is read by kafkajs's admin (OffsetFetch).
    await ws.commit('ws-only', 'shared', 1, 7);
    const admin = h.kafkajs().admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: 'ws-only', topics: ['shared'] });
      t.deepEqual(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort(), [[0, '-1'], [1, '7']]);
      const groups = await admin.listGroups();
      t.deepEqual(groups.groups.filter((g) => g.groupId === 'mixed').map((g) => g.protocolType), ['consumer']);
      const desc = await admin.describeGroups(['mixed', 'nope']);
      t.is(desc.groups[0]!.state, 'Stable');
      t.is(desc.groups[0]!.protocol.length > 0, true);
      t.is(desc.groups[0]!.members.length, 1);
      t.is(desc.groups[1]!.state, 'Dead');
      // DeleteGroups: refused while it has members, done once empty.
      await t.throwsAsync(admin.deleteGroups(['mixed']));
      await admin.deleteGroups(['ws-only']);
      t.is(await ws.committed('ws-only', 'shared', 1), null);
    } finally {
      await admin.disconnect();
    }
  } finally {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await h.stop();
  }
});

test('a Kafka member of a group with WebSocket members gets INCONSISTENT_GROUP_PROTOCOL; an old generation\'s commit gets ILLEGAL_GENERATION', async (t) => {
  const h = await startKafka();
  const raw = await RawKafka.connect(h.port);
  try {
    await h.engine.createTopic('f', { partitions: 1 });
    const ws = await h.client();
    const wsMember = ws.subscribe('f', { group: 'ws-group', from: 'earliest' });
    await until(() => h.engine.listGroups().some((g) => g.group === 'ws-group' && g.members === 1), 'the WebSocket member joined');
    const join = (groupId: string, memberId = '') =>
      raw.request(kafkajsProtocol('joinGroup', 2, { groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000, memberId, protocolType: 'consumer', groupProtocols: [{ name: 'range', metadata: Buffer.alloc(0) }] }));
    // kafkajs's decoders (not its parse step) hand back the error codes as numbers.
    t.is((await join('ws-group')).errorCode, 23); // INCONSISTENT_GROUP_PROTOCOL
    await wsMember.close();

    // Generation 1, then a second member joins: generation 2 fences generation 1's commit.
    const first = await join('fenced');
    const g1 = first.generationId as number;
    const sync = await raw.request(kafkajsProtocol('syncGroup', 1, { groupId: 'fenced', generationId: g1, memberId: first.memberId, groupAssignment: [] }));
    t.is(sync.errorCode, 0, JSON.stringify(first));
    const commit = (generationId: number) =>
      raw.request(kafkajsProtocol('offsetCommit', 2, { groupId: 'fenced', groupGenerationId: generationId, memberId: first.memberId, retentionTime: -1, topics: [{ topic: 'f', partitions: [{ partition: 0, offset: '1' }] }] }));
    const ok = await commit(g1);
    t.is(ok.responses[0].partitions[0].errorCode, 0);
    t.is(await h.engine.committed('fenced', 'f', 0), 1);
    // The member rejoins (its own new generation): generation g1's commit is now stale.
    const rejoined = await join('fenced', first.memberId);
    t.is(rejoined.generationId, g1 + 1);
    t.is((await commit(g1)).responses[0].partitions[0].errorCode, 22); // ILLEGAL_GENERATION
    t.is((await raw.request(kafkajsProtocol('heartbeat', 1, { groupId: 'fenced', groupGenerationId: g1, memberId: first.memberId }))).errorCode, 22);
    // Between JoinGroup and the leader's SyncGroup a commit is REBALANCE_IN_PROGRESS (as Kafka).
    t.is((await commit(g1 + 1)).responses[0].partitions[0].errorCode, 27);
    t.is((await raw.request(kafkajsProtocol('heartbeat', 1, { groupId: 'fenced', groupGenerationId: g1 + 1, memberId: 'nobody' }))).errorCode, 25); // UNKNOWN_MEMBER_ID
    t.is(await h.engine.committed('fenced', 'f', 0), 1);
  } finally {
    raw.end();
    await h.stop();
  }
});
