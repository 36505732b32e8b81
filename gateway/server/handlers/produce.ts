// PRODUCE: one record batch, appended as is (the engine validates and copies it).
import { BatchTooLargeError } from '../../../engine/format/errors.js';
import { decodeProduce, encodeProduceAck } from '../../protocol/produce.js';
import type { Handler } from './context.js';

export const handleProduce: Handler = (ctx, id, r) => {
  const req = decodeProduce(r);
  const size = req.batch.byteLength;
  if (size > ctx.limits.maxBatchBytes) throw new BatchTooLargeError(size, ctx.limits.maxBatchBytes);
  ctx.authorize('produce', 'topic', req.topic);
  const started = performance.now();
  const quota = ctx.admitBytes('produce', size);
  ctx.track(id, async () => {
    if (quota !== null) await quota;
    const partition = req.partition === -1 ? undefined : req.partition;
    const res = await ctx.engine.appendBatch(req.topic, req.batch, { partition, acks: req.acks });
    ctx.metrics.appendLatency.observe((performance.now() - started) / 1000);
    ctx.metrics.recordsIn.inc(res.lastOffset - res.baseOffset + 1);
    ctx.metrics.bytesIn.inc(size);
    return encodeProduceAck(id, { partition: res.partition, baseOffset: res.baseOffset, lastOffset: res.lastOffset });
  });
};
