// Runs the built `seglog` command once, as a user would, and collects what it printed. Bounded: a
// run that does not end within `timeoutMs` is killed and rejects.
import { spawn } from 'node:child_process';
import { CLI_PATH } from './gateway-process.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const CLI_RUN_TIMEOUT_MS_DEFAULT = 15_000;

export function runCli(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`seglog ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, options.timeoutMs ?? CLI_RUN_TIMEOUT_MS_DEFAULT);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
