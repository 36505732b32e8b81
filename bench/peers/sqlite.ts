// better-sqlite3 12, embedded, as its docs advise for write throughput: WAL journal,
// synchronous=NORMAL, one prepared INSERT run 1000 times per transaction. Rows (offset INTEGER
// PRIMARY KEY, value BLOB), the same payload bytes as seglog's records. Read: the rows back in
// offset order, 1000 per prepared SELECT, every value touched. In a temp dir removed after.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RECORDS_PER_BATCH, RECORD_SIZES, bytesBound, measure, payloads, progress, result, type BenchOptions, type BenchResult } from '../harness.js';
import { noteVersion } from '../run-info.js';

const SUITE = 'sqlite';
const SYSTEM = 'better-sqlite3';
/** Payload bytes one append round may write. */
const APPEND_BYTES_MAX = 256 * 1024 * 1024;
const DISTINCT_BATCHES = 16;

export function runSqlitePeer(options: BenchOptions): BenchResult[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-bench-sqlite-'));
  const db = new Database(path.join(dir, 'log.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const { version } = createRequire(import.meta.url)('better-sqlite3/package.json') as { version: string };
    noteVersion('better-sqlite3', `${version} (SQLite ${(db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v})`);
    const out: BenchResult[] = [];
    for (const recordBytes of RECORD_SIZES) {
      db.exec('DROP TABLE IF EXISTS log; CREATE TABLE log (offset INTEGER PRIMARY KEY, value BLOB NOT NULL)');
      const values = payloads(RECORDS_PER_BATCH * DISTINCT_BATCHES, recordBytes);
      const insert = db.prepare('INSERT INTO log (offset, value) VALUES (?, ?)');
      let next = 0;
      const insertBatch = db.transaction((first: number) => {
        for (let i = 0; i < RECORDS_PER_BATCH; i++) insert.run(next++, values[(first + i) % values.length]!);
      });
      const bytesMax = bytesBound(options, APPEND_BYTES_MAX);
      progress(`INSERT, transactions of 1000, ${recordBytes} B`);
      const appendRate = measure(
        options,
        () => {
          if (next * recordBytes >= bytesMax) return 0;
          insertBatch(next);
          return RECORDS_PER_BATCH;
        },
        () => {
          // Untimed: every round starts from an empty table and WAL.
          db.exec('DELETE FROM log');
          db.pragma('wal_checkpoint(TRUNCATE)');
          next = 0;
        },
      );
      out.push(result(SUITE, 'INSERT, prepared, 1000 rows per transaction (WAL, synchronous=NORMAL) · append', recordBytes, appendRate, undefined, { system: SYSTEM, scenario: 'append' }));

      progress(`SELECT in offset order, ${recordBytes} B`);
      const end = next;
      const select = db.prepare('SELECT offset, value FROM log WHERE offset >= ? ORDER BY offset LIMIT 1000').raw(true);
      let offset = 0;
      let checksum = 0;
      const readRate = measure(
        options,
        () => {
          if (offset >= end) return 0;
          const rows = select.all(offset) as Array<[number, Buffer]>;
          for (let i = 0; i < rows.length; i++) checksum += rows[i]![1].length;
          offset = rows[rows.length - 1]![0] + 1;
          return rows.length;
        },
        () => {
          offset = 0;
        },
      );
      if (checksum === 0) throw new Error('sqlite read bench read nothing');
      out.push(result(SUITE, 'SELECT in offset order, 1000 rows per statement · read', recordBytes, readRate, undefined, { system: SYSTEM, scenario: 'read' }));
    }
    return out;
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
