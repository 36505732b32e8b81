// The groups an engine knows, persisted in `<dir>/consumer-groups.json` (FORMAT.md 4): name,
// protocol type, creation time and the group epoch when it was last written. Membership is not
// persisted (members join again after a restart); committed offsets live in the offset journal.
// Rewritten whole and atomically (temp file, fsync, rename, fsync of the directory) when a group is
// created or deleted, so a crash leaves the old or the new list. A write that fails (DISK_FULL)
// fails the operation that needed it, and the list in memory stays as on disk.
import fs from 'node:fs';
import path from 'node:path';
import { IoError } from '../format/errors.js';
import { writeAtomically } from '../checkpoint-file.js';
import type { GroupProtocolType } from './group-types.js';

export const GROUP_STORE_FILE = 'consumer-groups.json';
const FORMAT = 'seglog-consumer-groups';
const VERSION = 1;

export interface StoredGroup {
  protocolType: GroupProtocolType;
  createdAt: number;
  /** The group epoch when last written; a restarted group continues above it. */
  groupEpoch: number;
}

export class GroupStore {
  private readonly file: string;
  private readonly groups: Map<string, StoredGroup>;
  /** Writes run one at a time, in call order. */
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(file: string, groups: Map<string, StoredGroup>) {
    this.file = file;
    this.groups = groups;
  }

  /** Loads the list; a missing file is an empty list, a damaged one an IO_ERROR naming it (never guessed). */
  static load(dir: string): GroupStore {
    const file = path.join(dir, GROUP_STORE_FILE);
    fs.rmSync(`${file}.tmp`, { force: true }); // a write that did not finish; the file itself is intact
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new GroupStore(file, new Map());
      throw new IoError(`cannot read ${file}: ${(e as Error).message}`, e);
    }
    let parsed: { format?: unknown; version?: unknown; groups?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (e) {
      throw new IoError(`${file} is not valid JSON (${(e as Error).message}); move it away to start without groups (committed offsets are kept elsewhere)`, e);
    }
    if (parsed.format !== FORMAT || parsed.version !== VERSION || parsed.groups === null || typeof parsed.groups !== 'object') {
      throw new IoError(`${file} is not a seglog consumer group list of version ${VERSION}`);
    }
    const groups = new Map<string, StoredGroup>();
    for (const [name, g] of Object.entries(parsed.groups as Record<string, StoredGroup>)) {
      groups.set(name, { protocolType: g.protocolType === 'consumer' ? 'consumer' : 'seglog', createdAt: Number(g.createdAt) || 0, groupEpoch: Number(g.groupEpoch) || 0 });
    }
    return new GroupStore(file, groups);
  }

  get size(): number {
    return this.groups.size;
  }

  get(name: string): StoredGroup | undefined {
    return this.groups.get(name);
  }

  names(): string[] {
    return [...this.groups.keys()];
  }

  /** Adds or replaces `name` durably; on failure nothing changes. */
  put(name: string, group: StoredGroup): Promise<void> {
    return this.write((next) => next.set(name, group));
  }

  /** Removes `name` durably; on failure nothing changes. */
  remove(name: string): Promise<void> {
    return this.write((next) => next.delete(name));
  }

  private write(change: (next: Map<string, StoredGroup>) => void): Promise<void> {
    const run = async (): Promise<void> => {
      const next = new Map(this.groups);
      change(next);
      const sorted = Object.fromEntries([...next.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      await writeAtomically(this.file, `${JSON.stringify({ format: FORMAT, version: VERSION, groups: sorted }, null, 2)}\n`);
      this.groups.clear();
      for (const [k, v] of next) this.groups.set(k, v);
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Resolves once every write started so far has finished. */
  settled(): Promise<unknown> {
    return this.chain;
  }
}
