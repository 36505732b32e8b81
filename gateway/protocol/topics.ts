// Topic admin: CREATE_TOPIC, LIST_TOPICS, DESCRIBE_TOPIC, DELETE_TOPIC, ADD_PARTITIONS.
// Not a hot path, so configurations and descriptions travel as JSON text (schema in PROTOCOL.md).
import { FrameError, FrameReader } from './codec.js';
import { FrameType, encodeEmpty, frameWriter } from './frame.js';

/** Upper bound on names in a TOPIC_LIST. */
export const MAX_TOPIC_LIST = 1 << 20;

export function encodeCreateTopic(id: number, name: string, config: object): Uint8Array {
  return frameWriter(FrameType.CREATE_TOPIC, id).string(name).text(JSON.stringify(config)).finish();
}

export function decodeCreateTopic(r: FrameReader): { name: string; config: Record<string, unknown> } {
  const name = r.string('name');
  const json = r.text('config');
  r.end();
  let config: unknown;
  try {
    config = json === '' ? {} : JSON.parse(json);
  } catch {
    throw new FrameError('topic config is not valid JSON');
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new FrameError('topic config must be a JSON object');
  }
  return { name, config: config as Record<string, unknown> };
}

/** DESCRIBE_TOPIC and DELETE_TOPIC carry just a name. */
export function encodeTopicName(type: typeof FrameType.DESCRIBE_TOPIC | typeof FrameType.DELETE_TOPIC, id: number, name: string): Uint8Array {
  return frameWriter(type, id).string(name).finish();
}

export function decodeTopicName(r: FrameReader): string {
  const name = r.string('name');
  r.end();
  return name;
}

export function encodeAddPartitions(id: number, name: string, totalPartitions: number): Uint8Array {
  return frameWriter(FrameType.ADD_PARTITIONS, id).string(name).i32(totalPartitions).finish();
}

export function decodeAddPartitions(r: FrameReader): { name: string; totalPartitions: number } {
  const req = { name: r.string('name'), totalPartitions: r.i32('totalPartitions') };
  r.end();
  return req;
}

export const encodeListTopics = (id: number): Uint8Array => encodeEmpty(FrameType.LIST_TOPICS, id);

export function encodeTopicList(id: number, names: string[]): Uint8Array {
  const w = frameWriter(FrameType.TOPIC_LIST, id).u32(names.length);
  for (const n of names) w.string(n);
  return w.finish();
}

export function decodeTopicList(r: FrameReader): string[] {
  const n = r.u32('count');
  if (n > MAX_TOPIC_LIST) throw new FrameError(`topic count ${n} exceeds ${MAX_TOPIC_LIST}`);
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push(r.string('name'));
  r.end();
  return names;
}

export function encodeTopicDescription(id: number, description: object): Uint8Array {
  return frameWriter(FrameType.TOPIC_DESCRIPTION, id).text(JSON.stringify(description)).finish();
}

export function decodeTopicDescription<T>(r: FrameReader): T {
  const json = r.text('description');
  r.end();
  try {
    return JSON.parse(json) as T;
  } catch {
    throw new FrameError('topic description is not valid JSON');
  }
}

export const encodeTopicDeleted = (id: number): Uint8Array => encodeEmpty(FrameType.TOPIC_DELETED, id);
