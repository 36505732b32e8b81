// The schema-driven codec: every served API's request and response round-trip at every version
// (fast-check values generated from the schemas), flexible versions included (compact lengths,
// tagged fields, unknown tags skipped), and a decoder that never reads past the request.
import test from 'ava';
import fc from 'fast-check';
import { MalformedRequestError, Reader, Writer, readStruct, writeStruct, type Struct } from '../../gateway/server/kafka/codec.js';
import { KAFKA_APIS } from '../../gateway/server/kafka/handlers/index.js';
import { API_VERSIONS } from '../../gateway/server/kafka/messages/core.js';
import { api, array, field, inRange, range, type Field } from '../../gateway/server/kafka/schema.js';

/** Values for the fields that exist in `version` (null where nullable), as the decoder returns them. */
function structArb(fields: readonly Field[], version: number, depth = 0): fc.Arbitrary<Struct> {
  const entries: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) {
    if (!inRange(f.versions, version)) continue;
    const one = typeof f.type === 'string' ? primitiveArb(f.type) : depth < 3 ? structArb(f.type, version, depth + 1) : fc.constant({});
    let arb: fc.Arbitrary<unknown> = f.array ? fc.array(one, { maxLength: 3 }) : one;
    if (inRange(f.nullable, version) && (f.array || typeof f.type === 'string')) arb = fc.option(arb, { nil: null });
    entries[f.name] = arb;
  }
  return fc.record(entries) as fc.Arbitrary<Struct>;
}

function primitiveArb(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'int64':
      return fc.maxSafeInteger();
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ maxLength: 20 });
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a));
    default: // bytes, records
      return fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
  }
}

function roundTrip(fields: readonly Field[], value: Struct, version: number, flexible: boolean): Struct {
  const w = new Writer();
  writeStruct(w, fields, value, version, flexible);
  const bytes = Buffer.concat(w.finish());
  const r = new Reader(bytes);
  const back = readStruct(r, fields, version, flexible);
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left`);
  return back;
}

/** Keeps only the fields of `version` (the decoder fills in defaults for the others). */
function present(fields: readonly Field[], value: unknown, version: number): unknown {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => present(fields, v, version));
  const out: Struct = {};
  for (const f of fields) {
    if (!inRange(f.versions, version)) continue;
    const v = (value as Struct)[f.name];
    out[f.name] = typeof f.type === 'string' ? v : Array.isArray(v) ? v.map((x) => present(f.type as Field[], x, version)) : present(f.type as Field[], v, version);
  }
  return out;
}

for (const entry of KAFKA_APIS.values()) {
  const s = entry.schema;
  // Served versions, and the first flexible version (served or not): the flexible path stays tested.
  const versions = [...Array.from({ length: s.versions.max - s.versions.min + 1 }, (_, i) => s.versions.min + i), s.flexible.min];
  test(`${s.name}: request and response round-trip at versions ${versions.join(', ')}`, (t) => {
    for (const version of new Set(versions)) {
      const flexible = inRange(s.flexible, version);
      for (const fields of [s.request, s.response]) {
        fc.assert(
          fc.property(structArb(fields, version), (value) => {
            t.deepEqual(present(fields, roundTrip(fields, value, version, flexible), version), value);
          }),
          { numRuns: 30 },
        );
      }
    }
  });
}

test('flexible encoding: compact lengths, tagged fields written only when set, unknown tags skipped', (t) => {
  const schema = api(999, 'Probe', '0-1', '1+', [
    field('name', 'string', '0+'),
    field('maybe', 'string', '0+', { nullable: '0+', default: null }),
    array('ids', 'int32', '0+'),
    field('extra', 'int32', '1+', { tag: 3, default: -1 }),
  ], []);
  const w = new Writer();
  writeStruct(w, schema.request, { name: 'ab', maybe: null, ids: [7], extra: 9 }, 1, true);
  const bytes = Buffer.concat(w.finish());
  // name: len+1=3,'a','b'; maybe: 0 (null); ids: 2, int32 7; tagged: 1 field, tag 3, size 4, int32 9.
  t.deepEqual([...bytes], [3, 97, 98, 0, 2, 0, 0, 0, 7, 1, 3, 4, 0, 0, 0, 9]);
  t.deepEqual(readStruct(new Reader(bytes), schema.request, 1, true), { name: 'ab', maybe: null, ids: [7], extra: 9 });
  const unset = new Writer();
  writeStruct(unset, schema.request, { name: '', maybe: 'x', ids: [] }, 1, true);
  t.deepEqual([...Buffer.concat(unset.finish())], [1, 2, 120, 1, 0]);
  // An unknown tag (5) before the known one is skipped.
  const withUnknown = Buffer.from([1, 0, 1, 2, 5, 2, 0xaa, 0xbb, 3, 4, 0, 0, 0, 1]);
  t.deepEqual(readStruct(new Reader(withUnknown), schema.request, 1, true), { name: '', maybe: null, ids: [], extra: 1 });
  // The same schema at v0 (non-flexible): int16/int32 lengths, no tagged section, extra defaulted.
  t.deepEqual(readStruct(new Reader(Buffer.from([0, 1, 122, 0xff, 0xff, 0, 0, 0, 0])), schema.request, 0, false), { name: 'z', maybe: null, ids: [], extra: -1 });
});

test('the decoder never reads past the request: lying lengths and counts throw MalformedRequestError', (t) => {
  const fields = [field('name', 'string', '0+'), array('ids', 'int32', '0+')];
  for (const bytes of [[0, 5, 97], [0, 0, 0, 0, 0, 9, 0, 0, 0, 1], [0, 0, 0x7f, 0xff, 0xff, 0xff], [0xff, 0xfe]]) {
    t.throws(() => readStruct(new Reader(Buffer.from(bytes)), fields, 0, false), { instanceOf: MalformedRequestError }, `bytes ${bytes.join(',')}`);
  }
  t.throws(() => readStruct(new Reader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), fields, 1, true), { instanceOf: MalformedRequestError });
  t.throws(() => readStruct(new Reader(Buffer.from([0xff, 0xff])), fields, 0, false), { message: /null where a string is required/ });
});

test('version ranges use Kafka\'s syntax; ApiVersions lists what the schemas say', (t) => {
  t.deepEqual(range('3+'), { min: 3, max: Infinity });
  t.deepEqual(range('2-5'), { min: 2, max: 5 });
  t.deepEqual(range('0'), { min: 0, max: 0 });
  t.false(inRange(range('none'), 0));
  t.throws(() => range('3-'));
  t.deepEqual(API_VERSIONS.versions, { min: 0, max: 3 });
  t.deepEqual(
    [...KAFKA_APIS.values()].map((a) => [a.schema.apiKey, a.schema.versions.min, a.schema.versions.max]).sort((a, b) => a[0]! - b[0]!),
    [[0, 0, 8], [1, 4, 11], [2, 0, 5], [3, 0, 8], [8, 0, 7], [9, 0, 5], [10, 0, 2], [11, 0, 5], [12, 0, 3], [13, 0, 3], [14, 0, 3], [15, 0, 4], [16, 0, 2], [17, 0, 1], [18, 0, 3], [19, 0, 4], [20, 0, 3], [22, 0, 4], [32, 0, 3], [36, 0, 2], [37, 0, 1], [42, 0, 1]],
  );
});
