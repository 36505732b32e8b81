// FETCH: whole stored batches of one partition from an offset, as one message.
import { encodeFetchResultHeader, decodeFetch } from '../../protocol/fetch.js';
import { outgoingBatches } from '../outgoing-batches.js';
import type { Handler } from './context.js';

export const handleFetch: Handler = (ctx, id, r) => {
  const req = decodeFetch(r);
  const read = ctx.engine.readBatches(req.topic, req.partition, req.offset, {
    maxBytes: Math.max(1, Math.min(req.maxBytes, ctx.limits.maxFetchBytes)),
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
};
