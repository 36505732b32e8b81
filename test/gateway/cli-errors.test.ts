// `seglog` argument checking and error output: bad values are usage errors (one line, exit 2) found before
// any connection is made, never silently turned into another value.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runCli as run } from '../helpers/cli-run.js';
// Nothing listens on port 1: a command that got as far as connecting would fail with CONNECT_FAILED.
const NOWHERE = 'ws://127.0.0.1:1';


const usageCases: Array<[string, string[], RegExp]> = [
  // Date.parse rolls these over to another day (2026-02-30 → 2026-03-02) instead of refusing them.
  ['impossible date', ['consume', 't', '--from', '2026-02-30T10:00:00Z'], /--from/],
  ['month 13', ['consume', 't', '--from', '2026-13-01'], /--from/],
  // Was "seglog: 100000000000000000000 is not a safe integer", exit 1, after connecting.
  ['offset beyond 2^53', ['consume', 't', '--from', '99999999999999999999'], /--from/],
  // Was sent to the server and refused there as "got 8.64e+24".
  ['retention beyond 2^53 ms', ['topics', 'create', 't', '--retention', '99999999999999999d'], /duration/],
  // Negative numbers were taken for options by parseArgs: a three-line "argument is ambiguous".
  ['negative partition (produce)', ['produce', 't', '--partition', '-1'], /^seglog: --partition must be an integer ≥ 0, got -1/],
  ['negative partition (consume)', ['consume', 't', '--partition', '-1'], /^seglog: --partition must be an integer ≥ 0, got -1/],
  // --from -5 means the last five records of each partition now; a negative offset stays a usage error for groups reset --to.
  ['negative offset', ['groups', 'reset', 'g', '--topic', 't', '--to', '-5'], /^seglog: --to offset must be ≥ 0, got -5/],
  ['--from and --since together', ['consume', 't', '--from', '-5', '--since', '1h'], /^seglog: --from and --since exclude each other/],
  ['negative max', ['consume', 't', '--max', '-3'], /^seglog: --max must be an integer ≥ 1, got -3/],
  ['negative partitions', ['topics', 'create', 't', '--partitions', '-2'], /^seglog: --partitions must be an integer ≥ 1, got -2/],
  ['a value starting with a dash', ['consume', 't', '--group', '-g'], /^seglog: --group needs a value; to give one starting with '-', write --group=-VALUE/],
  ['a missing value', ['consume', 't', '--max'], /^seglog: --max needs a value/],
  ['an unknown option', ['consume', 't', '--maximum', '3'], /^seglog: unknown option --maximum/],
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

test('a system error prints its codes once: seglog: IO_ERROR: ... EEXIST: file already exists, exit 1', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-cli-errors-'));
  try {
    const file = path.join(dir, 'not-a-directory');
    fs.writeFileSync(file, '');
    const r = await run(['serve', '--dir', file, '--port', '0']);
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, /^seglog: IO_ERROR: opening the data directory .* failed: EEXIST: file already exists/);
    t.notRegex(r.stderr, /IO_ERROR: IO_ERROR/);
    t.notRegex(r.stderr, /EEXIST: EEXIST/);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('serve: a malformed --allow-origin or --allow-host is a usage error, before anything opens', async (t) => {
  for (const args of [['--allow-origin', 'https://app.example.com/path'], ['--allow-host', 'a/b'], ['--allow-origin', 'app.example.com']]) {
    const r = await run(['serve', '--memory', '--port', '0', ...args]);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, new RegExp(`^seglog: ${args[0]}: allowed`));
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.is(r.stdout, '', 'it never listened');
  }
});
