// The client's limits and defaults, in one place (units in the names). Options override the
// defaults per client, producer or consumer; the rest are fixed.

// --- connection (SeglogClient) ---
/** How long a request waits for its answer (and for a connection) before TIMEOUT. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Reconnect backoff: the first delay, doubling (with jitter) up to the maximum. */
export const DEFAULT_RECONNECT_INITIAL_DELAY_MS = 100;
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 5000;
/** Request ids are u32 on the wire (0 is reserved); tries before giving up on finding a free one. */
export const MAX_REQUEST_ID = 0xffffffff;
export const FREE_ID_ATTEMPTS = 1000;
/** How long close() waits for the server's close handshake. */
export const CLOSE_HANDSHAKE_WAIT_MS = 1000;
/** FETCH answers are capped at this unless the call asks otherwise (the server caps too). */
export const DEFAULT_FETCH_MAX_BYTES = 1024 * 1024;

// --- producer ---
export const DEFAULT_LINGER_MS = 5;
/** A batch closes at about this size (never above what the server accepts). */
export const DEFAULT_PRODUCER_MAX_BATCH_BYTES = 512 * 1024;
export const DEFAULT_MAX_IN_FLIGHT_BATCHES = 32;
/** Record bytes accepted and not yet sent, above which calls wait in the admission queue. */
export const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
export const DEFAULT_METADATA_MAX_AGE_MS = 30_000;
/**
 * Records of calls waiting in the admission queue (for topic metadata, LZ4 loading or buffer
 * space) above which a further call is refused at once (TOO_MANY_REQUESTS). A waiting call holds
 * only references to the caller's records plus a promise: 100,000 records is about 3 s of a busy
 * producer's traffic at the rates the benchmarks reach, and some tens of MiB at most. A call
 * alone in the queue is always taken, however many records it has.
 */
export const DEFAULT_MAX_QUEUED_RECORDS = 100_000;
/** How long a call may wait in the admission queue before it rejects with TIMEOUT (Kafka's max.block.ms). */
export const DEFAULT_MAX_BLOCK_MS = 60_000;
/** The server's batch limit assumed before HELLO_OK says it (its default). */
export const ASSUMED_SERVER_MAX_BATCH_BYTES = 1024 * 1024;
/** Room kept below the server's batch limit for the batch header and LZ4's worst-case growth. */
export const BATCH_LIMIT_SLACK_BYTES = 64;
/** Socket bytes not yet written above which batches wait before going out. */
export const SOCKET_HIGH_WATER_BYTES = 8 * 1024 * 1024;
/** Browsers have no drain event: the sender polls this often, at most this many times per batch. */
export const SOCKET_DRAIN_POLL_MS = 1;
export const SOCKET_DRAIN_POLLS = 10_000;
/** flush() waits for at most this many rounds of calls still in the admission queue. */
export const FLUSH_ADMISSION_ROUNDS = 1000;

// --- consumer ---
/**
 * The consumer's buffer (and initial credit), bytes. 4 MiB: the server reads and sends up to 1 MiB
 * per delivery, so about four deliveries are on the way while the application reads one; with
 * 1 MiB the server waited for the client after each delivery (replay at 100 B ran at ~60% of a
 * 4 MiB window's rate on the 2-core VM; 8 MiB was no faster; bench/README.md, "gateway").
 */
export const DEFAULT_CONSUMER_BUFFER_BYTES = 4 * 1024 * 1024;
/** Credit is a u32 on the wire. */
export const MAX_CREDIT_WINDOW_BYTES = 0xffffffff;
/** With a group: commit positions this often (and at revoke and close). */
export const DEFAULT_AUTO_COMMIT_INTERVAL_MS = 5000;
/** Credit goes back to the server once this share of the window has been consumed. */
export const CREDIT_GRANT_FRACTION = 1 / 4;

// --- socket ---
/** Largest message the Node WebSocket accepts from the server. */
export const CLIENT_MAX_PAYLOAD_BYTES = 512 * 1024 * 1024;
