// gateway/examples/ runs as written: the embedded example (twice on one directory), the Node client and a
// group member against a gateway in this process.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startGateway } from './gateway/helpers.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const example = (name: string): string => path.join(root, 'gateway', 'examples', name);
const RUN_TIMEOUT_MS = 30_000;

test('gateway/examples/embedded.mjs runs, and runs again on the same directory', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-example-'));
  try {
    const env = { ...process.env, SEGLOG_EXAMPLE_DIR: dir };
    const first = await run(process.execPath, [example('embedded.mjs')], { env, timeout: RUN_TIMEOUT_MS });
    t.is(first.stdout, '0 en hello\n1 fr bonjour\ncommitted 2\n');
    const second = await run(process.execPath, [example('embedded.mjs')], { env, timeout: RUN_TIMEOUT_MS });
    t.is(second.stdout, '2 en hello\n3 fr bonjour\ncommitted 4\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('gateway/examples/node-client.mjs and gateway/examples/group.mjs against a running gateway', async (t) => {
  const h = await startGateway();
  try {
    const env = { ...process.env, SEGLOG_URL: h.server.url };
    const { stdout } = await run(process.execPath, [example('node-client.mjs')], { env, timeout: RUN_TIMEOUT_MS });
    t.deepEqual(stdout.trim().split('\n').map((l) => l.split(' ').slice(1).join(' ')), ['0 paid', '1 packed', '2 shipped']);
    await h.engine.createTopic('example-jobs', { partitions: 1 });
    await h.engine.produce('example-jobs', [{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    const member = await run(process.execPath, [example('group.mjs'), 'test-workers'], { env: { ...env, EXAMPLE_MAX: '3' }, timeout: RUN_TIMEOUT_MS });
    t.is(member.stdout, '0 0 a\n0 1 b\n0 2 c\n');
    t.is(await h.engine.committed('test-workers', 'example-jobs', 0), 3);
  } finally {
    await h.stop();
  }
});
