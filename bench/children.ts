// Every child process the bench starts (servers, clients), so that whatever happens to a suite none
// outlives the run: bench/run.ts stops the ones still running, by PID, before it exits.
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();

export function trackChild(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** SIGKILL to every tracked child still running (the suites stop theirs gently; this is the backstop). */
export function killTrackedChildren(): number {
  let n = 0;
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
      n++;
    }
  }
  running.clear();
  return n;
}
