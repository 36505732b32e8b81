// Encode and decode of record batches (1000 records each), no compression and LZ4. Payloads are
// incompressible, so the LZ4 figures are the cost of the codec, not its benefit.
import { encodeBatch, forEachRecord, type Compression, type DecodedRecord, type RecordInput } from '../engine/record-batch.js';
import { RECORDS_PER_BATCH, RECORD_SIZES, measure, payloads, progress, result, type BenchOptions, type BenchResult } from './harness.js';

const SUITE = 'record batch';
const DISTINCT_BATCHES = 16;

export function runRecordBatchBench(options: BenchOptions): BenchResult[] {
  const out: BenchResult[] = [];
  for (const recordBytes of RECORD_SIZES) {
    const values = payloads(RECORDS_PER_BATCH * DISTINCT_BATCHES, recordBytes);
    const recordSets: RecordInput[][] = [];
    for (let b = 0; b < DISTINCT_BATCHES; b++) {
      recordSets.push(values.slice(b * RECORDS_PER_BATCH, (b + 1) * RECORDS_PER_BATCH).map((value) => ({ value })));
    }
    for (const compression of ['none', 'lz4'] as Compression[]) {
      progress(`encode and decode (${compression}), ${recordBytes} B`);
      let i = 0;
      const now = Date.now();
      const encodeRate = measure(options, () => {
        encodeBatch(recordSets[i++ % DISTINCT_BATCHES]!, { compression, now });
        return RECORDS_PER_BATCH;
      });
      out.push(result(SUITE, `encode (${compression})`, recordBytes, encodeRate));

      const batches = recordSets.map((records, b) => encodeBatch(records, { compression, baseOffset: b * RECORDS_PER_BATCH, now }));
      // The consumer touches every value, as an application would.
      let checksum = 0;
      const onRecord = (r: DecodedRecord): void => {
        checksum += r.value!.length;
      };
      const decodeRate = measure(options, () => forEachRecord(batches[i++ % DISTINCT_BATCHES]!, onRecord));
      if (checksum === 0) throw new Error('decode bench decoded nothing');
      out.push(result(SUITE, `decode, forEachRecord (${compression})`, recordBytes, decodeRate));
    }
  }
  return out;
}
