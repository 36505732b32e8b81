// Metadata: this server is the only broker (node 0), the controller, and the leader and only
// replica of every partition. Unknown topics are created when the listener auto-creates topics
// (`--auto-create`) and the request allows it (v4+ allowAutoTopicCreation, true before v4).
import { isSeglogError, type TopicDescription } from '../../../../engine/index.js';
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { KafkaError, KafkaRefusal, kafkaErrorCode } from '../errors.js';
import { sees } from '../peer.js';

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
  // Every topic: only those the principal may see (any right on them), as LIST_TOPICS on the WebSocket port.
  const names = all ? ctx.engine.listTopics().filter((name) => sees(info.peer, name)) : requested.map((t) => t.name ?? '');
  const create = ctx.autoCreateTopics && !all && req['allowAutoTopicCreation'] !== false;
  const topics: Struct[] = [];
  for (const name of names) {
    try {
      if (!sees(info.peer, name)) throw new KafkaRefusal(KafkaError.TOPIC_AUTHORIZATION_FAILED, `topic ${JSON.stringify(name)} is not visible to this principal`);
      // Auto-creation is a write: the principal must be allowed to produce to (or administer) the topic.
      const mayCreate = create && (info.peer.principal!.rights.allows('produce', 'topic', name) || info.peer.principal!.rights.allows('admin', 'topic', name));
      const d = await describeOrCreate(ctx, name, mayCreate);
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
