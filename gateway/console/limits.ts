// The console's limits (units in the names): what the page keeps and how often it asks.

/** How often the page asks the API for the figures it shows (topics, the open page, health). */
export const POLL_INTERVAL_MS = 2000;
/** Rows the live tail keeps; older rows are dropped from the top (a busy topic must not grow the page without end). */
export const TAIL_ROWS_MAX = 500;
/** Bytes of a value or key shown in a tail row; the rest is cut with "…" (the full value is in the row's title up to TITLE_CHARS_MAX). */
export const TAIL_VALUE_SHOWN_BYTES_MAX = 512;
export const TITLE_CHARS_MAX = 4096;
/** Credit window of the tail's subscription: while paused, at most this much waits in the page. */
export const TAIL_BUFFERED_BYTES_MAX = 256 * 1024;
/** Throughput samples kept (one per poll): the chart's width in samples. */
export const CHART_SAMPLES_MAX = 60;
/** The topics table's throughput column: records appended over this window. */
export const THROUGHPUT_WINDOW_MS = 60_000;
