// The server layer's limits and defaults, in one place (units in the names). GatewayOptions
// override the defaults; the rest are fixed.

/** Largest record batch a PRODUCE may carry (GatewayOptions.maxBatchBytes). */
export const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024;
/** Room above maxBatchBytes for the PRODUCE header (type, id, topic of up to 249 bytes, partition, acks) and then some. */
export const FRAME_OVERHEAD_BYTES = 1024;
/** Bytes handed to one socket and not yet written out, above which delivery pauses and reading stops. */
export const DEFAULT_MAX_QUEUED_BYTES_PER_SESSION = 8 * 1024 * 1024;
/** Requests awaiting the engine per connection, above which the server stops reading it. */
export const DEFAULT_MAX_IN_FLIGHT_PER_SESSION = 1024;
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION = 1024;
/** Consumer group memberships (GROUP_JOIN) one connection holds at once. */
export const DEFAULT_MAX_GROUP_MEMBERSHIPS_PER_SESSION = 64;
/** Largest FETCH answer (the engine still returns at least one whole batch). */
export const DEFAULT_MAX_FETCH_BYTES = 4 * 1024 * 1024;
/** Deliveries up to this size are copied into one buffer and join the tick's writev; larger ones go out as fragments at once. */
export const COALESCE_BYTES = 64 * 1024;
/**
 * Each socket's ring that those small deliveries are copied into (send-arena.ts), allocated on its
 * first delivery: room for a few coalesced deliveries, and at most this many slices not yet written.
 */
export const SEND_ARENA_BYTES = 2 * COALESCE_BYTES;
export const SEND_ARENA_SLICES_MAX = 256;
/** One subscription read from the engine, and how many reads one turn of the event loop makes. */
export const READ_CHUNK_BYTES = 1024 * 1024;
export const READS_PER_TURN = 64;
/** Time a connection gets to send HELLO after its upgrade: an idle socket must not hold a slot forever. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** setTimeout's ceiling (a larger delay fires at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Ping every this often; a peer that did not answer the previous ping is dropped. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
/** close(): how long in-flight requests get to be answered. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** close(): how long a peer gets to answer the close handshake before it is cut off (at most the shutdown timeout). */
export const CLOSE_HANDSHAKE_WAIT_MS = 2000;
/** WebSocket close reasons are limited to 123 bytes; we cut at this many characters. */
export const CLOSE_REASON_MAX_CHARS = 120;
/** How often, at most, a refused Host makes us list the interfaces again (addresses change: DHCP, VPN). */
export const INTERFACE_REFRESH_MIN_INTERVAL_MS = 1000;
/**
 * Refusal log lines per window at most: a hostile page that reconnects in a loop must not flood the
 * log. Refusals beyond it are still answered and counted (the metric), and summed up in one line
 * when the next window logs.
 */
export const REFUSAL_LOG_LINES_PER_WINDOW_MAX = 10;
export const REFUSAL_LOG_WINDOW_MS = 60_000;
/** Longest header value quoted back in a refusal (it is the peer's text: keep it short). */
export const MAX_QUOTED_HEADER_CHARS = 100;

/** The bounds one session works within (built by the server from its options and the above). */
export interface SessionLimits {
  /** Largest record batch in a PRODUCE. */
  maxBatchBytes: number;
  /** Largest message accepted (the WebSocket maxPayload). */
  maxFrameBytes: number;
  /** Bytes handed to the socket and not yet written out, above which delivery pauses and reading stops. */
  maxQueuedBytes: number;
  /** Requests awaiting the engine, above which we stop reading the socket. */
  maxInFlight: number;
  maxSubscriptions: number;
  /** Consumer group memberships one connection holds at once. */
  maxGroupMemberships: number;
  /** Largest FETCH answer (the engine still returns at least one whole batch). */
  maxFetchBytes: number;
  /** Deliveries up to this size are copied into one buffer; larger ones go out as fragments. */
  coalesceBytes: number;
  /** The ring small deliveries are copied into (bytes; slices not yet written at most). */
  sendArenaBytes: number;
  sendArenaSlicesMax: number;
  readChunkBytes: number;
  readsPerTurn: number;
  /** A connection still without HELLO this long after the upgrade is closed (CLOSE_POLICY_VIOLATION). */
  handshakeTimeoutMs: number;
}

// --- HTTP API (http-api/) ----------------------------------------------------------------------

/**
 * Largest request body the HTTP API reads (JSON). Above it: 413 before the rest is read. Twice the
 * default batch limit, because base64 values take 4/3 of their bytes and JSON adds its quoting.
 */
export const HTTP_API_MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Records one POST /api/topics/:topic/records may carry. */
export const HTTP_API_MAX_RECORDS_PER_REQUEST = 10_000;
/** Records one GET .../records answers at most (`max` above it is refused), and the default `max`. */
export const HTTP_API_MAX_READ_RECORDS = 1000;
export const HTTP_API_DEFAULT_READ_RECORDS = 100;
/** Stored batch bytes one GET .../records reads from the engine (at least one whole batch still comes back). */
export const HTTP_API_MAX_READ_BYTES = 1024 * 1024;

// --- security (auth/, connection-limits.ts) ---------------------------------------------------

/** Connections (WebSocket sessions, handshake included) the server holds at once; more get HTTP 503. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Connections from one remote address at once; more get HTTP 429. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 1_000;
/** Failed authentications one address may make per window; after them its upgrades get HTTP 429 until the window ends. */
export const AUTH_FAILURES_PER_ADDRESS_MAX = 10;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
/** A failed authentication is answered this much later (guessing costs time; the connection slot is held meanwhile). */
export const AUTH_FAILURE_DELAY_MS = 1_000;
/** Addresses whose failures are remembered at once (oldest forgotten first): bounded memory under a spread attack. */
export const AUTH_FAILURE_ADDRESSES_MAX = 10_000;
/** Longest token accepted in HELLO (ours are 47 characters). */
export const TOKEN_MAX_CHARS = 1024;
/** Byte-rate quotas: the bucket holds this many milliseconds of the rate, so an idle principal's burst stays short. */
export const QUOTA_BURST_MS = 100;

// --- Kafka listener (kafka/) -------------------------------------------------------------------

/** Largest Kafka request (its int32 size prefix); a larger one closes the connection, as a broker's socket.request.max.bytes. */
export const DEFAULT_KAFKA_MAX_REQUEST_BYTES = 16 * 1024 * 1024;
/** Smallest meaningful request: api key, api version and correlation id. */
export const KAFKA_REQUEST_HEADER_MIN_BYTES = 8;
/** Requests read from one Kafka connection and not yet answered; at this many the server stops reading it until answers go out. */
export const DEFAULT_KAFKA_MAX_IN_FLIGHT_PER_CONNECTION = 64;
/** Largest Fetch response: a client's maxBytes above it is lowered to it (at least one batch still goes out, as Kafka does). */
export const DEFAULT_KAFKA_MAX_FETCH_BYTES = 8 * 1024 * 1024;
/** Longest a Fetch waits for minBytes (long polling): a client's maxWaitMs above it is lowered to it. */
export const DEFAULT_KAFKA_MAX_FETCH_WAIT_MS = 30_000;
/** Records section of one gzip batch once decompressed (Produce converts gzip to the topic's codec); larger → MESSAGE_TOO_LARGE. */
export const KAFKA_GZIP_RECORDS_MAX_BYTES = 16 * 1024 * 1024;
/** One SASL message (SaslAuthenticate's authBytes: a PLAIN token or a SCRAM message is far below it); longer fails authentication. */
export const KAFKA_SASL_MESSAGE_MAX_BYTES = 4096;
/** close(): how long in-flight Kafka requests get to be answered before their connections are cut. */
export const KAFKA_SHUTDOWN_WAIT_MS = 2000;
