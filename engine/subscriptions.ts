// The live subscriptions of an engine: opening one (Engine.subscribe: partitions, start positions by
// the rule of start-positions.ts, fetch limits) on a Subscription source reading through the log
// cache, and ending them when their topic is deleted or the engine closes.
import { InvalidArgumentError, TopicNotFoundError } from './format/errors.js';
import { limitOption } from './arguments.js';
import { ENGINE_DEFAULTS } from './limits.js';
import type { LogCache } from './log-cache.js';
import { partitionOf, type TopicState } from './partition-state.js';
import { readRecords } from './read-path.js';
import { resolveStartOffset, type StartRequest } from './start-positions.js';
import { Subscription, type SubscriptionSource, type SubscriptionStart } from './subscription.js';
import type { SubscribeOptions } from './types.js';
import { addWatcher } from './watchers.js';
import { closedBefore, rangeOf } from './partition-view.js';

export class Subscriptions {
  private readonly all = new Set<Subscription>();

  /** A subscription to `ts` (see Engine.subscribe). */
  open(ts: TopicState, options: SubscribeOptions, cache: LogCache, checkOpen: () => void): Subscription {
    const opts = options ?? {};
    let partitions: number[];
    if (opts.partitions === undefined) partitions = ts.partitions.map((ps) => ps.partition);
    else if (typeof opts.partitions === 'number') partitions = [opts.partitions];
    else if (Array.isArray(opts.partitions) && opts.partitions.length > 0) partitions = [...new Set(opts.partitions)];
    else throw new InvalidArgumentError('partitions must be a partition number or a non-empty array of them');
    for (const p of partitions) partitionOf(ts, p);
    const from = opts.from ?? 'latest';
    if (opts.offsets !== undefined && (opts.offsets === null || typeof opts.offsets !== 'object')) {
      throw new InvalidArgumentError('offsets must be an object { [partition]: offset }');
    }
    for (const key of Object.keys(opts.offsets ?? {})) {
      if (!partitions.includes(Number(key))) throw new InvalidArgumentError(`offsets names partition ${key}, which is not subscribed`);
    }
    // Starts from the partitions' offsets, without opening closed logs (only a timestamp inside a
    // partition's data needs its log).
    const starts: SubscriptionStart[] = partitions.map((p) => {
      const ps = ts.partitions[p]!;
      const explicit = opts.offsets?.[p];
      const request: StartRequest = explicit !== undefined ? { resume: explicit } : from;
      const offset = resolveStartOffset(request, rangeOf(cache, ps), (at) => (closedBefore(cache, ps, at) ? null : cache.withLog(ps, (log) => log.offsetForTimestamp(at))), `${ps.topic.name}-${ps.partition}`);
      return { partition: p, offset };
    });
    const limits = {
      maxRecordsPerFetch: limitOption('maxRecordsPerFetch', opts.maxRecordsPerFetch, ENGINE_DEFAULTS.subscribeMaxRecordsPerFetch, ENGINE_DEFAULTS.readMaxRecordsLimit),
      maxBytesPerFetch: limitOption('maxBytesPerFetch', opts.maxBytesPerFetch, ENGINE_DEFAULTS.subscribeMaxBytesPerFetch, ENGINE_DEFAULTS.readMaxBytesLimit),
      corrupt: opts.corrupt ?? 'stop',
    };
    if (limits.corrupt !== 'stop' && limits.corrupt !== 'skip') {
      throw new InvalidArgumentError(`corrupt must be 'stop' or 'skip', got ${JSON.stringify(opts.corrupt)}`);
    }
    const source: SubscriptionSource = {
      range: (p) => {
        checkOpen();
        if (ts.deleted) throw new TopicNotFoundError(ts.name);
        return rangeOf(cache, ts.partitions[p]!);
      },
      fetch: (p, offset, maxRecords, maxBytes) => readRecords(cache, ts.partitions[p]!, offset, maxRecords, maxBytes),
      watch: (p, wake) => addWatcher(ts.partitions[p]!, wake),
    };
    const sub = new Subscription(source, ts.name, starts, limits);
    this.all.add(sub);
    if (opts.partitions === undefined) ts.wholeTopicSubscriptions.add(sub);
    sub.once('end', () => {
      this.all.delete(sub);
      ts.wholeTopicSubscriptions.delete(sub);
    });
    return sub;
  }

  /** Ends the subscriptions of a deleted topic with `error`. */
  endTopic(topic: string, error: unknown): void {
    for (const sub of [...this.all]) if (sub.topic === topic) sub.end(error);
  }

  /** Ends every subscription (engine close). */
  endAll(): void {
    for (const sub of [...this.all]) sub.end(null);
  }
}
