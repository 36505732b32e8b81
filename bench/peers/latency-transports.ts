// How each peer sends one record and delivers it to a subscriber, for the produce→deliver latency
// case (bench/peers/latency.ts), each with its official Node client as its docs show it:
//   - core NATS: publish → subscription (no storage: the latency floor);
//   - NATS JetStream: js.publish (acknowledged, file storage) → ordered consumer;
//   - Redis Streams: XADD → XREAD BLOCK on the newest id.
import { Redis } from 'ioredis';
import { connect, StorageType, type NatsConnection } from 'nats';

export type LatencySystem = 'core NATS' | 'NATS JetStream' | 'Redis Streams';

export interface PeerAddress {
  host: string;
  port: number;
  /** Subject (NATS), stream name (JetStream, Redis). */
  name: string;
}

export interface LatencySender {
  /** Sends one value; the returned promise settles on the system's acknowledgement (resolved at once where there is none). */
  send(value: Uint8Array): Promise<unknown>;
  close(): Promise<void>;
}

export interface LatencyReceiver {
  close(): Promise<void>;
}

export interface LatencyTransport {
  /** Creates what the case needs (a JetStream stream), once, before the receiver starts. */
  prepare(address: PeerAddress): Promise<void>;
  sender(address: PeerAddress): Promise<LatencySender>;
  /** Calls onValue for every record sent after it resolved. */
  receiver(address: PeerAddress, onValue: (value: Uint8Array) => void): Promise<LatencyReceiver>;
}

/** Redis XREAD BLOCK wait per call; the loop re-issues it until closed. */
const REDIS_BLOCK_MS = 1000;

async function natsConnect(a: PeerAddress): Promise<NatsConnection> {
  return connect({ servers: `${a.host}:${a.port}`, maxReconnectAttempts: 0 });
}

const coreNats: LatencyTransport = {
  prepare: async () => undefined,
  async sender(a) {
    const nc = await natsConnect(a);
    return {
      send: (value) => {
        nc.publish(a.name, value);
        return Promise.resolve();
      },
      close: () => nc.drain(),
    };
  },
  async receiver(a, onValue) {
    const nc = await natsConnect(a);
    nc.subscribe(a.name, { callback: (err, m) => err === null && onValue(m.data) });
    await nc.flush(); // the subscription is known to the server before the sender starts
    return { close: () => nc.drain() };
  },
};

const jetStream: LatencyTransport = {
  async prepare(a) {
    const nc = await natsConnect(a);
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: a.name, subjects: [a.name], storage: StorageType.File, num_replicas: 1 });
    } finally {
      await nc.close();
    }
  },
  async sender(a) {
    const nc = await natsConnect(a);
    const js = nc.jetstream();
    return { send: (value) => js.publish(a.name, value), close: () => nc.drain() };
  },
  async receiver(a, onValue) {
    const nc = await natsConnect(a);
    const consumer = await nc.jetstream().consumers.get(a.name); // no name: an ordered consumer
    const messages = await consumer.consume();
    const loop = (async () => {
      for await (const m of messages) onValue(m.data);
    })();
    return {
      close: async () => {
        messages.stop(); // ends the loop (close() would wait for it)
        await loop;
        await nc.close();
      },
    };
  },
};

const redisStreams: LatencyTransport = {
  prepare: async () => undefined,
  async sender(a) {
    const redis = new Redis({ host: a.host, port: a.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    return {
      send: (value) => redis.xadd(a.name, '*', 'v', Buffer.from(value.buffer, value.byteOffset, value.byteLength)),
      close: async () => void (await redis.quit()),
    };
  },
  async receiver(a, onValue) {
    const redis = new Redis({ host: a.host, port: a.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    let closed = false;
    // Every run has a stream of its own, empty when the receiver starts: read it from its first id.
    let lastId = '0';
    const loop = (async () => {
      while (!closed) {
        const res = (await redis.xreadBuffer('BLOCK', REDIS_BLOCK_MS, 'STREAMS', a.name, lastId)) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
        if (res === null) continue;
        for (const [id, fields] of res[0]![1]) {
          onValue(fields[1]!);
          lastId = id.toString();
        }
      }
    })();
    return {
      close: async () => {
        closed = true;
        redis.disconnect();
        await loop.catch(() => undefined);
      },
    };
  },
};

export const LATENCY_TRANSPORTS: Record<LatencySystem, LatencyTransport> = {
  'core NATS': coreNats,
  'NATS JetStream': jetStream,
  'Redis Streams': redisStreams,
};
