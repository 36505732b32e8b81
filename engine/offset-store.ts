// Committed consumer group offsets, stored by the engine in an append-only journal
// (`<dir>/consumer-offsets.journal`). Each entry carries its own CRC-32C; commits waiting at the same
// time are written with one write and one fdatasync (group commit), and a commit resolves only
// once its entry is on disk. On load, entries are replayed until the first torn or corrupt one,
// where the file is cut (a crash mid-write loses at most the commits that had not resolved). When
// the journal grows well past its live content it is compacted: live entries are written to a
// temp file, fsynced and renamed over the journal.
//
// Entry: u32 payloadLength | u32 crc32c(payload) | payload
// payload: u8 version(=1) | u16 groupBytes | group | u16 topicBytes | topic | u32 partition | i64 offset
// offset -1 is a tombstone (the committed offset was deleted, e.g. with its topic).
import { crc32c } from './crc32c.js';
import fs from 'node:fs';
import path from 'node:path';
import { ClosedError, InvalidArgumentError, IoError } from './format/errors.js';
import { storageError } from './storage-error.js';
import { readInt64, writeInt64 } from './record-batch.js';
import { syncDir } from './checkpoint-file.js';

export const GROUP_NAME_MAX_BYTES = 255;
const ENTRY_HEADER_BYTES = 8;
const ENTRY_VERSION = 1;
/** No legitimate entry is larger: 1 + 2 + 255 + 2 + 249 + 4 + 8. */
const PAYLOAD_MAX_BYTES = 1024;
/** Commits waiting for the journal at once; more get an error instead of unbounded memory. */
export const PENDING_COMMITS_MAX = 1_000_000;

export interface OffsetStoreOptions {
  /** Compact when the journal is larger than this and more than 4× its live content. Default 4 MiB. */
  compactBytes?: number;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
}

interface PendingCommit {
  group: string;
  topic: string;
  partition: number;
  offset: number;
  entry: Buffer;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Throws unless `group` is a non-empty string of at most 255 UTF-8 bytes. */
export function validateGroupName(group: unknown): asserts group is string {
  if (typeof group !== 'string' || group.length === 0) throw new InvalidArgumentError('consumer group must be a non-empty string');
  if (Buffer.byteLength(group, 'utf8') > GROUP_NAME_MAX_BYTES) {
    throw new InvalidArgumentError(`consumer group name is longer than ${GROUP_NAME_MAX_BYTES} bytes`);
  }
}

function encodeEntry(group: string, topic: string, partition: number, offset: number): Buffer {
  const g = Buffer.from(group, 'utf8');
  const t = Buffer.from(topic, 'utf8');
  const payloadBytes = 1 + 2 + g.length + 2 + t.length + 4 + 8;
  const buf = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + payloadBytes);
  let pos = ENTRY_HEADER_BYTES;
  buf[pos++] = ENTRY_VERSION;
  pos = buf.writeUInt16BE(g.length, pos);
  pos += g.copy(buf, pos);
  pos = buf.writeUInt16BE(t.length, pos);
  pos += t.copy(buf, pos);
  pos = buf.writeUInt32BE(partition, pos);
  writeInt64(buf, pos, offset);
  buf.writeUInt32BE(payloadBytes, 0);
  buf.writeUInt32BE(crc32c(buf.subarray(ENTRY_HEADER_BYTES)), 4);
  return buf;
}

/** Decodes the entry at `pos`; null when it is torn or corrupt. */
function decodeEntry(buf: Buffer, pos: number): { group: string; topic: string; partition: number; offset: number; size: number } | null {
  if (buf.length - pos < ENTRY_HEADER_BYTES) return null;
  const payloadBytes = buf.readUInt32BE(pos);
  if (payloadBytes < 17 || payloadBytes > PAYLOAD_MAX_BYTES || pos + ENTRY_HEADER_BYTES + payloadBytes > buf.length) return null;
  const payload = buf.subarray(pos + ENTRY_HEADER_BYTES, pos + ENTRY_HEADER_BYTES + payloadBytes);
  if (crc32c(payload) !== buf.readUInt32BE(pos + 4)) return null;
  if (payload[0] !== ENTRY_VERSION) return null;
  let p = 1;
  const gl = payload.readUInt16BE(p);
  p += 2;
  if (p + gl + 2 > payload.length) return null;
  const group = payload.toString('utf8', p, p + gl);
  p += gl;
  const tl = payload.readUInt16BE(p);
  p += 2;
  if (p + tl + 12 !== payload.length) return null;
  const topic = payload.toString('utf8', p, p + tl);
  p += tl;
  const partition = payload.readUInt32BE(p);
  const offset = readInt64(payload, p + 4);
  return { group, topic, partition, offset, size: ENTRY_HEADER_BYTES + payloadBytes };
}

const key = (topic: string, partition: number): string => `${topic}:${partition}`;

export class OffsetStore {
  readonly file: string;
  /** group → "topic:partition" → committed offset (only what is on disk). */
  private readonly groups = new Map<string, Map<string, CommittedOffset>>();
  private liveEntries = 0;
  private fileBytes: number;
  private fh: fs.promises.FileHandle;
  private pending: PendingCommit[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;
  private readonly compactBytes: number;
  /** What load() found: entries replayed and bytes cut from a torn tail. */
  readonly loadInfo: { entries: number; truncatedBytes: number };

  private constructor(file: string, fh: fs.promises.FileHandle, fileBytes: number, compactBytes: number, loadInfo: OffsetStore['loadInfo']) {
    this.file = file;
    this.fh = fh;
    this.fileBytes = fileBytes;
    this.compactBytes = compactBytes;
    this.loadInfo = loadInfo;
  }

  static async open(dir: string, options: OffsetStoreOptions = {}): Promise<OffsetStore> {
    const file = path.join(dir, 'consumer-offsets.journal');
    let data: Buffer;
    let created = false;
    try {
      data = await fs.promises.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new IoError(`cannot read ${file}: ${(e as Error).message}`, e);
      data = Buffer.alloc(0);
      created = true;
    }
    // A leftover from a compaction that did not finish; the journal itself is intact.
    await fs.promises.rm(`${file}.tmp`, { force: true });
    const entries: Array<NonNullable<ReturnType<typeof decodeEntry>>> = [];
    let pos = 0;
    for (;;) {
      const entry = decodeEntry(data, pos);
      if (entry === null) break;
      entries.push(entry);
      pos += entry.size;
    }
    const truncatedBytes = data.length - pos;
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(file, 'a');
    } catch (e) {
      throw storageError(e, `opening ${file}`);
    }
    try {
      if (truncatedBytes > 0) {
        // Cut the torn tail so new entries follow the last good one.
        await fh.truncate(pos);
        await fh.datasync();
      }
      if (created) await syncDir(dir);
    } catch (e) {
      await fh.close();
      throw storageError(e, `preparing ${file}`);
    }
    const store = new OffsetStore(file, fh, pos, options.compactBytes ?? 4 * 1024 * 1024, { entries: entries.length, truncatedBytes });
    for (const e of entries) store.apply(e.group, e.topic, e.partition, e.offset);
    return store;
  }

  private apply(group: string, topic: string, partition: number, offset: number): void {
    let m = this.groups.get(group);
    if (offset < 0) {
      if (m?.delete(key(topic, partition))) {
        this.liveEntries--;
        if (m.size === 0) this.groups.delete(group);
      }
      return;
    }
    if (m === undefined) {
      m = new Map();
      this.groups.set(group, m);
    }
    const k = key(topic, partition);
    if (!m.has(k)) this.liveEntries++;
    m.set(k, { topic, partition, offset });
  }

  get(group: string, topic: string, partition: number): number | null {
    return this.groups.get(group)?.get(key(topic, partition))?.offset ?? null;
  }

  list(group: string): CommittedOffset[] {
    const m = this.groups.get(group);
    if (m === undefined) return [];
    return [...m.values()]
      .map((c) => ({ ...c }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /** Groups with at least one committed offset. */
  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** Deletes every committed offset of `group` (durably). */
  async deleteGroup(group: string): Promise<void> {
    await Promise.all(this.list(group).map((c) => this.commit(group, c.topic, c.partition, -1)));
  }

  /** Groups that have a committed offset for `topic`, with its partitions. */
  private entriesForTopic(topic: string): Array<{ group: string; partition: number }> {
    const out: Array<{ group: string; partition: number }> = [];
    for (const [group, m] of this.groups) for (const c of m.values()) if (c.topic === topic) out.push({ group, partition: c.partition });
    return out;
  }

  /** Durably records `offset` (or deletes the entry when offset is -1). Resolves once on disk. */
  commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('offset store'));
    if (this.pending.length >= PENDING_COMMITS_MAX) {
      return Promise.reject(new InvalidArgumentError(`more than ${PENDING_COMMITS_MAX} offset commits are waiting; slow down`));
    }
    const entry = encodeEntry(group, topic, partition, offset);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ group, topic, partition, offset, entry, resolve, reject });
      if (this.writing === null) this.writing = this.writeLoop();
    });
  }

  /** Deletes every group's committed offsets for `topic` (partitions ≥ `fromPartition`). */
  async deleteTopic(topic: string, fromPartition = 0): Promise<void> {
    const doomed = this.entriesForTopic(topic).filter((e) => e.partition >= fromPartition);
    await Promise.all(doomed.map((e) => this.commit(e.group, topic, e.partition, -1)));
  }

  private async writeLoop(): Promise<void> {
    // Bounded by the number of commits queued; each round takes everything queued so far.
    while (this.pending.length > 0) {
      const round = this.pending;
      this.pending = [];
      try {
        const bytes = Buffer.concat(round.map((c) => c.entry));
        // A nearly full disk can take part of the write and return a short count without an error.
        const { bytesWritten } = await this.fh.write(bytes, 0, bytes.length, null);
        if (bytesWritten !== bytes.length) throw Object.assign(new Error(`short write (${bytesWritten} of ${bytes.length} bytes)`), { code: 'ENOSPC' });
        await this.fh.datasync();
        this.fileBytes += bytes.length;
        for (const c of round) this.apply(c.group, c.topic, c.partition, c.offset);
        for (const c of round) c.resolve();
      } catch (e) {
        // The write may have landed partly: cut back to the last known good length so the journal
        // never holds a half entry followed by good ones.
        try {
          await this.fh.truncate(this.fileBytes);
        } catch {
          // the next load() cuts at the first bad entry anyway
        }
        const err = storageError(e, `writing ${this.file}`);
        for (const c of round) c.reject(err);
      }
      if (this.fileBytes > this.compactBytes && this.fileBytes > 4 * this.liveBytesEstimate()) {
        try {
          await this.compact();
        } catch (e) {
          process.emitWarning(`seglog: compaction of ${this.file} failed (will retry): ${(e as Error).message}`);
        }
      }
    }
    this.writing = null;
  }

  private liveBytesEstimate(): number {
    return this.liveEntries * 64;
  }

  /** Rewrites the live entries into a new journal: temp file, fsync, rename, fsync dir. */
  async compact(): Promise<void> {
    const parts: Buffer[] = [];
    for (const [group, m] of this.groups) for (const c of m.values()) parts.push(encodeEntry(group, c.topic, c.partition, c.offset));
    const bytes = Buffer.concat(parts);
    const tmp = `${this.file}.tmp`;
    const out = await fs.promises.open(tmp, 'w');
    try {
      await out.write(bytes, 0, bytes.length, 0);
      await out.sync();
    } finally {
      await out.close();
    }
    await fs.promises.rename(tmp, this.file);
    await syncDir(path.dirname(this.file));
    const old = this.fh;
    this.fh = await fs.promises.open(this.file, 'a');
    this.fileBytes = bytes.length;
    await old.close();
  }

  get journalBytes(): number {
    return this.fileBytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing !== null) await this.writing;
    await this.fh.close();
  }
}
