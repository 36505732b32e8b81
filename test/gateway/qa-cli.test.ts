// QA pass: `seglog` argument checking. Bad values are usage errors (one line, exit 2) found before
// any connection is made, never silently turned into another value.
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../gateway/cli.js');
// Nothing listens on port 1: a command that got as far as connecting would fail with CONNECT_FAILED.
const NOWHERE = 'ws://127.0.0.1:1';

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`seglog ${args.join(' ')} timed out`));
    }, 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end('');
  });
}

const usageCases: Array<[string, string[], RegExp]> = [
  // Date.parse rolls these over to another day (2026-02-30 → 2026-03-02) instead of refusing them.
  ['impossible date', ['consume', 't', '--from', '2026-02-30T10:00:00Z'], /--from/],
  ['month 13', ['consume', 't', '--from', '2026-13-01'], /--from/],
  // Was "seglog: 100000000000000000000 is not a safe integer", exit 1, after connecting.
  ['offset beyond 2^53', ['consume', 't', '--from', '99999999999999999999'], /--from/],
  // Was sent to the server and refused there as "got 8.64e+24".
  ['retention beyond 2^53 ms', ['topics', 'create', 't', '--retention', '99999999999999999d'], /duration/],
];

for (const [title, args, message] of usageCases) {
  test(`usage error, exit 2, one line: ${title}`, async (t) => {
    const r = await run([...args, '--url', NOWHERE]);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, message);
    t.notRegex(r.stderr, /CONNECT_FAILED|at .*\.js:\d+/);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.is(r.stdout, '');
  });
}

test('valid --from dates and durations still get as far as connecting', async (t) => {
  for (const args of [
    ['consume', 't', '--from', '2024-02-29T10:00:00Z'],
    ['consume', 't', '--from', '2026-11-27'],
    ['consume', 't', '--from', '9007199254740991'],
    ['topics', 'create', 't', '--retention', '1000ms'],
  ]) {
    const r = await run([...args, '--url', NOWHERE]);
    t.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /CONNECT_FAILED/);
  }
});
