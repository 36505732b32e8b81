// The Node flags `seglog serve` runs with. The bin's shebang passes them (`env -S`), and so do
// `npm start` and the bench when they start the CLI with `node`; test/gateway/serve-node-flags.test.ts
// checks that the three agree and that the bin really runs with them.
//
// Why: every WebSocket message and socket read is a fresh Buffer outside the JS heap, and V8 counts
// those bytes against the old generation's first limit, which for a gateway's ~10 MiB heap is small.
// At 2M records/s of produce that meant a mark-compact every 30–40 ms, ~40% of the server's busy
// time; a first limit of 64 MiB cut them by two thirds and the server's CPU per record by a third
// (bench/README.md, "Old-space start size"). The cost is up to that much garbage held between
// collections.

/** V8's initial old-space size for the server, in MiB. */
export const SERVE_INITIAL_OLD_SPACE_MIB = 64;

/** The flags, as `node` takes them before the script. */
export const SERVE_NODE_FLAGS: readonly string[] = [`--initial-old-space-size=${SERVE_INITIAL_OLD_SPACE_MIB}`];
