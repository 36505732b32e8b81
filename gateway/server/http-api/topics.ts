// /api/topics: list, describe, create, delete, add partitions. Rights as the WebSocket's topic
// admin frames (handlers/admin.ts): admin:topic to change, some right on a topic to see it.
import { InvalidArgumentError } from '../../../engine/format/errors.js';
import type { TopicConfig, TopicDescription } from '../../../engine/index.js';
import { intParam, objectBody, type ApiRequest, type Route } from './route.js';

/** The TopicConfig keys a POST /api/topics may carry (besides `name`). */
const TOPIC_CONFIG_KEYS = new Set(['partitions', 'segmentBytes', 'segmentMs', 'retentionMs', 'retentionBytes', 'compression', 'maxBatchBytes']);

/** One row of the topics table: totals over the partitions. */
export function topicSummary(d: TopicDescription): Record<string, unknown> {
  let records = 0;
  let bytes = 0;
  let endOffsets = 0;
  let newest: number | null = null;
  for (const p of d.partitions) {
    records += p.endOffset - p.startOffset;
    endOffsets += p.endOffset;
    bytes += p.sizeBytes;
    if (p.newestTimestamp !== null && (newest === null || p.newestTimestamp > newest)) newest = p.newestTimestamp;
  }
  return { name: d.name, partitions: d.partitions.length, records, endOffsets, bytes, newestTimestamp: newest, config: d.config };
}

/** Describing needs some right on the topic; refused before the engine is asked (existence stays hidden). */
function requireVisible(req: ApiRequest, topic: string): void {
  if (!req.sees('topic', topic)) req.authorize('consume', 'topic', topic);
}

export const topicRoutes: Route[] = [
  {
    method: 'GET',
    path: '/topics',
    handle(req) {
      const topics = [];
      for (const name of req.engine.listTopics()) {
        if (!req.sees('topic', name)) continue;
        try {
          topics.push(topicSummary(req.engine.describeTopic(name)));
        } catch {
          // deleted while we listed
        }
      }
      return { body: { topics } };
    },
  },
  {
    method: 'GET',
    path: '/topics/:topic',
    handle(req) {
      const name = req.params['topic']!;
      requireVisible(req, name);
      const d = req.engine.describeTopic(name);
      return { body: { ...topicSummary(d), partitions: d.partitions } };
    },
  },
  {
    method: 'POST',
    path: '/topics',
    async handle(req) {
      const body = objectBody(req.body, 'POST /api/topics');
      const name = body['name'];
      if (typeof name !== 'string') throw new InvalidArgumentError('POST /api/topics: "name" (a string) is required');
      req.authorize('admin', 'topic', name);
      const config: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(body)) {
        if (k === 'name') continue;
        if (!TOPIC_CONFIG_KEYS.has(k)) throw new InvalidArgumentError(`unknown topic config ${JSON.stringify(k)} (known: ${[...TOPIC_CONFIG_KEYS].join(', ')})`);
        config[k] = v;
      }
      const d = await req.engine.createTopic(name, config as Partial<TopicConfig>);
      return { status: 201, body: { ...topicSummary(d), partitions: d.partitions } };
    },
  },
  {
    method: 'DELETE',
    path: '/topics/:topic',
    async handle(req) {
      const name = req.params['topic']!;
      req.authorize('admin', 'topic', name);
      await req.engine.deleteTopic(name);
      return { body: { deleted: name } };
    },
  },
  {
    method: 'POST',
    path: '/topics/:topic/partitions',
    async handle(req) {
      const name = req.params['topic']!;
      req.authorize('admin', 'topic', name);
      const body = objectBody(req.body, 'POST /api/topics/:topic/partitions');
      const total = intParam(body['partitions'], 'partitions (the new total)', undefined, 1);
      const d = await req.engine.addPartitions(name, total);
      return { body: { ...topicSummary(d), partitions: d.partitions } };
    },
  },
];
