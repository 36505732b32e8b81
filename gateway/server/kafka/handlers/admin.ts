// Topic administration: CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs. seglog is one
// broker, so replication factors other than 1 (or -1, "the default") and replica assignments naming
// another broker are refused. Kafka topic configs map to the engine's TopicConfig by TOPIC_CONFIGS.
import { DEFAULT_TOPIC_CONFIG, TOPIC_LIMITS, validateTopicName, type TopicConfig } from '../../../../engine/index.js';
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { requireTopicRight, sees } from '../peer.js';
import { KafkaError, KafkaRefusal, kafkaErrorCode } from '../errors.js';
import { NODE_ID } from './metadata.js';

/** Kafka's ConfigType (DescribeConfigs v3+) and ConfigSource codes. */
const CONFIG_TYPE = { STRING: 2, INT: 3, LONG: 5, LIST: 7 } as const;
const SOURCE_TOPIC = 1;
const SOURCE_DEFAULT = 5;
/** DescribeConfigs resource types. */
const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;

interface TopicConfigMapping {
  kafka: string;
  key: Exclude<keyof TopicConfig, 'partitions'>;
  type: number;
}

/** Kafka topic config names ↔ the engine's TopicConfig; compression.type: `lz4` ↔ lz4, `uncompressed` ↔ none. */
export const TOPIC_CONFIGS: readonly TopicConfigMapping[] = [
  { kafka: 'retention.ms', key: 'retentionMs', type: CONFIG_TYPE.LONG },
  { kafka: 'retention.bytes', key: 'retentionBytes', type: CONFIG_TYPE.LONG },
  { kafka: 'segment.bytes', key: 'segmentBytes', type: CONFIG_TYPE.INT },
  { kafka: 'segment.ms', key: 'segmentMs', type: CONFIG_TYPE.LONG },
  { kafka: 'max.message.bytes', key: 'maxBatchBytes', type: CONFIG_TYPE.INT },
  { kafka: 'compression.type', key: 'compression', type: CONFIG_TYPE.STRING },
];
/** Described, not settable: what seglog does and cannot be changed. */
const FIXED_CONFIGS = [{ name: 'cleanup.policy', value: 'delete', type: CONFIG_TYPE.LIST }];

function configValue(m: TopicConfigMapping, config: TopicConfig): string {
  const v = config[m.key];
  if (m.key === 'compression') return v === 'lz4' ? 'lz4' : 'uncompressed';
  return String(v);
}

function parseConfigs(configs: { name: string; value: string | null }[]): Partial<TopicConfig> {
  const out: Partial<Record<keyof TopicConfig, unknown>> = {};
  for (const c of configs) {
    const m = TOPIC_CONFIGS.find((x) => x.kafka === c.name);
    if (m === undefined) throw new KafkaRefusal(KafkaError.INVALID_CONFIG, `config ${c.name} is not served (served: ${TOPIC_CONFIGS.map((x) => x.kafka).join(', ')})`);
    if (c.value === null) continue; // null: the default
    if (m.key === 'compression') {
      if (c.value !== 'lz4' && c.value !== 'uncompressed') throw new KafkaRefusal(KafkaError.INVALID_CONFIG, `compression.type must be lz4 or uncompressed, got ${c.value}`);
      out.compression = c.value === 'lz4' ? 'lz4' : 'none';
    } else {
      if (!/^-?\d+$/.test(c.value)) throw new KafkaRefusal(KafkaError.INVALID_CONFIG, `${c.name} must be an integer, got ${JSON.stringify(c.value)}`);
      out[m.key] = Number(c.value);
    }
  }
  return out as Partial<TopicConfig>;
}

function checkPartitionCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1 || n > TOPIC_LIMITS.partitionsMax) {
    throw new KafkaRefusal(KafkaError.INVALID_PARTITIONS, `partition count must be 1..${TOPIC_LIMITS.partitionsMax}, got ${n}`);
  }
}

function checkBrokers(brokerIds: number[]): void {
  if (brokerIds.length !== 1 || brokerIds[0] !== NODE_ID) {
    throw new KafkaRefusal(KafkaError.INVALID_REPLICA_ASSIGNMENT, `seglog is one broker (node ${NODE_ID}): every partition has exactly that replica, got [${brokerIds.join(', ')}]`);
  }
}

interface CreatableTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export async function createTopics(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const topics = req['topics'] as CreatableTopic[];
  const validateOnly = req['validateOnly'] === true;
  const results: Struct[] = [];
  for (const t of topics) {
    try {
      requireTopicRight(ctx, info.peer, 'admin', t.name);
      if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
        throw new KafkaRefusal(KafkaError.INVALID_REPLICATION_FACTOR, `seglog is one broker: replication factor must be 1 (or -1), got ${t.replicationFactor}`);
      }
      let partitions: number | undefined;
      if (t.assignments.length > 0) {
        for (const a of t.assignments) checkBrokers(a.brokerIds);
        partitions = t.assignments.length;
      } else if (t.numPartitions !== -1) {
        partitions = t.numPartitions;
      }
      if (partitions !== undefined) checkPartitionCount(partitions);
      const config = parseConfigs(t.configs);
      if (validateOnly) {
        validateTopicName(t.name);
        if (ctx.engine.listTopics().includes(t.name)) throw new KafkaRefusal(KafkaError.TOPIC_ALREADY_EXISTS, `topic ${JSON.stringify(t.name)} already exists`);
      } else {
        await ctx.engine.createTopic(t.name, partitions === undefined ? config : { ...config, partitions });
      }
      results.push({ name: t.name, errorCode: KafkaError.NONE, errorMessage: null });
    } catch (e) {
      const code = kafkaErrorCode(e);
      // The engine's INVALID_ARGUMENT here is a config value out of its range.
      results.push({ name: t.name, errorCode: code === KafkaError.INVALID_REQUEST ? KafkaError.INVALID_CONFIG : code, errorMessage: (e as Error).message });
    }
  }
  return { throttleTimeMs: 0, topics: results };
}

export async function deleteTopics(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const responses: Struct[] = [];
  for (const name of req['topicNames'] as string[]) {
    try {
      requireTopicRight(ctx, info.peer, 'admin', name);
      await ctx.engine.deleteTopic(name);
      responses.push({ name, errorCode: KafkaError.NONE });
    } catch (e) {
      responses.push({ name, errorCode: kafkaErrorCode(e), errorMessage: (e as Error).message });
    }
  }
  return { throttleTimeMs: 0, responses };
}

export async function createPartitions(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const topics = req['topics'] as { name: string; count: number; assignments: { brokerIds: number[] }[] | null }[];
  const results: Struct[] = [];
  for (const t of topics) {
    try {
      requireTopicRight(ctx, info.peer, 'admin', t.name);
      for (const a of t.assignments ?? []) checkBrokers(a.brokerIds);
      const current = ctx.engine.describeTopic(t.name).partitions.length;
      checkPartitionCount(t.count);
      if (t.count <= current) throw new KafkaRefusal(KafkaError.INVALID_PARTITIONS, `topic ${JSON.stringify(t.name)} has ${current} partitions; the new count must be larger, got ${t.count}`);
      if (req['validateOnly'] !== true) await ctx.engine.addPartitions(t.name, t.count);
      results.push({ name: t.name, errorCode: KafkaError.NONE, errorMessage: null });
    } catch (e) {
      results.push({ name: t.name, errorCode: kafkaErrorCode(e), errorMessage: (e as Error).message });
    }
  }
  return { throttleTimeMs: 0, results };
}

function describeTopicConfigs(ctx: KafkaContext, name: string, keys: string[] | null, version: number): Struct[] {
  const config = ctx.engine.describeTopic(name).config;
  const entries = [
    ...TOPIC_CONFIGS.map((m) => {
      const value = configValue(m, config);
      const isDefault = value === configValue(m, DEFAULT_TOPIC_CONFIG);
      return { name: m.kafka, value, readOnly: false, isDefault, configSource: isDefault ? SOURCE_DEFAULT : SOURCE_TOPIC, configType: m.type };
    }),
    ...FIXED_CONFIGS.map((c) => ({ name: c.name, value: c.value, readOnly: true, isDefault: true, configSource: SOURCE_DEFAULT, configType: c.type })),
  ];
  return entries
    .filter((e) => keys === null || keys.includes(e.name))
    .map((e) => ({ ...e, isSensitive: false, synonyms: [], documentation: null, configSource: version >= 1 ? e.configSource : -1 }));
}

export function describeConfigs(ctx: KafkaContext, req: Struct, info: RequestInfo): Struct {
  const resources = req['resources'] as { resourceType: number; resourceName: string; configurationKeys: string[] | null }[];
  return {
    throttleTimeMs: 0,
    results: resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      try {
        if (r.resourceType === RESOURCE_TOPIC && !sees(info.peer, r.resourceName)) throw new KafkaRefusal(KafkaError.TOPIC_AUTHORIZATION_FAILED, `topic ${JSON.stringify(r.resourceName)} is not visible to this principal`);
        if (r.resourceType === RESOURCE_TOPIC) return { ...base, errorCode: KafkaError.NONE, errorMessage: null, configs: describeTopicConfigs(ctx, r.resourceName, r.configurationKeys, info.version) };
        // The broker has no configs to describe (its settings are the command line's).
        if (r.resourceType === RESOURCE_BROKER && (r.resourceName === String(NODE_ID) || r.resourceName === '')) return { ...base, errorCode: KafkaError.NONE, errorMessage: null, configs: [] };
        throw new KafkaRefusal(KafkaError.INVALID_REQUEST, `resource type ${r.resourceType} named ${JSON.stringify(r.resourceName)} is not served (topics, and broker ${NODE_ID})`);
      } catch (e) {
        return { ...base, errorCode: kafkaErrorCode(e), errorMessage: (e as Error).message, configs: [] };
      }
    }),
  };
}
