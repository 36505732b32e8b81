// The peers' servers (nats-server, redis-server): found on PATH or installed with apt-get when
// missing (and allowed), started on a free loopback port with their data in a temp dir, stopped by
// PID, the dir removed. Everything here is bounded in time.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { trackChild } from '../children.js';
import { progress, type BenchOptions } from '../harness.js';

const run = promisify(execFile);

const LOOPBACK = '127.0.0.1';
/** apt-get update and install, each. */
const APT_TIMEOUT_MS = 5 * 60_000;
const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 50;
const STOP_GRACE_MS = 5000;
const STDERR_KEPT_CHARS = 4000;

/** Thrown when a peer cannot run here (not installed and not installable): its rows say so. */
export class PeerUnavailableError extends Error {}

async function which(binary: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/usr/local/bin'])) {
    const file = path.join(dir, binary);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

let aptUpdated = false;

/** The path of `binary`, installing Debian's `aptPackage` first when it is missing and the options allow it. */
export async function ensureCommand(binary: string, aptPackage: string, options: BenchOptions): Promise<string> {
  const found = await which(binary);
  if (found !== null) return found;
  if (!options.installMissing) throw new PeerUnavailableError(`${binary} is not installed (apt-get install ${aptPackage}; --no-install given)`);
  if ((await which('apt-get')) === null) throw new PeerUnavailableError(`${binary} is not installed and there is no apt-get to install ${aptPackage}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    if (!aptUpdated) {
      progress(`apt-get update (to install ${aptPackage})`);
      await run('apt-get', ['update', '-qq'], { env, timeout: APT_TIMEOUT_MS });
      aptUpdated = true;
    }
    progress(`apt-get install ${aptPackage}`);
    await run('apt-get', ['install', '-y', '-qq', aptPackage], { env, timeout: APT_TIMEOUT_MS });
  } catch (e) {
    throw new PeerUnavailableError(`${binary} is not installed and apt-get install ${aptPackage} failed: ${(e as Error).message.split('\n')[0]}`);
  }
  const installed = await which(binary);
  if (installed === null) throw new PeerUnavailableError(`apt-get install ${aptPackage} did not provide ${binary}`);
  return installed;
}

/** A port free on loopback right now (the OS picks it; the server binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface PeerServer {
  host: string;
  port: number;
  pid: number;
  /** The server's data dir (temp, removed by stop()). */
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts `command args(port, dir)` with a fresh temp dir and a free loopback port, and waits until
 * the port accepts connections (`prepare`, if given, runs first: config files, formatting).
 */
export async function startServer(
  name: string,
  command: string,
  args: (port: number, dir: string) => string[],
  prepare?: (port: number, dir: string) => Promise<void>,
  readyTimeoutMs = READY_TIMEOUT_MS,
): Promise<PeerServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `seglog-bench-${name}-`));
  const port = await freePort();
  if (prepare !== undefined) {
    try {
      await prepare(port, dir);
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }
  const child: ChildProcess = trackChild(spawn(command, args(port, dir), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < STDERR_KEPT_CHARS) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A suite that timed out never calls stop(): its server is killed by bench/run.ts, its dir goes here.
  const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    removeDir();
    process.off('exit', removeDir);
  };
  try {
    const deadline = performance.now() + readyTimeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening: ${stderr.trim()}`);
      if (await canConnect(port)) break;
      if (performance.now() > deadline) throw new Error(`${name} did not listen on ${LOOPBACK}:${port} within ${readyTimeoutMs} ms: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { host: LOOPBACK, port, pid: child.pid!, dir, stop };
}

/** The version in the first line of `command args` (the first thing that looks like one, else the line), '?' when it fails. */
export async function commandVersion(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 10_000 });
    const line = (stdout || stderr).split('\n')[0]!.trim();
    return /\bv?=?(\d+\.\d+\.\d+[\w.+-]*)/.exec(line)?.[1] ?? line;
  } catch {
    return '?';
  }
}
