// Retention: every retentionCheckIntervalMs (and on Engine.runRetention) each partition of a topic
// with a retention limit is planned (retention.ts) and its old segments deleted. A closed log is
// planned on its figures and reopened only when there is work. One run at a time.
import type { LogCache } from './log-cache.js';
import type { TopicState } from './partition-state.js';
import { planRetention, type RetentionPlan } from './retention.js';
import { TimeSlice } from './time-slice.js';
import { warn } from './warn.js';
import { figures } from './partition-view.js';

export interface RetentionReport {
  topic: string;
  partition: number;
  segmentsDeleted: number;
  bytesDeleted: number;
  reason: RetentionPlan['reason'];
  startOffset: number;
}

export class RetentionRunner {
  private readonly topics: ReadonlyMap<string, TopicState>;
  private readonly cache: LogCache;
  private readonly now: () => number;
  private readonly isClosed: () => boolean;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionReport[]> | null = null;

  constructor(topics: ReadonlyMap<string, TopicState>, cache: LogCache, now: () => number, isClosed: () => boolean) {
    this.topics = topics;
    this.cache = cache;
    this.now = now;
    this.isClosed = isClosed;
  }

  /** Starts the background task (unref'd: it keeps no process alive). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.isClosed() || this.running !== null) return;
    this.run().catch((e) => warn('retention failed', e));
  }

  /** Applies retention to every partition now; a call during a run gets that run. */
  async run(): Promise<RetentionReport[]> {
    if (this.running !== null) return this.running;
    const run = (async () => {
      const report: RetentionReport[] = [];
      const slice = new TimeSlice();
      for (const ts of [...this.topics.values()]) {
        const { retentionMs, retentionBytes } = ts.config;
        if (retentionMs < 0 && retentionBytes < 0) continue;
        for (const ps of ts.partitions) {
          await slice.maybeYield();
          if (this.isClosed() || ts.deleted) break;
          // A closed log's figures are exact: plan on them and reopen only when there is work.
          if ((ps.log === null || ps.closing !== null) && planRetention(figures(this.cache, ps).segments, ts.config, this.now()).deleteBeforeOffset === null) continue;
          const applied = this.cache.withWriteLog(ps, (log): RetentionReport | null => {
            if (this.isClosed() || ts.deleted) return null;
            let plan = planRetention(log.segments(), ts.config, this.now());
            // Deleting by age trusts the segments' newest timestamps: check them against the log first.
            if (plan.reason !== null && plan.reason !== 'size' && log.confirmTimestampsForRetention(plan.segments)) {
              plan = planRetention(log.segments(), ts.config, this.now());
            }
            if (plan.deleteBeforeOffset === null) return null;
            if (plan.rollActive) log.roll();
            const deleted = log.deleteSegmentsBefore(plan.deleteBeforeOffset);
            return {
              topic: ts.name,
              partition: ps.partition,
              segmentsDeleted: deleted,
              bytesDeleted: plan.bytes,
              reason: plan.reason,
              startOffset: log.startOffset,
            };
          });
          const done = applied instanceof Promise ? await applied : applied;
          if (done !== null) report.push(done);
        }
      }
      return report;
    })();
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = null;
    }
  }

  /** Stops the background task (at close). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  /** Waits for a run under way (at close). */
  async settled(): Promise<void> {
    if (this.running !== null) await this.running.catch(() => undefined);
  }
}
