// The engine's CRC-32C (engine/crc32c.ts): every implementation this process can load gives the
// standard check value and the same CRC as the others, at every length and alignment (the x86
// one takes 8 bytes at a time after aligning, so short tails and odd starts are where it could
// go wrong); on x86 with SSE 4.2 the faster one is in use; a forced choice is honoured.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import CRC32C from 'crc-32/crc32c.js';
import { crc32c, crc32cImplementation, crc32cImplementations } from '../../engine/crc32c.js';

const here = path.dirname(fileURLToPath(import.meta.url));

test('every implementation gives the standard check value and agrees with a plain JavaScript CRC-32C', (t) => {
  t.true(crc32cImplementations.length >= 1);
  const check = new TextEncoder().encode('123456789');
  const data = crypto.randomBytes(4096 + 64);
  for (const impl of crc32cImplementations) {
    t.is(impl.crc32c(check), 0xe3069283, impl.name);
    t.is(impl.crc32c(new Uint8Array(0)), 0, impl.name);
    for (let start = 0; start < 9; start++) {
      for (const length of [1, 7, 8, 9, 15, 16, 17, 63, 1000, 4096]) {
        const part = data.subarray(start, start + length);
        t.is(impl.crc32c(part), CRC32C.buf(part, 0) >>> 0, `${impl.name} at ${start}+${length}`);
      }
    }
  }
  t.is(crc32c(check), 0xe3069283);
});

// /proc/cpuinfo tells whether the CPU has SSE 4.2.
(process.platform === 'linux' ? test : test.skip)('on x86 with SSE 4.2 the engine uses sse4_crc32, else @node-rs/crc32', (t) => {
  const cpuHasSse42 = (process.arch === 'x64' || process.arch === 'ia32') && /\bsse4_2\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  t.is(crc32cImplementation, cpuHasSse42 ? 'sse4_crc32' : '@node-rs/crc32');
});

test('SEGLOG_CRC32C=@node-rs/crc32 makes the engine use @node-rs/crc32', (t) => {
  const module = path.resolve(here, '../../engine/crc32c.js');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import('${module}').then((m) => console.log(m.crc32cImplementation))`], {
    env: { ...process.env, SEGLOG_CRC32C: '@node-rs/crc32' },
    encoding: 'utf8',
  });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), '@node-rs/crc32');
});
