// The gateway wire protocol, one module per frame family (PROTOCOL.md is the reference).
export * from './codec.js';
export * from './frame.js';
export * from './hello.js';
export * from './produce.js';
export * from './subscribe.js';
export * from './deliver.js';
export * from './fetch.js';
export * from './offsets.js';
export * from './topics.js';
export * from './groups.js';
export * from './ping.js';
export * from './error.js';
