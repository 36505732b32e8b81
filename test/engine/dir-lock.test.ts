import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { acquireDirLock, LOCK_FILE, lockExists, processStartTime, readLockText } from '../../engine/dir-lock.js';
import { DirectoryLockedError } from '../../engine/format/errors.js';
import { PartitionLog } from '../../engine/partition-log.js';
import { tempDir } from '../helpers/log-fixtures.js';

const holderScript = fileURLToPath(new URL('../helpers/lock-holder.js', import.meta.url));

function tryInChild(dir: string): string {
  const r = spawnSync(process.execPath, [holderScript, 'try', dir], { encoding: 'utf8', timeout: 15_000 });
  return r.stdout.trim();
}

test('a second open in the same process is refused; release lets the next one in', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  const e = t.throws(() => PartitionLog.open({ dir, flushIntervalMs: 0 }), { instanceOf: DirectoryLockedError });
  t.is(e!.code, 'DIRECTORY_LOCKED');
  t.throws(() => acquireDirLock(dir), { instanceOf: DirectoryLockedError });
  t.is(tryInChild(dir), 'DIRECTORY_LOCKED', 'another process is refused too');
  await log.close();
  t.false(lockExists(path.join(dir, LOCK_FILE)));
  t.is(tryInChild(dir), 'opened');
  const lock = acquireDirLock(dir);
  lock.release();
  lock.release();
  acquireDirLock(dir).release();
});

test('a live writer in another process refuses us; its lock is taken over once it was killed', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const child = spawn(process.execPath, [holderScript, 'hold', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('holder did not start')), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const e = t.throws(() => PartitionLog.open({ dir, flushIntervalMs: 0 }), { instanceOf: DirectoryLockedError });
  t.regex(e!.message, new RegExp(`process ${child.pid}`));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const log = PartitionLog.open({ dir, flushIntervalMs: 0 });
  t.false(log.recovery.clean, 'the killed writer did not shut down cleanly');
  await log.close();
});

test('a stale lock of a dead pid, or of a reused pid (other start time), is taken over', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  t.true(deadPid > 0);
  fs.writeFileSync(path.join(dir, LOCK_FILE), `${deadPid} 12345\n`);
  let lock = acquireDirLock(dir);
  t.is(readLockText(path.join(dir, LOCK_FILE))!.split(' ')[0], String(process.pid));
  lock.release();

  // A live pid with another start time is a reused pid: stale. (Needs /proc.)
  if (processStartTime(process.ppid) !== null) {
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${process.ppid} 1\n`);
    lock = acquireDirLock(dir);
    lock.release();
    // The same live pid with its real start time holds the lock.
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${process.ppid} ${processStartTime(process.ppid)}\n`);
    t.throws(() => acquireDirLock(dir), { instanceOf: DirectoryLockedError });
  }
  // Garbage content is stale too.
  fs.writeFileSync(path.join(dir, LOCK_FILE), 'not a lock');
  acquireDirLock(dir).release();
});
