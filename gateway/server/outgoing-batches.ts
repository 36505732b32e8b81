// The batches of one DELIVER or FETCH_RESULT: as stored, or decompressed for a client without LZ4.
// The engine only returns intact batches (CRC and offset chain checked), but an LZ4 frame is only
// opened here: one that does not decompress is a damaged batch like any other, so the batches before
// it go out and the read from it reports its range.
import { CorruptRecordError } from '../../engine/format/errors.js';
import { CODEC_LZ4, batchBaseOffset, batchCodec, batchLastOffset, batchRecordCount } from '../../engine/format/batch-header.js';
import { decompressBatch } from '../../engine/index.js';

export interface OutgoingBatches {
  /** `header` first, then the batches to send. */
  parts: Uint8Array[];
  bytes: number;
  records: number;
  /** The offset after the last batch sent (from where the next read goes on). */
  nextOffset: number;
}

export function outgoingBatches(
  header: Uint8Array,
  stored: readonly Buffer[],
  canDecodeLz4: boolean,
  topic: string,
  partition: number,
): OutgoingBatches {
  const parts: Uint8Array[] = [header];
  let bytes = 0;
  let records = 0;
  let nextOffset = -1;
  for (const batch of stored) {
    let out: Uint8Array = batch;
    if (!canDecodeLz4 && batchCodec(batch) === CODEC_LZ4) {
      try {
        out = decompressBatch(batch);
      } catch (e) {
        if (!(e instanceof CorruptRecordError)) throw e;
        if (parts.length > 1) break;
        throw new CorruptRecordError(`${topic}-${partition}: ${e.message}`, undefined, undefined, {
          offset: batchBaseOffset(batch),
          nextOffset: batchLastOffset(batch) + 1,
          topic,
          partition,
        });
      }
    }
    parts.push(out);
    bytes += out.byteLength;
    records += batchRecordCount(out);
    nextOffset = batchLastOffset(batch) + 1;
  }
  return { parts, bytes, records, nextOffset };
}
