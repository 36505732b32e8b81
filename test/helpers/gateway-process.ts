// The gateway as a user runs it: `node dist/gateway/cli/cli.js serve ...` in a child process, for tests
// that kill it (SIGKILL, SIGTERM) and start it again on the same data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from './until.js';

export const CLI_PATH = fileURLToPath(new URL('../../gateway/cli/cli.js', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  /** The ws:// URL the server printed. */
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Settles when the process has exited (and was reaped, so its pid no longer holds the dir lock). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `seglog serve --dir <dir> --port 0 --host 127.0.0.1 --auto-create` and waits for its URL. */
export async function startServe(dir: string, extraArgs: string[] = [], timeoutMs = 10_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--dir', dir, '--port', '0', '--host', '127.0.0.1', '--auto-create', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let gone = false;
  void exited.then(() => (gone = true));
  let m: RegExpExecArray | null = null;
  try {
    await until(() => {
      if (gone) throw new Error('exited');
      return (m = /listening on (wss?:\/\/\S+)/.exec(out)) !== null;
    }, 'listening', timeoutMs);
  } catch {
    child.kill('SIGKILL');
    throw new Error(`seglog serve did not start within ${timeoutMs} ms: ${out}`);
  }
  return { child, url: m![1]!, output: () => out, exited };
}

/** Sends `signal` and waits (bounded) for the exit; SIGKILLs it if it does not exit in time. */
export async function stopServe(s: ServeProcess, signal: NodeJS.Signals, timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const result = await Promise.race([s.exited, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    s.child.kill('SIGKILL');
    await s.exited;
    throw new Error(`seglog serve did not exit within ${timeoutMs} ms of ${signal}: ${s.output()}`);
  }
  return result;
}
