// A log for lines a peer can cause (refusals): at most REFUSAL_LOG_LINES_PER_WINDOW_MAX lines per
// REFUSAL_LOG_WINDOW_MS, then one line summing up what was left out. A hostile peer that retries
// in a loop must not flood the log; the metrics still count every event.
import { REFUSAL_LOG_LINES_PER_WINDOW_MAX, REFUSAL_LOG_WINDOW_MS } from './limits.js';

export class BoundedLog {
  private windowStart = -Infinity;
  private linesInWindow = 0;
  private notLogged = 0;

  constructor(
    private readonly log: (message: string) => void,
    /** What the summary line calls the events, e.g. "refused requests". */
    private readonly what: string,
    /** The metric that counts every event (named in the summary line). */
    private readonly metric: string,
    private readonly now: () => number = Date.now,
  ) {}

  line(text: string): void {
    const now = this.now();
    if (now - this.windowStart >= REFUSAL_LOG_WINDOW_MS) {
      if (this.notLogged > 0) this.log(`${this.notLogged} more ${this.what} were not logged (at most ${REFUSAL_LOG_LINES_PER_WINDOW_MAX} lines per ${REFUSAL_LOG_WINDOW_MS / 1000} s; ${this.metric} counts all)`);
      this.windowStart = now;
      this.linesInWindow = 0;
      this.notLogged = 0;
    }
    if (this.linesInWindow >= REFUSAL_LOG_LINES_PER_WINDOW_MAX) {
      this.notLogged++;
      return;
    }
    this.linesInWindow++;
    this.log(text);
  }
}
