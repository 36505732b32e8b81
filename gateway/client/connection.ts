// What the producer and the consumer need of the client's connection. They depend on this, not on
// client.ts (which creates them), so the client's modules import each other in one direction only.
import type { SeglogClientError } from './client-errors.js';
import type { FrameReader } from '../protocol/codec.js';
import type { HelloOk } from '../protocol/hello.js';

/** Something the client routes pushes (DELIVER, GAP, ERROR) to by subscription id. */
export interface PushTarget {
  onPush(type: number, reader: FrameReader): void;
  onSubscriptionError(error: SeglogClientError): void;
  /** The connection was lost (a reconnect may follow). */
  onDisconnected?(): void;
  /** The connection is back: subscribe again from where we were. */
  onReconnected(): void;
  /** Connection lost for good (or the client closed). */
  onClientClosed(error: SeglogClientError): void;
}

export interface ClientConnection {
  /** The server's HELLO_OK (its limits), once connected. */
  readonly server: HelloOk | null;
  readonly isConnected: boolean;
  /** Bytes the socket has not written yet (for producer backpressure). */
  readonly bufferedAmount: number;
  /** A fresh request or subscription id. */
  allocateId(): number;
  /** Resolves when connected; rejects when the client closed (or after the timeout). */
  whenOpen(timeoutMs?: number): Promise<void>;
  /** Sends a request once connected and resolves with its decoded answer. */
  request<T>(
    build: (id: number) => Uint8Array,
    expect: number,
    decode: (r: FrameReader, type: number) => T,
    options?: { id?: number; timeoutMs?: number | null },
  ): Promise<T>;
  /** Fire-and-forget frame (CREDIT, UNSUBSCRIBE); false (dropped) when not connected. */
  sendRaw(frame: Uint8Array): boolean;
  registerPushTarget(id: number, target: PushTarget): void;
  unregisterPushTarget(id: number): void;
  commit(group: string, topic: string, partition: number, offset: number): Promise<void>;
  /** The producer needs the partition count and the topic's compression. */
  describeTopic(name: string): Promise<{ partitions: readonly unknown[]; config: { compression: string } }>;
}
