// The records the read path hands out (Engine.read, subscriptions): one small object per record
// whose fields are plain integers (V8 small integers, no boxes) and one shared reference to its
// batch; timestamp, key and value are built from them when asked for. A read of 4 MiB at
// 100 B builds ~38,000 records that live until the caller drops them, so young-generation
// collections copy whatever they hold: an eager record held a Buffer view (~80 B) and a boxed
// timestamp besides itself; this one holds neither (bench/README.md, "Engine.read").
import type { PartitionRecord, RecordHeader } from './record-types.js';

/** Makes a view of `length` bytes at `byteOffset` of `buffer` (the runtime's `view`). */
export type ViewMaker<B extends Uint8Array> = (buffer: ArrayBufferLike, byteOffset: number, length: number) => B;

/** What the records of one decoded batch share: where their bytes are and the batch's header fields. */
export class RecordSource<B extends Uint8Array> {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly baseTimestamp: number,
    /** The bytes the records' positions are relative to (a copy of the batch, or its decompressed records). */
    readonly buffer: ArrayBufferLike,
    readonly byteOffset: number,
    readonly view: ViewMaker<B>,
  ) {}
}

/**
 * A record of the read path. `offset` and `headers` are own properties; `topic`, `partition`,
 * `timestamp`, `key` and `value` are getters on the prototype (key and value a new view into the
 * same bytes on each access). All are read-only. Spreading (`{ ...r }`) or
 * Object.keys sees only the own properties: `toJSON()` gives the whole record as a plain object,
 * and console.log shows it so.
 */
export class ReadRecord<B extends Uint8Array> implements Readonly<PartitionRecord<B>> {
  // Private fields: not enumerable, so they stay out of spreads, keys and JSON.
  #source: RecordSource<B>;
  #tsDelta: number;
  #keyAt: number;
  #keyLength: number;
  #valueAt: number;
  #valueLength: number;
  readonly offset: number;
  readonly headers: RecordHeader<B>[];

  constructor(
    source: RecordSource<B>,
    offset: number,
    tsDelta: number,
    keyAt: number,
    keyLength: number,
    valueAt: number,
    valueLength: number,
    headers: RecordHeader<B>[],
  ) {
    this.#source = source;
    this.offset = offset;
    this.#tsDelta = tsDelta;
    this.#keyAt = keyAt;
    this.#keyLength = keyLength;
    this.#valueAt = valueAt;
    this.#valueLength = valueLength;
    this.headers = headers;
  }

  get topic(): string {
    return this.#source.topic;
  }

  get partition(): number {
    return this.#source.partition;
  }

  get timestamp(): number {
    return this.#source.baseTimestamp + this.#tsDelta;
  }

  // A fresh view on every access, not kept: a kept view would outlive young-generation
  // collections with its record, which is what this class exists to avoid (measured: a cached
  // view cost half the read rate at 100 B). Views are cheap; `r.value === r.value` is false.
  get key(): B | null {
    const s = this.#source;
    return this.#keyLength < 0 ? null : s.view(s.buffer, s.byteOffset + this.#keyAt, this.#keyLength);
  }

  get value(): B | null {
    const s = this.#source;
    return this.#valueLength < 0 ? null : s.view(s.buffer, s.byteOffset + this.#valueAt, this.#valueLength);
  }

  /** The record as a plain object (what JSON.stringify and console.log show). */
  toJSON(): PartitionRecord<B> {
    return {
      topic: this.topic,
      partition: this.partition,
      offset: this.offset,
      timestamp: this.timestamp,
      key: this.key,
      value: this.value,
      headers: this.headers,
    };
  }

  // Node's util.inspect hook, by its registered symbol (no Node import: this layer runs in browsers).
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (value: unknown, options: object) => string): string {
    return `ReadRecord ${inspect(this.toJSON(), options)}`;
  }
}
