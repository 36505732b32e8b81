// FETCH: whole stored batches of one partition from an offset, as one message.
import { encodeFetchResultHeader, decodeFetch, type FetchRequest } from '../../protocol/fetch.js';
import { outgoingBatches } from '../outgoing-batches.js';
import type { Handler, RequestContext } from './context.js';

export const handleFetch: Handler = (ctx, id, r) => {
  const req = decodeFetch(r);
  ctx.authorize('consume', 'topic', req.topic);
  const quota = ctx.admitBytes('consume', 0);
  if (quota === null) answerFetch(ctx, id, req);
  // Over the consume quota: answer once it is repaid (tracked, so the connection's bounds hold).
  else ctx.track(id, () => quota.then(() => (answerFetch(ctx, id, req), null)));
};

function answerFetch(ctx: RequestContext, id: number, req: FetchRequest): void {
  const read = ctx.engine.readBatches(req.topic, req.partition, req.offset, {
    maxBytes: Math.max(1, Math.min(req.maxBytes, ctx.limits.maxFetchBytes, ctx.deliveryBytesAllowed())),
  });
  const out = outgoingBatches(new Uint8Array(0), read.batches, ctx.canDecodeLz4, req.topic, req.partition);
  // Fewer batches than read when one did not decompress: the next FETCH, from it, reports it.
  const nextOffset = out.parts.length - 1 < read.batches.length ? out.nextOffset : read.nextOffset;
  out.parts[0] = encodeFetchResultHeader(id, {
    partition: req.partition,
    startOffset: read.startOffset,
    endOffset: read.endOffset,
    nextOffset,
  });
  ctx.sendDelivery(out.parts, out.bytes, out.records);
}
