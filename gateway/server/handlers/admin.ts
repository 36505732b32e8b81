// Topic admin: CREATE_TOPIC, LIST_TOPICS, DESCRIBE_TOPIC, DELETE_TOPIC, ADD_PARTITIONS.
import { InvalidArgumentError } from '../../../engine/format/errors.js';
import type { TopicConfig } from '../../../engine/index.js';
import {
  decodeAddPartitions,
  decodeCreateTopic,
  decodeTopicName,
  encodeTopicDeleted,
  encodeTopicDescription,
  encodeTopicList,
} from '../../protocol/topics.js';
import type { Handler } from './context.js';

/** The Partial<TopicConfig> keys a CREATE_TOPIC may carry. */
const TOPIC_CONFIG_KEYS = new Set(['partitions', 'segmentBytes', 'segmentMs', 'retentionMs', 'retentionBytes', 'compression', 'maxBatchBytes']);

export const handleCreateTopic: Handler = (ctx, id, r) => {
  const { name, config } = decodeCreateTopic(r);
  ctx.authorize('admin', 'topic', name);
  for (const key of Object.keys(config)) {
    if (!TOPIC_CONFIG_KEYS.has(key)) {
      throw new InvalidArgumentError(`unknown topic config ${JSON.stringify(key)} (known: ${[...TOPIC_CONFIG_KEYS].join(', ')})`);
    }
  }
  ctx.track(id, async () => encodeTopicDescription(id, await ctx.engine.createTopic(name, config as Partial<TopicConfig>)));
};

export const handleListTopics: Handler = (ctx, id, r) => {
  r.end();
  ctx.sendFrame(encodeTopicList(id, ctx.engine.listTopics().filter((t) => ctx.sees('topic', t))));
};

export const handleDescribeTopic: Handler = (ctx, id, r) => {
  const name = decodeTopicName(r);
  requireVisible(ctx, name);
  ctx.sendFrame(encodeTopicDescription(id, ctx.engine.describeTopic(name)));
};

/** Describing needs some right on the topic; the refusal comes before the engine is asked, so it does not tell whether the topic exists. */
export function requireVisible(ctx: Parameters<Handler>[0], topic: string): void {
  if (!ctx.sees('topic', topic)) ctx.authorize('consume', 'topic', topic);
}

export const handleDeleteTopic: Handler = (ctx, id, r) => {
  const name = decodeTopicName(r);
  ctx.authorize('admin', 'topic', name);
  ctx.track(id, async () => {
    await ctx.engine.deleteTopic(name);
    return encodeTopicDeleted(id);
  });
};

export const handleAddPartitions: Handler = (ctx, id, r) => {
  const { name, totalPartitions } = decodeAddPartitions(r);
  ctx.authorize('admin', 'topic', name);
  ctx.track(id, async () => encodeTopicDescription(id, await ctx.engine.addPartitions(name, totalPartitions)));
};
