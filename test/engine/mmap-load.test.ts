// @riaskov/mmap-io loads its binary through node-pre-gyp, which parses process.argv: engine/mmap.ts
// must shield it, so a program with its own `--dir` option on the command line can use the engine.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import test from 'ava';
import { tempDir } from '../helpers/log-fixtures.js';

const partitionLogUrl = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../engine/partition-log.js')).href;

for (const load of ['direct', 'package'] as const) {
test(`a program started with --dir X --foo on its command line can open a PartitionLog (mmap-io loaded ${load})`, async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const script = path.join(dir, 'script.mjs');
  fs.writeFileSync(
    script,
    `import { PartitionLog } from ${JSON.stringify(partitionLogUrl)};
const i = process.argv.indexOf('--dir');
const log = PartitionLog.open({ dir: process.argv[i + 1], segmentBytes: 1024 * 1024, flushIntervalMs: 0 });
process.stdout.write(JSON.stringify({ end: log.endOffset, argv: process.argv.slice(2) }));
await log.close();
`,
  );
  const logDir = path.join(dir, 'whatever');
  const out = await new Promise<string>((resolve, reject) => {
    const env = { ...process.env, SEGLOG_MMAP_LOAD: load === 'package' ? 'package' : '' };
    execFile(process.execPath, [script, '--dir', logDir, '--foo'], { timeout: 15_000, env }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
  t.deepEqual(JSON.parse(out), { end: 0, argv: ['--dir', logDir, '--foo'] }, 'argv is restored after the load');
  t.true(fs.existsSync(path.join(logDir, '00000000000000000000.log')));
});
}
