// /api/topics/:topic/records (produce) and /api/topics/:topic/partitions/:p/records (read).
// Produce needs produce:topic, read needs consume:topic, as PRODUCE and FETCH do.
// Bytes travel as text (UTF-8) or base64, chosen per record by `encoding` (produce) or by the
// `encoding` query parameter (read): JSON has no bytes, and most values people type are text.
import { InvalidArgumentError } from '../../../engine/format/errors.js';
import { decodeRecords, encodeBatch, partitionForKey, type RecordHeaderInput, type RecordInput } from '../../../engine/index.js';
import { HTTP_API_DEFAULT_READ_RECORDS, HTTP_API_MAX_READ_BYTES, HTTP_API_MAX_READ_RECORDS, HTTP_API_MAX_RECORDS_PER_REQUEST } from '../limits.js';
import { intParam, type Route } from './route.js';

type Encoding = 'text' | 'base64';

function encodingOf(v: unknown, where: string): Encoding {
  if (v === undefined || v === 'text') return 'text';
  if (v === 'base64') return 'base64';
  throw new InvalidArgumentError(`${where}: encoding must be "text" or "base64", got ${JSON.stringify(v)}`);
}

function bytesOf(v: unknown, encoding: Encoding, where: string): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new InvalidArgumentError(`${where} must be a string (${encoding}) or null`);
  if (encoding === 'text') return Buffer.from(v, 'utf8');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new InvalidArgumentError(`${where} is not base64`);
  return Buffer.from(v, 'base64');
}

function show(b: Uint8Array | null, encoding: Encoding): string | null {
  if (b === null) return null;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return encoding === 'base64' ? buf.toString('base64') : buf.toString('utf8');
}

interface Parsed {
  record: RecordInput;
  partition: number | undefined;
  key: Uint8Array | null;
}

function parseRecord(v: unknown, i: number): Parsed {
  const where = `record ${i}`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(`${where}: expected an object { value, key?, headers?, partition?, timestamp?, encoding? }`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['value', 'key', 'headers', 'partition', 'timestamp', 'encoding'].includes(k)) throw new InvalidArgumentError(`${where}: unknown field ${JSON.stringify(k)}`);
  }
  const encoding = encodingOf(o['encoding'], where);
  const key = bytesOf(o['key'], encoding, `${where} key`);
  const headers: RecordHeaderInput[] = [];
  const h = o['headers'];
  if (Array.isArray(h)) {
    for (const [j, e] of h.entries()) {
      if (typeof e !== 'object' || e === null || typeof (e as { key?: unknown }).key !== 'string') throw new InvalidArgumentError(`${where} header ${j}: expected { key, value }`);
      headers.push({ key: (e as { key: string }).key, value: bytesOf((e as { value?: unknown }).value, encoding, `${where} header ${j} value`) });
    }
  } else if (typeof h === 'object' && h !== null) {
    for (const [k, hv] of Object.entries(h)) headers.push({ key: k, value: bytesOf(hv, encoding, `${where} header ${JSON.stringify(k)}`) });
  } else if (h !== undefined) throw new InvalidArgumentError(`${where}: headers must be an object or a list of { key, value }`);
  const partition = o['partition'] === undefined ? undefined : intParam(o['partition'], `${where} partition`, undefined);
  const timestamp = o['timestamp'] === undefined ? undefined : intParam(o['timestamp'], `${where} timestamp`, undefined);
  const record: RecordInput = { key, value: bytesOf(o['value'], encoding, `${where} value`), headers, ...(timestamp !== undefined ? { timestamp } : {}) };
  return { record, partition, key };
}

export const recordRoutes: Route[] = [
  {
    method: 'POST',
    path: '/topics/:topic/records',
    async handle(req) {
      const topic = req.params['topic']!;
      req.authorize('produce', 'topic', topic);
      const list = Array.isArray(req.body) ? req.body : [req.body];
      if (list.length === 0) throw new InvalidArgumentError('no records: send a record object or a non-empty array');
      if (list.length > HTTP_API_MAX_RECORDS_PER_REQUEST) throw new InvalidArgumentError(`${list.length} records in one request: at most ${HTTP_API_MAX_RECORDS_PER_REQUEST} (HTTP_API_MAX_RECORDS_PER_REQUEST)`);
      const parsed = list.map(parseRecord);
      const d = req.engine.describeTopic(topic);
      const count = d.partitions.length;
      // One batch per target partition, records in request order within it: explicit partition,
      // else the key's hash (as every client's partitioner), else one round-robin pick for the rest.
      const groups = new Map<number | 'any', number[]>();
      parsed.forEach((p, i) => {
        const target = p.partition ?? (p.key !== null ? partitionForKey(p.key, count) : 'any');
        const g = groups.get(target);
        if (g === undefined) groups.set(target, [i]);
        else g.push(i);
      });
      const offsets = new Array<{ partition: number; offset: number }>(parsed.length);
      // The topic's compression applies here as to every batch the server encodes itself.
      const compression = d.config.compression;
      await Promise.all(
        [...groups].map(async ([target, indices]) => {
          const batch = encodeBatch(indices.map((i) => parsed[i]!.record), { compression });
          const r = await req.engine.appendBatch(topic, batch, target === 'any' ? {} : { partition: target });
          indices.forEach((i, k) => (offsets[i] = { partition: r.partition, offset: r.baseOffset + k }));
        }),
      );
      return { status: 201, body: { offsets } };
    },
  },
  {
    method: 'GET',
    path: '/topics/:topic/partitions/:partition/records',
    handle(req) {
      const topic = req.params['topic']!;
      req.authorize('consume', 'topic', topic);
      const partition = intParam(req.params['partition'], 'partition', undefined);
      const max = intParam(req.query.get('max'), 'max', HTTP_API_DEFAULT_READ_RECORDS, 1, HTTP_API_MAX_READ_RECORDS);
      const encoding = encodingOf(req.query.get('encoding') ?? undefined, 'query');
      const range = req.engine.offsets(topic, partition);
      // A negative offset counts back from the end: -10 is the newest ten (or fewer).
      const asked = intParam(req.query.get('offset'), 'offset', range.startOffset, Number.MIN_SAFE_INTEGER);
      const offset = asked < 0 ? Math.max(range.startOffset, range.endOffset + asked) : asked;
      const records = [];
      let next = offset;
      if (offset < range.endOffset) {
        const read = req.engine.readBatches(topic, partition, offset, { maxBytes: HTTP_API_MAX_READ_BYTES });
        next = read.nextOffset;
        outer: for (const batch of read.batches) {
          for (const r of decodeRecords(batch, offset)) {
            if (records.length >= max) break outer;
            records.push({
              partition,
              offset: r.offset,
              timestamp: r.timestamp,
              key: show(r.key, encoding),
              value: show(r.value, encoding),
              headers: r.headers.map((h) => ({ key: h.key, value: show(h.value, encoding) })),
            });
            next = r.offset + 1;
          }
        }
      } else if (offset > range.endOffset) {
        req.engine.readBatches(topic, partition, offset); // throws OFFSET_OUT_OF_RANGE with the valid range
      }
      return { body: { topic, partition, encoding, startOffset: range.startOffset, endOffset: range.endOffset, nextOffset: next, records } };
    },
  },
];
