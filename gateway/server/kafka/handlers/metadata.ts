// Metadata: this server is the only broker (node 0), the controller, and the leader and only
// replica of every partition. Unknown topics are created when the listener auto-creates topics
// (`--auto-create`) and the request allows it (v4+ allowAutoTopicCreation, true before v4).
import { isSeglogError, type TopicDescription } from '../../../../engine/index.js';
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { KafkaError, kafkaErrorCode } from '../errors.js';

/** The one broker's node id (Metadata, FindCoordinator). */
export const NODE_ID = 0;

async function describeOrCreate(ctx: KafkaContext, name: string, create: boolean): Promise<TopicDescription> {
  try {
    return ctx.engine.describeTopic(name);
  } catch (e) {
    if (!create || !isSeglogError(e) || e.code !== 'TOPIC_NOT_FOUND') throw e;
  }
  try {
    return await ctx.engine.createTopic(name);
  } catch (e) {
    // Created meanwhile by another request: describe what is there.
    if (isSeglogError(e) && e.code === 'TOPIC_EXISTS') return ctx.engine.describeTopic(name);
    throw e;
  }
}

export function partitionMetadata(partition: number): Struct {
  return { errorCode: KafkaError.NONE, partitionIndex: partition, leaderId: NODE_ID, leaderEpoch: 0, replicaNodes: [NODE_ID], isrNodes: [NODE_ID], offlineReplicas: [] };
}

export async function metadata(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const requested = req['topics'] as { name: string | null }[] | null;
  // v0: an empty list means every topic; v1+: null means every topic, empty means none.
  const all = requested === null || (info.version === 0 && requested.length === 0);
  const names = all ? ctx.engine.listTopics() : requested.map((t) => t.name ?? '');
  const create = ctx.autoCreateTopics && !all && req['allowAutoTopicCreation'] !== false;
  const topics: Struct[] = [];
  for (const name of names) {
    try {
      const d = await describeOrCreate(ctx, name, create);
      topics.push({ errorCode: KafkaError.NONE, name, isInternal: false, partitions: d.partitions.map((p) => partitionMetadata(p.partition)) });
    } catch (e) {
      topics.push({ errorCode: kafkaErrorCode(e), name, isInternal: false, partitions: [] });
    }
  }
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: NODE_ID, host: info.localAddress, port: info.localPort, rack: null }],
    clusterId: ctx.clusterId,
    controllerId: NODE_ID,
    topics,
  };
}
