// What a user would otherwise do, measured in the same run as the engine (bench/README.md): raw
// fs.writeSync of framed records, reading those frames back, and memcpy into an mmapped file.
// Frames are [u32 length][payload]. Files live in a temp dir removed at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mmapModule from '@riaskov/mmap-io';
import { RECORDS_PER_BATCH, RECORD_SIZES, bytesBound, measure, payloads, progress, result, type BenchOptions, type BenchResult } from './harness.js';

// mmap-io is CommonJS whose typings declare `export default`; at run time the default import is
// module.exports itself, which is the API object.
const mmap = mmapModule as unknown as typeof mmapModule.default;

const SUITE = 'baseline';
/** Upper bound on any file a baseline writes. */
const FILE_BYTES_MAX = 512 * 1024 * 1024;
/** Mapped file size for the mmap baselines (one mapping must stay < 2 GiB with mmap-io). */
const MAPPED_BYTES_FULL = 256 * 1024 * 1024;
const PAGE_BYTES = 4096;

function framedChunk(values: Buffer[]): Buffer {
  const recordBytes = values[0]!.length;
  const chunk = Buffer.allocUnsafe(values.length * (4 + recordBytes));
  let pos = 0;
  for (const v of values) {
    chunk.writeUInt32BE(v.length, pos);
    v.copy(chunk, pos + 4);
    pos += 4 + v.length;
  }
  return chunk;
}

export function runBaselines(options: BenchOptions): BenchResult[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-baseline-'));
  try {
    const out: BenchResult[] = [];
    for (const recordBytes of RECORD_SIZES) {
      progress(`raw fs.writeSync and read, ${recordBytes} B`);
      out.push(...writeAndReadFile(dir, recordBytes, options));
      progress(`memcpy into a touched mmap and walk, ${recordBytes} B`);
      out.push(...mmapCopyAndWalk(dir, recordBytes, options));
    }
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function writeAndReadFile(dir: string, recordBytes: number, options: BenchOptions): BenchResult[] {
  const file = path.join(dir, `raw-${recordBytes}.log`);
  // One pre-framed chunk of 1000 records per write: the framing cost is part of the baseline.
  const values = payloads(RECORDS_PER_BATCH, recordBytes);
  let fd = -1;
  let written = 0;
  const fileBytesMax = bytesBound(options, FILE_BYTES_MAX);
  const appendRate = measure(
    options,
    () => {
      if (written >= fileBytesMax) return 0;
      const chunk = framedChunk(values);
      written += fs.writeSync(fd, chunk);
      return RECORDS_PER_BATCH;
    },
    () => {
      if (fd >= 0) fs.closeSync(fd);
      fd = fs.openSync(file, 'w');
      written = 0;
    },
  );
  fs.closeSync(fd);

  // Read back: 1 MiB reads, walking the frames, a view per record.
  const readBuf = Buffer.allocUnsafe(1 << 20);
  let checksum = 0;
  const readFd = fs.openSync(file, 'r');
  let filePos = 0;
  const fileBytes = fs.fstatSync(readFd).size;
  const readRate = measure(
    options,
    () => {
      if (filePos >= fileBytes) return 0;
      const n = fs.readSync(readFd, readBuf, 0, readBuf.length, filePos);
      let p = 0;
      let records = 0;
      while (p + 4 <= n) {
        const len = readBuf.readUInt32BE(p);
        if (p + 4 + len > n) break;
        checksum += readBuf.subarray(p + 4, p + 4 + len).length;
        p += 4 + len;
        records++;
      }
      filePos += p;
      return records;
    },
    () => {
      filePos = 0;
    },
  );
  fs.closeSync(readFd);
  if (checksum === 0) throw new Error('raw read baseline read nothing');
  fs.rmSync(file);
  return [
    result(SUITE, 'raw fs.writeSync, 1000 framed records per write · append', recordBytes, appendRate, undefined, { system: 'raw fs', scenario: 'append' }),
    result(SUITE, 'raw file read (1 MiB reads), walking frames · read', recordBytes, readRate, undefined, { system: 'raw fs', scenario: 'read' }),
  ];
}

function mmapCopyAndWalk(dir: string, recordBytes: number, options: BenchOptions): BenchResult[] {
  const file = path.join(dir, `mmap-${recordBytes}.log`);
  const fd = fs.openSync(file, 'w+');
  const mappedBytes = bytesBound(options, MAPPED_BYTES_FULL);
  try {
    // Real blocks, then touch every page through the mapping: the "pages touched in advance" case.
    fs.writeSync(fd, Buffer.alloc(1 << 20), 0, 1 << 20, mappedBytes - (1 << 20));
    const map = mmap.map(mappedBytes, 3 /* PROT_READ | PROT_WRITE */, mmap.MAP_SHARED, fd, 0);
    for (let p = 0; p < mappedBytes; p += PAGE_BYTES) map[p] = 0;
    const values = payloads(RECORDS_PER_BATCH, recordBytes);
    let pos = 0;
    const frame = 4 + recordBytes;
    const appendRate = measure(
      options,
      () => {
        if (pos + RECORDS_PER_BATCH * frame > mappedBytes) return 0;
        for (let i = 0; i < RECORDS_PER_BATCH; i++) {
          const v = values[i]!;
          map.writeUInt32BE(v.length, pos);
          map.set(v, pos + 4);
          pos += frame;
        }
        return RECORDS_PER_BATCH;
      },
      () => {
        pos = 0;
      },
    );
    const filled = pos;
    let checksum = 0;
    let readPos = 0;
    const readRate = measure(
      options,
      () => {
        let records = 0;
        while (records < RECORDS_PER_BATCH && readPos + 4 <= filled) {
          const len = map.readUInt32BE(readPos);
          checksum += map.subarray(readPos + 4, readPos + 4 + len).length;
          readPos += 4 + len;
          records++;
        }
        return records;
      },
      () => {
        readPos = 0;
      },
    );
    if (checksum === 0) throw new Error('mmap walk baseline read nothing');
    return [
      result(SUITE, 'memcpy into an mmapped file, pages touched in advance · append', recordBytes, appendRate, undefined, { system: 'mmap', scenario: 'append' }),
      result(SUITE, 'walking frames in an mmapped file, a view per record · read', recordBytes, readRate, undefined, { system: 'mmap', scenario: 'read' }),
    ];
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}
