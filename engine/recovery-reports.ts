// The partitions this process found shut down uncleanly, as their logs were opened (bounded, oldest
// first), and the listeners told of each later one.
import { InvalidArgumentError } from './format/errors.js';
import { ENGINE_DEFAULTS } from './limits.js';
import type { PartitionLog } from './partition-log.js';
import type { PartitionState } from './partition-state.js';
import type { PartitionRecovery } from './types.js';
import { warn } from './warn.js';

export class RecoveryReports {
  private readonly reports: PartitionRecovery[] = [];
  private readonly listeners = new Set<(r: PartitionRecovery) => void>();

  /** A log of `ps` was opened after an unclean shutdown. */
  note(ps: PartitionState, log: PartitionLog): void {
    const r = log.recovery;
    const report: PartitionRecovery = {
      topic: ps.topic.name,
      partition: ps.partition,
      clean: r.clean,
      scannedBytes: r.scannedBytes,
      truncated: r.truncated === null ? null : { ...r.truncated },
    };
    if (this.reports.length >= ENGINE_DEFAULTS.recoveryReportsMax) this.reports.shift();
    this.reports.push(report);
    for (const listener of this.listeners) {
      try {
        listener(report);
      } catch (e) {
        warn('a recovery listener threw', e);
      }
    }
  }

  /** Copies of the reports, oldest first. */
  list(): PartitionRecovery[] {
    return this.reports.map((r) => ({ ...r, truncated: r.truncated === null ? null : { ...r.truncated } }));
  }

  listen(listener: (report: PartitionRecovery) => void): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function');
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
