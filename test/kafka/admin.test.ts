// Topic administration over the Kafka port with kafkajs's admin client: CreateTopics (partitions,
// configs, one-broker rules), DeleteTopics, CreatePartitions, DescribeConfigs.
import test from 'ava';
import kafkajs from 'kafkajs';
import { startKafka } from './helpers.js';

// kafkajs is CommonJS: its enums come off the default export.
const { ConfigResourceTypes } = kafkajs;

test('kafkajs admin createTopics: partitions and configs reach the engine; one-broker rules; existing and invalid names refused', async (t) => {
  const h = await startKafka();
  const admin = h.kafkajs().admin();
  try {
    await admin.connect();
    t.true(await admin.createTopics({
      topics: [
        { topic: 'made', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'compression.type', value: 'lz4' }] },
        { topic: 'plain' },
      ],
    }));
    const made = h.engine.describeTopic('made');
    t.is(made.partitions.length, 3);
    t.is(made.config.retentionMs, 3_600_000);
    t.is(made.config.compression, 'lz4');
    t.is(h.engine.describeTopic('plain').partitions.length, 1);
    // Already there: kafkajs reports it as "not created" (false).
    t.false(await admin.createTopics({ topics: [{ topic: 'made' }] }));
    const rf = await t.throwsAsync(admin.createTopics({ topics: [{ topic: 'rf3', replicationFactor: 3 }] }));
    t.regex(JSON.stringify((rf as { errors?: unknown }).errors), /"INVALID_REPLICATION_FACTOR","code":38/);
    const cfg = await t.throwsAsync(admin.createTopics({ topics: [{ topic: 'cfg', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] }));
    t.regex(JSON.stringify((cfg as { errors?: unknown }).errors), /"INVALID_CONFIG","code":40/);
    const bad = await t.throwsAsync(admin.createTopics({ topics: [{ topic: 'bad/name' }] }));
    t.regex(JSON.stringify((bad as { errors?: unknown }).errors), /"INVALID_TOPIC_EXCEPTION","code":17/);
    t.deepEqual(h.engine.listTopics().sort(), ['made', 'plain']);
    t.true(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'dry', numPartitions: 2 }] }));
    t.deepEqual(h.engine.listTopics().sort(), ['made', 'plain']);
  } finally {
    await admin.disconnect();
    await h.stop();
  }
});

test('kafkajs admin createPartitions and deleteTopics', async (t) => {
  const h = await startKafka();
  const admin = h.kafkajs().admin();
  try {
    await h.engine.createTopic('grow', { partitions: 2 });
    await h.engine.createTopic('gone', { partitions: 1 });
    await admin.connect();
    await admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 5 }] });
    t.is(h.engine.describeTopic('grow').partitions.length, 5);
    const smaller = await t.throwsAsync(admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 3 }] }));
    t.regex(smaller!.message, /partition/i);
    t.is(h.engine.describeTopic('grow').partitions.length, 5);
    await admin.deleteTopics({ topics: ['gone'] });
    t.deepEqual(h.engine.listTopics(), ['grow']);
    const missing = await t.throwsAsync(admin.deleteTopics({ topics: ['never'] }));
    t.regex(missing!.message, /does not host this topic-partition|topic/i);
  } finally {
    await admin.disconnect();
    await h.stop();
  }
});

test('kafkajs admin describeConfigs: a topic\'s configs with defaults marked; a filter by name; the broker; an unknown topic', async (t) => {
  const h = await startKafka();
  const admin = h.kafkajs().admin();
  try {
    await h.engine.createTopic('d', { partitions: 1, retentionMs: 60_000 });
    await admin.connect();
    const all = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'd' }] });
    const entries = all.resources[0]!.configEntries;
    const byName = new Map(entries.map((e) => [e.configName, e]));
    t.is(byName.get('retention.ms')!.configValue, '60000');
    t.false(byName.get('retention.ms')!.isDefault);
    t.is(byName.get('compression.type')!.configValue, 'uncompressed');
    t.true(byName.get('compression.type')!.isDefault);
    t.is(byName.get('cleanup.policy')!.configValue, 'delete');
    t.true(byName.get('cleanup.policy')!.readOnly);
    const some = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'd', configNames: ['segment.bytes'] }] });
    t.deepEqual(some.resources[0]!.configEntries.map((e) => e.configName), ['segment.bytes']);
    const broker = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '0' }] });
    t.deepEqual(broker.resources[0]!.configEntries, []);
    const missing = await t.throwsAsync(admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'nope' }] }));
    t.truthy(missing);
  } finally {
    await admin.disconnect();
    await h.stop();
  }
});
