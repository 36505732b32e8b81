// Topic names and configurations, persisted in `<dir>/topics.json`. Every change rewrites the
// whole file atomically (temp file, fsync, rename, fsync of the directory), so after a crash the
// file holds either the old or the new set of topics, never a torn one.
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, IoError } from './format/errors.js';
import { writeAtomically } from './checkpoint-file.js';
import { topicNameProblem } from './topic-name.js';
import type { TopicConfig } from './types.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Limits on topic configuration values (documented in the README). */
export const LIMITS = {
  partitionsMax: 10_000,
  segmentBytesMin: 64 * KiB,
  segmentBytesMax: GiB,
  maxBatchBytesMin: 1 * KiB,
  maxBatchBytesMax: 64 * MiB,
  segmentMsMin: 1,
} as const;

export const DEFAULT_TOPIC_CONFIG: TopicConfig = Object.freeze({
  partitions: 1,
  segmentBytes: 128 * MiB,
  segmentMs: 7 * 24 * 3600 * 1000,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  compression: 'none',
  maxBatchBytes: 1 * MiB,
});

const CONFIG_KEYS: ReadonlyArray<keyof TopicConfig> = [
  'partitions', 'segmentBytes', 'segmentMs', 'retentionMs', 'retentionBytes', 'compression', 'maxBatchBytes',
];

function intIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

function limitOrUnlimited(name: string, v: unknown): number {
  if (v === -1) return -1;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidArgumentError(`${name} must be -1 (no limit) or an integer >= 0, got ${String(v)}`);
  }
  return v;
}

/**
 * Merges `partial` over `defaults` and validates every field. Unknown keys are refused (a typo
 * must not silently fall back to a default).
 */
export function resolveTopicConfig(partial: unknown, defaults: TopicConfig): TopicConfig {
  if (partial === undefined || partial === null) partial = {};
  if (typeof partial !== 'object' || Array.isArray(partial)) throw new InvalidArgumentError('topic config must be an object');
  const given = partial as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`unknown topic config ${JSON.stringify(key)} (known: ${CONFIG_KEYS.join(', ')})`);
    }
  }
  const pick = <K extends keyof TopicConfig>(k: K): unknown => (given[k] === undefined ? defaults[k] : given[k]);
  const segmentBytes = intIn('segmentBytes', pick('segmentBytes'), LIMITS.segmentBytesMin, LIMITS.segmentBytesMax);
  const compression = pick('compression');
  if (compression !== 'none' && compression !== 'lz4') {
    throw new InvalidArgumentError(`compression must be "none" or "lz4", got ${JSON.stringify(compression)}`);
  }
  const config: TopicConfig = {
    partitions: intIn('partitions', pick('partitions'), 1, LIMITS.partitionsMax),
    segmentBytes,
    segmentMs: intIn('segmentMs', pick('segmentMs'), LIMITS.segmentMsMin, Number.MAX_SAFE_INTEGER),
    retentionMs: limitOrUnlimited('retentionMs', pick('retentionMs')),
    retentionBytes: limitOrUnlimited('retentionBytes', pick('retentionBytes')),
    compression,
    // A batch must fit in one segment: a default larger than the segment shrinks to it; an
    // explicit value that does not fit is refused.
    maxBatchBytes: intIn(
      'maxBatchBytes',
      given.maxBatchBytes === undefined ? Math.min(defaults.maxBatchBytes, segmentBytes) : given.maxBatchBytes,
      LIMITS.maxBatchBytesMin,
      Math.min(LIMITS.maxBatchBytesMax, segmentBytes),
    ),
  };
  return config;
}

export interface TopicRecord {
  config: TopicConfig;
  createdAtMs: number;
}

const FILE_NAME = 'topics.json';
const FORMAT = 'seglog-topics';
const VERSION = 1;

export class TopicRegistry {
  readonly file: string;
  private topics: Map<string, TopicRecord>;
  /** Serializes rewrites: each one writes the state after all earlier changes. */
  private chain: Promise<void> = Promise.resolve();

  private constructor(file: string, topics: Map<string, TopicRecord>) {
    this.file = file;
    this.topics = topics;
  }

  /** Whether a registry file exists in `dir`. */
  static exists(dir: string): boolean {
    return fs.existsSync(path.join(dir, FILE_NAME));
  }

  /**
   * Loads `<dir>/topics.json` (an empty registry when there is none). A file that does not parse is
   * an error: the engine refuses to start rather than forget topics (and later delete their data).
   */
  static load(dir: string): TopicRegistry {
    const file = path.join(dir, FILE_NAME);
    const topics = new Map<string, TopicRecord>();
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new TopicRegistry(file, topics);
      throw new IoError(`cannot read ${file}: ${(e as Error).message}`, e);
    }
    let doc: { format?: unknown; version?: unknown; topics?: unknown };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch (e) {
      throw new IoError(`${file} is not valid JSON (${(e as Error).message}); refusing to start without the topic list`, e);
    }
    if (doc?.format !== FORMAT || doc.version !== VERSION || typeof doc.topics !== 'object' || doc.topics === null) {
      throw new IoError(`${file} is not a seglog topic registry of version ${VERSION}`);
    }
    for (const [name, value] of Object.entries(doc.topics as Record<string, unknown>)) {
      const problem = topicNameProblem(name);
      if (problem !== null) throw new IoError(`${file} holds an invalid topic name ${JSON.stringify(name)}: ${problem}`);
      const rec = value as { config?: unknown; createdAtMs?: unknown };
      let config: TopicConfig;
      try {
        config = resolveTopicConfig(rec?.config, DEFAULT_TOPIC_CONFIG);
      } catch (e) {
        throw new IoError(`${file}: topic ${name} has an invalid config: ${(e as Error).message}`, e);
      }
      topics.set(name, { config, createdAtMs: typeof rec.createdAtMs === 'number' ? rec.createdAtMs : 0 });
    }
    return new TopicRegistry(file, topics);
  }

  get(name: string): TopicRecord | undefined {
    return this.topics.get(name);
  }

  names(): string[] {
    return [...this.topics.keys()];
  }

  entries(): Array<[string, TopicRecord]> {
    return [...this.topics.entries()];
  }

  /**
   * Applies `change` to a copy of the topic map, writes it durably, then makes it current. Changes
   * run one at a time in call order. If the write fails, nothing changes and the error is thrown.
   */
  update(change: (topics: Map<string, TopicRecord>) => void): Promise<void> {
    const run = async (): Promise<void> => {
      const next = new Map(this.topics);
      change(next);
      try {
        await writeAtomically(this.file, serialize(next));
      } catch (e) {
        // The failure may have come after the rename (the directory's fsync): put the old content
        // back, so that the file keeps matching the topics in memory (best effort).
        await writeAtomically(this.file, serialize(this.topics)).catch(() => undefined);
        throw e;
      }
      this.topics = next;
    };
    const result = this.chain.then(run);
    this.chain = result.catch(() => undefined);
    return result;
  }
}

function serialize(topics: Map<string, TopicRecord>): string {
  const out: Record<string, TopicRecord> = {};
  for (const [name, rec] of [...topics.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[name] = rec;
  return JSON.stringify({ format: FORMAT, version: VERSION, topics: out }, null, 2) + '\n';
}

