// The declarative form of a Kafka message: one schema per API (request and response fields, each
// with the versions it exists in), read by the one generic encoder/decoder in codec.ts.
//
// Why this shape: Kafka's own message definitions are data (fields + version ranges), and each new
// version of an API adds or drops a few fields. Keeping our definitions as data of the same shape
// means that supporting a further version is a change of `versions` (plus a line per field the new
// version adds), and no hand-written read/write code can drift from the definition. The version
// syntax is Kafka's: "3+" (3 and later), "2-5", "0" (only 0), "none".
// Property names are camelCase of Kafka's field names; unknown tagged fields are skipped.

/** Scalar and byte-sequence types of the wire format (Kafka's names). */
export type Primitive = 'int8' | 'int16' | 'int32' | 'int64' | 'bool' | 'string' | 'bytes' | 'records' | 'uuid';

/** An inclusive version range; `max` is Infinity for "N+". An empty range has min > max. */
export interface VersionRange {
  min: number;
  max: number;
}

export interface Field {
  name: string;
  /** A primitive, or a struct (its fields). */
  type: Primitive | readonly Field[];
  /** An array of `type`. */
  array: boolean;
  versions: VersionRange;
  /** Versions in which the value may be null (strings, bytes, records, arrays). */
  nullable: VersionRange;
  /** In flexible versions: carried as this tagged field instead of in line. */
  tag: number | undefined;
  /** The value a decoder gives when the field is absent in a version (and the encoder's default). */
  default: unknown;
}

export interface ApiSchema {
  apiKey: number;
  name: string;
  /** The versions this server serves (listed in ApiVersions). */
  versions: VersionRange;
  /** Versions using compact encodings and tagged fields (request header v2, response header v1). */
  flexible: VersionRange;
  request: readonly Field[];
  response: readonly Field[];
}

export function range(spec: string): VersionRange {
  if (spec === 'none') return { min: 1, max: 0 };
  let m = /^(\d+)\+$/.exec(spec);
  if (m !== null) return { min: Number(m[1]), max: Infinity };
  m = /^(\d+)-(\d+)$/.exec(spec);
  if (m !== null) return { min: Number(m[1]), max: Number(m[2]) };
  if (/^\d+$/.test(spec)) return { min: Number(spec), max: Number(spec) };
  throw new Error(`bad version range ${JSON.stringify(spec)}`);
}

export const inRange = (r: VersionRange, v: number): boolean => v >= r.min && v <= r.max;

interface FieldOptions {
  nullable?: string;
  tag?: number;
  default?: unknown;
}

function typeDefault(type: Primitive | readonly Field[], array: boolean): unknown {
  if (array) return [];
  switch (type) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'bytes':
    case 'records':
      return null;
    case 'uuid':
      return Buffer.alloc(16);
    default:
      return typeof type === 'string' ? 0 : {};
  }
}

/** A field of a primitive or struct type: `field('errorCode', 'int16', '0+')`. */
export function field(name: string, type: Primitive | readonly Field[], versions: string, o: FieldOptions = {}): Field {
  return { name, type, array: false, versions: range(versions), nullable: range(o.nullable ?? 'none'), tag: o.tag, default: 'default' in o ? o.default : typeDefault(type, false) };
}

/** An array of a primitive or of structs: `array('partitions', [...fields], '0+')`. */
export function array(name: string, type: Primitive | readonly Field[], versions: string, o: FieldOptions = {}): Field {
  return { name, type, array: true, versions: range(versions), nullable: range(o.nullable ?? 'none'), tag: o.tag, default: 'default' in o ? o.default : [] };
}

export function api(apiKey: number, name: string, versions: string, flexible: string, request: readonly Field[], response: readonly Field[]): ApiSchema {
  return { apiKey, name, versions: range(versions), flexible: range(flexible), request, response };
}
