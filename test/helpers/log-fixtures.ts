// Fixtures for the partition-log tests: temp dirs and batches.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeBatch, type Compression, type RecordInput } from '../../engine/record-batch.js';

/** A fresh temp dir; removed by the returned cleanup. */
export function tempDir(prefix = 'seglog-log-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A batch of `count` records with values "<tag>-<i>" and timestamps ts0 + i. */
export function makeBatch(count: number, options: { tag?: string; ts0?: number; compression?: Compression; valueBytes?: number } = {}): Buffer {
  const tag = options.tag ?? 'v';
  const ts0 = options.ts0 ?? 1_700_000_000_000;
  const pad = options.valueBytes ? 'x'.repeat(options.valueBytes) : '';
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) records.push({ key: `k${i}`, value: `${tag}-${i}${pad}`, timestamp: ts0 + i });
  return encodeBatch(records, { compression: options.compression ?? 'none' });
}

/** Errno-style error, as fs throws. */
export function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}
