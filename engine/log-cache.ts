// The partition logs the engine holds open: opened on first use, at most maxOpenPartitions of them
// (least recently used closed first), and never more logs holding file descriptors than the file
// budget allows (fd-budget.ts). Writes that find no room wait, in order, for evictions; reads open
// in the reads' share of the budget. Also the calls that run on a partition's log under these rules
// (a closed partition seen without opening its log: partition-view.ts).
import fs from 'node:fs';
import { ClosedError, TooManyOpenFilesError, TopicNotFoundError } from './format/errors.js';
import { FDS_PER_OPEN_LOG, typedFdError, type FdBudget } from './fd-budget.js';
import { ENGINE_DEFAULTS } from './limits.js';
import { PartitionLog, type AppendResult, type PartitionLogOptions } from './partition-log.js';
import { figuresOf, type PartitionState, type TopicState } from './partition-state.js';
import type { FileBudget, TopicConfig } from './types.js';
import { warn } from './warn.js';

/** PartitionLog.append option for batches the engine encoded itself: no CRC re-check (partition-log.ts). */
export const TRUSTED = { trusted: true } as const;

/** The PartitionLog options the engine sets for every log (the topic config gives the rest). */
export type EngineLogOptions = Pick<PartitionLogOptions, 'indexIntervalBytes' | 'flushIntervalMs' | 'fileDeleteDelayMs' | 'reserveAheadBytes' | 'now'>;

export class LogCache {
  readonly maxOpenPartitions: number;
  /** Bound on capacityWaiters (EngineOptions.maxWaitingWrites). */
  private readonly maxWaitingWrites: number;
  private readonly fdBudget: FdBudget;
  private readonly logOptions: EngineLogOptions;
  private readonly isClosed: () => boolean;
  /** Told of every log opened after an unclean shutdown (recovery ran). */
  private readonly onUncleanOpen: (ps: PartitionState, log: PartitionLog) => void;
  /** Logs holding descriptors: open ones and evicted ones not yet closed (at most fdBudget.maxLogsHoldingFds). */
  private readonly liveLogs = new Set<PartitionLog>();
  /** Writes waiting for room in the file budget, first come first served (woken as logs close). */
  private readonly capacityWaiters: Array<() => void> = [];
  /** Open logs, least recently used first (Map keeps insertion order; a use re-inserts). */
  readonly openLogs = new Map<PartitionState, true>();
  readonly closingLogs = new Set<Promise<void>>();

  constructor(
    fdBudget: FdBudget,
    maxOpenPartitions: number,
    maxWaitingWrites: number,
    logOptions: EngineLogOptions,
    isClosed: () => boolean,
    onUncleanOpen: (ps: PartitionState, log: PartitionLog) => void,
  ) {
    this.fdBudget = fdBudget;
    this.maxOpenPartitions = maxOpenPartitions;
    this.maxWaitingWrites = maxWaitingWrites;
    this.logOptions = logOptions;
    this.isClosed = isClosed;
    this.onUncleanOpen = onUncleanOpen;
  }

  private checkOpen(): void {
    if (this.isClosed()) throw new ClosedError('engine');
  }

  openLog(ps: PartitionState): PartitionLog {
    if (!this.hasLogCapacity()) throw this.budgetExhausted(ps);
    const cfg = ps.topic.config;
    // A partition's files are made on its first open; if that fails, none are left behind.
    const existed = fs.existsSync(ps.dir);
    let log: PartitionLog;
    try {
      log = this.openLogFiles(ps, cfg);
    } catch (e) {
      if (!existed) {
        try {
          fs.rmSync(ps.dir, { recursive: true, force: true });
        } catch (rmError) {
          warn(`removing ${ps.dir} after its log failed to open failed`, rmError);
        }
      }
      throw typedFdError(e, `opening partition log ${ps.dir}`);
    }
    this.liveLogs.add(log);
    ps.log = log;
    ps.figures = null;
    this.openLogs.set(ps, true);
    this.evictColdLogs(ps);
    if (!log.recovery.clean) this.onUncleanOpen(ps, log);
    return log;
  }

  private openLogFiles(ps: PartitionState, cfg: TopicConfig): PartitionLog {
    return PartitionLog.open({
      dir: ps.dir,
      segmentBytes: cfg.segmentBytes,
      segmentMs: cfg.segmentMs,
      maxBatchBytes: cfg.maxBatchBytes,
      ...this.logOptions,
      name: `${ps.topic.name}-${ps.partition}`,
    });
  }

  /**
   * Whether one more log may hold descriptors. At the budget, an idle least recently used log is
   * closed synchronously to make room (so a synchronous loop over many partitions never piles up
   * logs waiting for their asynchronous close).
   */
  hasLogCapacity(forWrite = false): boolean {
    const max = forWrite ? this.fdBudget.maxLogsForWrites : this.fdBudget.maxLogsHoldingFds;
    if (this.liveLogs.size < max) return true;
    for (const ps of this.openLogs.keys()) if (this.closeIdleNow(ps) && this.liveLogs.size < max) return true;
    return false;
  }

  private budgetExhausted(ps: PartitionState): TooManyOpenFilesError {
    const b = this.fdBudget;
    return new TooManyOpenFilesError(
      `cannot open partition log ${ps.topic.name}-${ps.partition}: ${this.liveLogs.size} logs hold file descriptors, the most the open-file limit ` +
        `${b.openFilesLimit} allows (about ${FDS_PER_OPEN_LOG} each, ${b.socketReserveFds} left to sockets) while the others finish writing; ` +
        'retry, use fewer partitions at once, or raise the limit (ulimit -n)',
    );
  }

  /** Closes an open log now if it has nothing left to write (PartitionLog.closeIfIdleSync). */
  private closeIdleNow(ps: PartitionState): boolean {
    const log = ps.log;
    if (log === null || ps.closing !== null || ps.pins > 0) return false;
    let closed: boolean;
    try {
      closed = log.closeIfIdleSync();
    } catch (e) {
      // Closed all the same (descriptors and lock released); only its clean-shutdown marker is missing.
      warn(`closing partition log ${ps.dir} failed`, e);
      closed = true;
    }
    if (!closed) return false;
    ps.figures = figuresOf(log);
    ps.log = null;
    ps.evictions++;
    this.openLogs.delete(ps);
    this.liveLogs.delete(log);
    this.logReleased();
    return true;
  }

  /**
   * Waits until a write may open a log. Each waiter gets a log evicted for it (least recently used
   * first) and is woken, in arrival order, as logs finish closing; bounded by rounds in case
   * synchronous opens keep taking the freed room first.
   */
  async waitForLogCapacity(): Promise<void> {
    for (let round = 0; round < ENGINE_DEFAULTS.logCapacityWaitRoundsMax && !this.hasLogCapacity(true); round++) {
      if (!this.evictForWaiters(this.capacityWaiters.length + 1)) return;
      if (this.capacityWaiters.length >= this.maxWaitingWrites) {
        throw new TooManyOpenFilesError(
          `${this.capacityWaiters.length} writes already wait for room in the open-file budget (maxWaitingWrites); retry later, or raise the open-file limit`,
        );
      }
      await new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
      this.checkOpen();
    }
  }

  /** Starts evictions until `wanted` logs are on their way to closing; false when none is or can be. */
  private evictForWaiters(wanted: number): boolean {
    for (const ps of this.openLogs.keys()) {
      if (this.closingLogs.size >= wanted) break;
      if (ps.pins === 0) this.startEviction(ps);
    }
    return this.closingLogs.size > 0;
  }

  /** A log let go of its descriptors (or an eviction ended): the next waiting write may find room. */
  private logReleased(): void {
    this.capacityWaiters.shift()?.();
  }

  /** After a waiting write opened its log: wake the next one if room is left, else keep evictions going for it. */
  private passOnCapacity(): void {
    if (this.capacityWaiters.length === 0) return;
    if (this.liveLogs.size < this.fdBudget.maxLogsForWrites) this.logReleased();
    else if (!this.evictForWaiters(this.capacityWaiters.length)) this.logReleased();
  }

  /** How the engine budgets file descriptors, and how many logs hold some now. */
  fileBudget(): FileBudget {
    const b = this.fdBudget;
    return {
      openFilesLimit: b.openFilesLimit,
      socketReserveFds: b.socketReserveFds,
      inUseAtOpenFds: b.inUseAtOpenFds,
      fdsPerOpenLog: FDS_PER_OPEN_LOG,
      maxLogsHoldingFds: b.maxLogsHoldingFds,
      maxLogsForWrites: b.maxLogsForWrites,
      maxOpenPartitions: this.maxOpenPartitions,
      logsHoldingFds: this.liveLogs.size,
    };
  }

  /** Opens every partition's log of `topics`, one per event-loop turn (Engine.openAllPartitions). */
  async openAll(topics: Iterable<TopicState>): Promise<number> {
    let opened = 0;
    const targets: PartitionState[] = [];
    for (const ts of topics) targets.push(...ts.partitions);
    for (const ps of targets) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.isClosed()) break;
      if (ps.topic.deleted || ps.log !== null || ps.closing !== null) continue;
      try {
        if (!this.hasLogCapacity(true)) await this.waitForLogCapacity();
        if (this.isClosed() || ps.topic.deleted || ps.log !== null || ps.closing !== null) continue;
        this.openLog(ps);
        opened++;
      } catch (e) {
        warn(`opening partition log ${ps.dir} failed`, e);
      }
    }
    return opened;
  }

  /** The partition's log, opened if needed (sync). While an evicted log closes, that log. */
  logSync(ps: PartitionState): PartitionLog {
    const log = ps.log;
    if (log !== null) {
      if (ps.closing === null) {
        // Move to the most recently used end. If its eviction was pending, this cancels it: evict
        // another one instead, so the bound holds.
        const wasOpen = this.openLogs.delete(ps);
        this.openLogs.set(ps, true);
        if (!wasOpen) this.evictColdLogs(ps);
      }
      return log;
    }
    return this.openLog(ps);
  }

  /**
   * Runs a sync read on the partition's log. An evicted log is closed only when nothing else can
   * run until its lock is released (see evictLog), so a read never meets a closing log; should it
   * anyway (a close that had I/O left), it reopens the log if its lock is free.
   */
  withLog<T>(ps: PartitionState, fn: (log: PartitionLog) => T): T {
    const log = this.logSync(ps);
    try {
      return fn(log);
    } catch (e) {
      if (ps.closing === null || !(e instanceof ClosedError)) throw typedFdError(e, `partition ${ps.topic.name}-${ps.partition}`);
      return fn(this.openLog(ps));
    }
  }

  /**
   * Runs `write` on the partition's log: at once when it is open (or can be), else after waiting for
   * an evicted log to finish closing, or, when the writes' share of the file budget is used up, for
   * one to close. Writes that wait queue behind each other, so appends keep their call order; the
   * log is pinned from the end of the wait until `write` has run, so nothing closes it in between.
   */
  withWriteLog<T>(ps: PartitionState, write: (log: PartitionLog) => T): T | Promise<T> {
    if (ps.writeGate === null && ps.closing === null && (ps.log !== null || this.hasLogCapacity(true))) return write(this.logSync(ps));
    const gate = (ps.writeGate ?? Promise.resolve()).then(() => this.logForWriteLater(ps));
    const settled = gate.then(
      () => undefined,
      () => undefined,
    );
    ps.writeGate = settled;
    void settled.then(() => {
      if (ps.writeGate === settled) ps.writeGate = null;
    });
    return gate.then((log) => {
      try {
        return write(log);
      } finally {
        ps.pins--;
      }
    });
  }

  private async logForWriteLater(ps: PartitionState): Promise<PartitionLog> {
    for (let round = 0; round < ENGINE_DEFAULTS.logCapacityWaitRoundsMax; round++) {
      if (ps.closing !== null) await ps.closing;
      else if (ps.log === null) await this.waitForLogCapacity();
      this.checkOpen();
      if (ps.topic.deleted) throw new TopicNotFoundError(ps.topic.name);
      if (ps.closing === null && (ps.log !== null || this.hasLogCapacity(true))) break;
    }
    // Still no room for a write: logSync → openLog opens in the reads' share, or throws TOO_MANY_OPEN_FILES.
    const log = this.logSync(ps);
    ps.pins++;
    this.passOnCapacity();
    return log;
  }

  /** Evicts least recently used logs beyond maxOpenPartitions (never `keep`); idle ones close at once. */
  private evictColdLogs(keep: PartitionState): void {
    let candidates = this.openLogs.size - this.maxOpenPartitions;
    if (candidates <= 0) return;
    // Deleting the entry being visited is safe in a Map iteration.
    for (const ps of this.openLogs.keys()) {
      if (candidates <= 0) break;
      if (ps === keep || ps.pins > 0) continue;
      candidates--;
      if (!this.closeIdleNow(ps)) this.startEviction(ps);
    }
  }

  private startEviction(ps: PartitionState): void {
    this.openLogs.delete(ps);
    const evict = this.evictLog(ps, ps.log!);
    this.closingLogs.add(evict);
    void evict.finally(() => {
      this.closingLogs.delete(evict);
      this.logReleased();
    });
  }

  /**
   * Closes an evicted log, in two steps:
   * 1. Flush it (twice: the second waits out a flush cycle and its checkpoint write already running)
   *    while it stays fully usable. If it is used meanwhile (logSync puts it back into openLogs), it
   *    stays open.
   * 2. Close it from a setImmediate callback. The microtask queue is empty when such a callback starts,
   *    and a flushed, unused log closes without I/O, so the whole close — from the log turning closed
   *    to its lock being released — runs within that callback's microtask drain, and no other code
   *    (a sync read that would find the log closed and try to reopen it while its lock is held: the
   *    DIRECTORY_LOCKED race) runs in between. Appends arriving later wait for `closing`.
   */
  private async evictLog(ps: PartitionState, log: PartitionLog): Promise<void> {
    const eviction = ++ps.evictions;
    const stillEvicted = (): boolean =>
      ps.evictions === eviction && !this.openLogs.has(ps) && ps.log === log && ps.closing === null && !this.isClosed() && !ps.topic.deleted;
    let flushedEnd: number;
    try {
      await log.flush();
      await log.flush();
      flushedEnd = log.endOffset;
    } catch (e) {
      if (!stillEvicted()) return;
      // Not closed: a close would retry the failed I/O with the log already closed. Tried again later.
      warn(`flushing partition log ${ps.dir} before closing it failed`, e);
      this.openLogs.set(ps, true);
      return;
    }
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        // An append since the flush would leave I/O for close(): such a log was used, so it stays.
        if (!stillEvicted() || log.endOffset !== flushedEnd) {
          resolve();
          return;
        }
        ps.figures = figuresOf(log);
        ps.closing = log.close().then(
          () => undefined,
          (e) => warn(`closing partition log ${ps.dir} failed`, e),
        ).then(() => {
          this.liveLogs.delete(log);
          if (ps.log === log) ps.log = null;
          ps.closing = null;
          resolve();
        });
      });
    });
  }

  async removePartitionData(ps: PartitionState): Promise<void> {
    if (ps.closing !== null) await ps.closing.catch(() => undefined);
    const log = ps.log;
    if (log !== null) {
      ps.log = null;
      this.openLogs.delete(ps);
      try {
        await log.destroy();
      } finally {
        this.liveLogs.delete(log);
      }
    } else if (fs.existsSync(ps.dir)) {
      // Renamed first, so a crash mid-removal leaves a `-delete` dir that the next open removes.
      const doomed = `${ps.dir}.${Date.now().toString(36)}-delete`;
      fs.renameSync(ps.dir, doomed);
      await fs.promises.rm(doomed, { recursive: true, force: true });
    }
  }

  /** log.append, with descriptor exhaustion (a roll creates three files) as TOO_MANY_OPEN_FILES. */
  appendTo(ps: PartitionState, log: PartitionLog, batch: Uint8Array, options?: typeof TRUSTED): AppendResult {
    try {
      return log.append(batch, options);
    } catch (e) {
      throw typedFdError(e, `appending to ${ps.topic.name}-${ps.partition}`);
    }
  }

  /** Wakes every write waiting for room (at close: they find the engine closed). */
  wakeAllWaiters(): void {
    for (const wake of this.capacityWaiters.splice(0)) wake();
  }

  /** Closes every log still open (evictions that saw the engine closing left theirs open); the errors are collected. */
  async closeAll(topics: Iterable<TopicState>, errors: unknown[]): Promise<void> {
    await Promise.all([...this.closingLogs]);
    const logs: PartitionState[] = [];
    for (const ts of topics) for (const ps of ts.partitions) if (ps.log !== null) logs.push(ps);
    this.openLogs.clear();
    await Promise.all(
      logs.map(async (ps) => {
        const log = ps.log;
        ps.log = null;
        try {
          await log?.close();
        } catch (e) {
          errors.push(e);
        } finally {
          if (log !== null) this.liveLogs.delete(log);
        }
      }),
    );
  }
}
