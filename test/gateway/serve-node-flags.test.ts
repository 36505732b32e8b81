// `seglog serve` runs Node with SERVE_NODE_FLAGS (gateway/cli/serve-node-flags.ts): through the
// bin's shebang, through `npm start`, and in the bench. These three must agree, and the shebang
// must really hand the flags to node (Linux `env -S`).
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { SERVE_NODE_FLAGS } from '../../gateway/cli/serve-node-flags.js';
import { CLI_PATH } from '../helpers/gateway-process.js';
import { until } from '../helpers/until.js';

const repo = path.resolve(path.dirname(CLI_PATH), '../../..');

test('the bin, npm start and the bench start the server with the same Node flags', (t) => {
  t.true(SERVE_NODE_FLAGS.length > 0);
  const shebang = readFileSync(CLI_PATH, 'utf8').split('\n', 1)[0];
  t.is(shebang, `#!/usr/bin/env -S node ${SERVE_NODE_FLAGS.join(' ')}`);
  const start = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  t.true(start.includes(`node ${SERVE_NODE_FLAGS.join(' ')} dist/gateway/cli/cli.js serve`), start);
  for (const f of ['bench/gateway.bench.ts', 'bench/restart.bench.ts', 'bench/groups.ts']) {
    t.regex(readFileSync(path.join(repo, f), 'utf8'), /\[\.\.\.SERVE_NODE_FLAGS, CLI, 'serve'/, f);
  }
});

test('the bin run through its shebang gives node the flags', async (t) => {
  chmodSync(CLI_PATH, 0o755); // npm does this for an installed bin; tsc does not
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seglog-flags-'));
  const child = spawn(CLI_PATH, ['serve', '--dir', dir, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(async () => {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  await until(() => /listening on ws:\/\//.test(out), 'listening', 10_000);
  const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
  for (const flag of SERVE_NODE_FLAGS) t.true(argv.includes(flag), argv.join(' '));
  t.true(argv.includes(CLI_PATH), argv.join(' '));
});
