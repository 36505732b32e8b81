// Damage at rest, for the fault tests: a topic written through the Engine into small segments, then
// bytes of its closed files changed in place (a bit of a baseOffset, an index entry, a record byte).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../engine/index.js';
import { batchBaseOffset, batchLastOffset, batchSize } from '../../engine/record-batch.js';

export const TOPIC = 'dmg';
export const SEGMENT_BYTES = 64 * 1024;
export const RECORDS_PER_BATCH = 10;

export function valueOf(offset: number): string {
  return `value-${offset}-${'x'.repeat(80)}`;
}

export interface Written {
  dir: string;
  partitionDir: string;
  /** Offsets 0..total-1 hold valueOf(offset). */
  total: number;
  cleanup(): void;
}

export function engineOptions(dir: string) {
  return { dir, segmentBytes: SEGMENT_BYTES, flushIntervalMs: 0 } as const;
}

/** `batches` produce calls of RECORDS_PER_BATCH records each (one batch each), then a clean close. */
export async function writeTopic(batches = 200): Promise<Written> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-damage-'));
  const engine = await Engine.open(engineOptions(dir));
  await engine.createTopic(TOPIC, { partitions: 1 });
  let offset = 0;
  for (let b = 0; b < batches; b++) {
    const records = [];
    for (let i = 0; i < RECORDS_PER_BATCH; i++) records.push({ key: `k${offset + i}`, value: valueOf(offset + i) });
    await engine.produce(TOPIC, records, { partition: 0 });
    offset += RECORDS_PER_BATCH;
  }
  await engine.close();
  return { dir, partitionDir: path.join(dir, `${TOPIC}-0`), total: offset, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface SegmentFiles {
  base: number;
  log: string;
  index: string;
  timeIndex: string;
}

export function segments(partitionDir: string): SegmentFiles[] {
  return fs
    .readdirSync(partitionDir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .sort()
    .map((n) => {
      const stem = path.join(partitionDir, n.slice(0, 20));
      return { base: Number(n.slice(0, 20)), log: `${stem}.log`, index: `${stem}.index`, timeIndex: `${stem}.timeindex` };
    });
}

export interface BatchAt {
  pos: number;
  size: number;
  base: number;
  last: number;
}

/** The batches of a (still intact) .log file, walked by their lengths. */
export function batchesOf(logFile: string): BatchAt[] {
  const buf = fs.readFileSync(logFile);
  const out: BatchAt[] = [];
  let pos = 0;
  while (pos + 61 <= buf.length && buf.readInt32BE(pos + 8) !== 0) {
    const size = batchSize(buf, pos);
    out.push({ pos, size, base: batchBaseOffset(buf, pos), last: batchLastOffset(buf, pos) });
    pos += size;
  }
  return out;
}

export function xorByte(file: string, position: number, mask: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, position);
    b[0]! ^= mask;
    fs.writeSync(fd, b, 0, 1, position);
  } finally {
    fs.closeSync(fd);
  }
}

/** Flips one bit of the baseOffset of the batch (byte 0 is the most significant). */
export function flipBaseOffsetBit(logFile: string, batch: BatchAt, byte: number, bit: number): void {
  xorByte(logFile, batch.pos + byte, 1 << bit);
}

/** Flips a byte inside the batch's records: its CRC fails. */
export function flipRecordByte(logFile: string, batch: BatchAt): void {
  xorByte(logFile, batch.pos + 61 + 20, 0x5a);
}

export interface IndexEntry {
  i: number;
  rel: number;
  pos: number;
}

export function indexEntries(indexFile: string): IndexEntry[] {
  const buf = fs.readFileSync(indexFile);
  const out: IndexEntry[] = [];
  for (let i = 0; (i + 1) * 8 <= buf.length; i++) {
    const pos = buf.readUInt32BE(i * 8 + 4);
    if (pos === 0) break;
    out.push({ i, rel: buf.readUInt32BE(i * 8), pos });
  }
  return out;
}

export function writeIndexEntry(indexFile: string, i: number, rel: number, pos: number): void {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(rel, 0);
  b.writeUInt32BE(pos, 4);
  const fd = fs.openSync(indexFile, 'r+');
  try {
    fs.writeSync(fd, b, 0, 8, i * 8);
  } finally {
    fs.closeSync(fd);
  }
}
