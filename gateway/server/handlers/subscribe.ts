// SUBSCRIBE (where each partition starts, then the subscription), CREDIT and UNSUBSCRIBE.
import { InvalidArgumentError, PartitionNotFoundError } from '../../../engine/format/errors.js';
import { resolveStartOffset, type StartRequest } from '../../../engine/index.js';
import type { GatewayEngine } from '../engine-port.js';
import { ServerSubscription } from '../subscription.js';
import {
  decodeCredit,
  decodeSubscribe,
  encodeSubscribed,
  encodeUnsubscribed,
  type PartitionStart,
  type SubscribeRequest,
} from '../../protocol/subscribe.js';
import type { Handler, RequestContext } from './context.js';

export const handleSubscribe: Handler = (ctx, id, r) => {
  const req = decodeSubscribe(r);
  ctx.authorize('consume', 'topic', req.topic);
  if (req.group !== '') ctx.authorize('consume', 'group', req.group);
  const subs = ctx.subscriptions;
  if (subs.inUse(id)) throw new InvalidArgumentError(`subscription id ${id} is already in use on this connection`);
  if (subs.count >= ctx.limits.maxSubscriptions) {
    throw new InvalidArgumentError(`at most ${ctx.limits.maxSubscriptions} subscriptions per connection`);
  }
  subs.reserve(id);
  // subscribe() moves the id from reserved to open itself, in the same synchronous step.
  ctx.track(id, () => subscribe(ctx, id, req));
};

export const handleCredit: Handler = (ctx, id, r) => {
  const bytes = decodeCredit(r);
  // A grant racing with the subscription's end is harmless: ignored.
  ctx.subscriptions.get(id)?.addCredit(bytes);
};

export const handleUnsubscribe: Handler = (ctx, id, r) => {
  r.end();
  if (!ctx.subscriptions.remove(id)) throw new InvalidArgumentError(`no subscription with id ${id}`);
  ctx.sendFrame(encodeUnsubscribed(id));
};

/**
 * Resolves where each partition starts, then opens the subscription. The id stops being reserved
 * exactly when it is added (or when this fails): a SUBSCRIBE with no group resolves
 * synchronously, and releasing the id a microtask later counted it twice against
 * maxSubscriptions for the rest of the read.
 */
async function subscribe(ctx: RequestContext, id: number, req: SubscribeRequest): Promise<null> {
  try {
    const starts = await startPositions(ctx.engine, req);
    if (!ctx.subscriptions.accepting) return null;
    const sub = new ServerSubscription(
      ctx.engine,
      ctx.subscriptions.sink,
      { readChunkBytes: ctx.limits.readChunkBytes, readsPerTurn: ctx.limits.readsPerTurn },
      id,
      req.topic,
      starts,
      req.creditBytes,
      req.partitions === null,
    );
    ctx.subscriptions.add(id, sub);
    ctx.sendFrame(encodeSubscribed(id, starts));
    sub.schedule();
    return null;
  } finally {
    // Synchronously as this returns or throws (unless it awaited): not a microtask later.
    ctx.subscriptions.release(id);
  }
}

/** Where each partition of the subscription starts (PROTOCOL.md §4.3, first rule that applies). */
async function startPositions(engine: GatewayEngine, req: SubscribeRequest): Promise<PartitionStart[]> {
  const description = engine.describeTopic(req.topic);
  const count = description.partitions.length;
  let partitions: number[];
  if (req.partitions === null) partitions = description.partitions.map((p) => p.partition);
  else {
    partitions = [...new Set(req.partitions)];
    if (partitions.length === 0) throw new InvalidArgumentError('a subscription needs at least one partition');
    for (const p of partitions) if (!(p >= 0 && p < count)) throw new PartitionNotFoundError(req.topic, p, count);
  }
  const resume = new Map(req.resume.map((x) => [x.partition, x.offset]));
  const starts: PartitionStart[] = [];
  for (const partition of partitions) {
    const range = engine.offsets(req.topic, partition);
    let from: number | undefined = resume.get(partition);
    if (from === undefined && req.group !== '') {
      const committed = await engine.committed(req.group, req.topic, partition);
      if (committed !== null) from = committed;
    }
    // The engine's start rule (start-positions.ts): below the log start the pump sends a GAP.
    const request: StartRequest = from !== undefined ? { resume: Math.max(from, 0) } : req.start;
    const startOffset = resolveStartOffset(request, range, (at) => engine.offsetForTimestamp(req.topic, partition, at), `${req.topic}-${partition}`);
    starts.push({ partition, startOffset, endOffset: range.endOffset });
  }
  if (req.partitions === null) {
    // Partitions added while we awaited committed offsets: new, so from offset 0, like those
    // added once the subscription is open (see ServerSubscription's followNewPartitions).
    const total = engine.describeTopic(req.topic).partitions.length;
    for (let partition = count; partition < total; partition++) {
      starts.push({ partition, startOffset: 0, endOffset: engine.offsets(req.topic, partition).endOffset });
    }
  }
  return starts;
}
