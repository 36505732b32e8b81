// Topic names become directory names (`<dir>/<topic>-<partition>/`), so they are checked before
// they touch the file system: only [A-Za-z0-9._-], 1..249 characters (Kafka's limit, which leaves
// room for `-<partition>` and a `.delete` suffix within a 255-byte file name), never `.` or `..`.
import { InvalidTopicNameError } from './format/errors.js';

export const TOPIC_NAME_MAX_CHARS = 249;
const TOPIC_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/** Returns the reason a topic name is refused, or null when it is valid. */
export function topicNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `must be a string, got ${name === null ? 'null' : typeof name}`;
  if (name.length === 0) return 'must not be empty';
  if (name.length > TOPIC_NAME_MAX_CHARS) return `is ${name.length} characters long, at most ${TOPIC_NAME_MAX_CHARS} are allowed`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (!TOPIC_NAME_PATTERN.test(name)) return 'may only contain ASCII letters, digits, ".", "_" and "-"';
  return null;
}

/** Throws InvalidTopicNameError unless `name` is a valid topic name. */
export function validateTopicName(name: unknown): asserts name is string {
  const problem = topicNameProblem(name);
  if (problem !== null) throw new InvalidTopicNameError(typeof name === 'string' ? name : String(name), problem);
}

/** Partition directory name, as Kafka: `<topic>-<partition>`. Unambiguous: the partition is the digits after the last dash. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Parses a partition directory name; null when it is not one (for example a `-delete` directory or a file). */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const m = /^(.+)-(\d{1,9})$/.exec(name);
  if (m === null) return null;
  const topic = m[1]!;
  if (topicNameProblem(topic) !== null) return null;
  return { topic, partition: Number(m[2]) };
}
