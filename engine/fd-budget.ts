// How many partition logs the engine may hold open at once, from the process's open-file limit.
//
// Descriptors are a per-process resource shared with everything else in the process, above all the
// gateway's sockets. An open partition log holds FDS_PER_OPEN_LOG of them; everything else the
// engine touches (offset journal, topics.json rewrites, lock files, reading a closed partition's
// figures) holds one or two at a time. So the budget is
//
//   logs = (soft limit − sockets' share − descriptors already in use at open − engine's own) / per log
//
// and the engine keeps its logs below that, closing least recently used ones (log-cache.ts).
// Node raises the soft RLIMIT_NOFILE to the hard limit at start-up, so the soft limit read after
// start is the figure that counts.
import fs from 'node:fs';
import { TooManyOpenFilesError } from './format/errors.js';

/** Assumed open-file limit where /proc/self/limits cannot be read (the common Linux default). */
export const OPEN_FILES_LIMIT_FALLBACK = 1024;
/** Assumed descriptors in use before the engine opens (Node's own: stdio, epoll, ...) where /proc/self/fd cannot be read. */
export const PROCESS_FDS_FALLBACK = 32;
/** Share of the open-file limit left to sockets (the gateway's connections) and the rest of the process. */
export const SOCKET_RESERVE_SHARE = 0.25;
/** Descriptors the engine holds besides logs: journal, its compaction, topics.json rewrite + dir fsync, lock files, figure reads. */
export const ENGINE_SHARED_FDS = 16;
/**
 * Descriptors of one open partition log: .log, .index and .timeindex of the active segment, plus the
 * recovery-point checkpoint each flush rewrites (all open logs may flush at once). A segment just
 * sealed keeps its three until its sync, briefly; the sockets' share absorbs that.
 */
export const FDS_PER_OPEN_LOG = 4;
/** Upper bound of the default maxOpenPartitions (each open log also holds mappings and reserved blocks). */
export const OPEN_PARTITIONS_DEFAULT_MAX = 1000;
/** Share of the log budget the default maxOpenPartitions leaves to logs still closing after eviction. */
export const CLOSING_LOGS_SHARE = 0.25;
/**
 * Share of the log budget writes leave to synchronous opens (reads). Writes can wait for evicted logs
 * to close, reads cannot; so a read right after writes to many partitions still finds room.
 */
export const SYNC_OPEN_RESERVE_SHARE = 0.1;
/** Largest openFilesLimit option accepted. */
export const OPEN_FILES_LIMIT_OPTION_MAX = 1 << 30;

export interface FdBudget {
  /** The process's soft open-file limit (or the openFilesLimit option). */
  openFilesLimit: number;
  /** Left to sockets and the rest of the process. */
  socketReserveFds: number;
  /** In use when the engine opened (Node's own descriptors, the application's). */
  inUseAtOpenFds: number;
  /** Partition logs that may hold descriptors at once (open ones and ones still closing). */
  maxLogsHoldingFds: number;
  /** The part of maxLogsHoldingFds writes may fill (they wait beyond it; reads use the rest). */
  maxLogsForWrites: number;
  /** maxOpenPartitions when the option is not given. */
  defaultMaxOpenPartitions: number;
}

/** The soft "Max open files" of /proc/self/limits ("unlimited" → Infinity), or null when absent. */
export function parseOpenFilesSoftLimit(limitsText: string): number | null {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === 'unlimited') return Infinity;
  const n = Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

export function readOpenFilesSoftLimit(): number | null {
  try {
    return parseOpenFilesSoftLimit(fs.readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

/** Descriptors this process holds now, or null without /proc. */
export function countOpenFds(): number | null {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/** The budget for a limit and the descriptors already in use. */
export function planFdBudget(openFilesLimit: number, inUseAtOpenFds: number): FdBudget {
  // An unlimited or huge limit still gets a finite plan: the default cap applies long before.
  const limit = Math.min(openFilesLimit, OPEN_FILES_LIMIT_OPTION_MAX);
  const socketReserveFds = Math.ceil(limit * SOCKET_RESERVE_SHARE);
  const forLogs = limit - socketReserveFds - inUseAtOpenFds - ENGINE_SHARED_FDS;
  const maxLogsHoldingFds = Math.max(0, Math.floor(forLogs / FDS_PER_OPEN_LOG));
  const atLeastOne = Math.min(1, maxLogsHoldingFds);
  const maxLogsForWrites = Math.max(atLeastOne, maxLogsHoldingFds - Math.ceil(maxLogsHoldingFds * SYNC_OPEN_RESERVE_SHARE));
  const defaultMaxOpenPartitions = Math.min(
    OPEN_PARTITIONS_DEFAULT_MAX,
    Math.max(atLeastOne, maxLogsHoldingFds - Math.ceil(maxLogsHoldingFds * CLOSING_LOGS_SHARE)),
  );
  return { openFilesLimit: limit, socketReserveFds, inUseAtOpenFds, maxLogsHoldingFds, maxLogsForWrites, defaultMaxOpenPartitions };
}

export interface FdProbes {
  softLimit(): number | null;
  openFds(): number | null;
}

const PROC_PROBES: FdProbes = { softLimit: readOpenFilesSoftLimit, openFds: countOpenFds };

/** The budget of this process now (or for `openFilesLimit` when given); fallbacks where /proc is missing. */
export function currentFdBudget(openFilesLimit?: number, probes: FdProbes = PROC_PROBES): FdBudget {
  return planFdBudget(openFilesLimit ?? probes.softLimit() ?? OPEN_FILES_LIMIT_FALLBACK, probes.openFds() ?? PROCESS_FDS_FALLBACK);
}

/** Whether `e` (or an error it wraps) is the kernel refusing a descriptor. */
export function isFdExhaustion(e: unknown): boolean {
  for (let cause = e, depth = 0; cause !== null && typeof cause === 'object' && depth < 8; depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** `e` as a TooManyOpenFilesError when it is descriptor exhaustion, else `e` unchanged. */
export function typedFdError(e: unknown, what: string): unknown {
  if (e instanceof TooManyOpenFilesError || !isFdExhaustion(e)) return e;
  return new TooManyOpenFilesError(`${what}: the process is out of file descriptors (${(e as Error).message})`, e);
}
