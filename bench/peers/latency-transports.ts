// How each peer sends one record and delivers it to a subscriber, for the produce→deliver latency
// case (bench/peers/latency.ts), each with its official Node client as its docs show it:
//   - core NATS: publish → subscription (no storage: the latency floor);
//   - NATS JetStream: publish with a reply inbox, acknowledged by the stream (file storage) → ordered
//     consumer (js.publish, the client's API, tops out below 20k records/s on the 2-core VM);
//   - Redis Streams: XADD → XREAD BLOCK on the newest id;
//   - Apache Kafka (kafkajs): one produce request per tick of the schedule → a consumer group member.
import { Redis } from 'ioredis';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { connect, StorageType, type NatsConnection } from 'nats';
import { inboxPublisher } from './nats-inbox.js';

export type LatencySystem = 'core NATS' | 'NATS JetStream' | 'Redis Streams' | 'Apache Kafka' | 'seglog (Kafka port)';

export interface PeerAddress {
  host: string;
  port: number;
  /** Subject (NATS), stream name (JetStream, Redis). */
  name: string;
}

export interface LatencySender {
  /** Sends one value; the returned promise settles on the system's acknowledgement (resolved at once where there is none). */
  send(value: Uint8Array): Promise<unknown>;
  /**
   * Where a client's documented use is one request per batch (Kafka's producer): the values due in
   * one tick of the schedule (about 20) in one request, acknowledged together.
   */
  sendBatch?(values: Uint8Array[]): Promise<unknown>;
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
    // Acknowledged publishes through a reply inbox: js.publish itself tops out below 20k/s here.
    const nc = await natsConnect(a);
    const p = inboxPublisher(nc, a.name);
    return {
      send: (value) => p.send(value),
      close: async () => {
        p.close();
        await nc.drain();
      },
    };
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

/** Fetch wait of the Kafka consumer when nothing is there (data ends the wait at once). */
const KAFKA_FETCH_WAIT_MS = 100;

function kafkaClient(a: PeerAddress, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [`${a.host}:${a.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

const kafka: LatencyTransport = {
  async prepare(a) {
    const admin = kafkaClient(a, 'bench-latency-admin').admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: a.name, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
  },
  async sender(a) {
    const producer = kafkaClient(a, 'bench-latency-producer').producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const send = (values: Uint8Array[]): Promise<unknown> =>
      producer.send({ topic: a.name, acks: -1, messages: values.map((v) => ({ value: Buffer.from(v.buffer, v.byteOffset, v.byteLength) })) });
    return { send: (value) => send([value]), sendBatch: send, close: () => producer.disconnect() };
  },
  async receiver(a, onValue) {
    const consumer = kafkaClient(a, 'bench-latency-consumer').consumer({ groupId: `${a.name}-group`, maxWaitTimeInMs: KAFKA_FETCH_WAIT_MS });
    await consumer.connect();
    await consumer.subscribe({ topic: a.name, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) if (m.value !== null) onValue(m.value);
      },
    });
    await joined;
    return { close: () => consumer.disconnect() };
  },
};

export const LATENCY_TRANSPORTS: Record<LatencySystem, LatencyTransport> = {
  'core NATS': coreNats,
  'NATS JetStream': jetStream,
  'Redis Streams': redisStreams,
  'Apache Kafka': kafka,
  // seglog's Kafka listener, with the same kafkajs client (bench/peers/kafka.ts).
  'seglog (Kafka port)': kafka,
};
