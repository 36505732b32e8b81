// The one place that loads `@riaskov/mmap-io`.
//
// Why not a plain import: the package finds its native binary through @mapbox/node-pre-gyp, which
// parses process.argv when it loads. A program started with, say, `--dir /data` on its command line
// has that taken as node-pre-gyp's own `--directory`, and the load fails with ENOENT. So the package
// is required here with process.argv trimmed to [argv0, argv1] for the duration of the require and
// restored right after (it is synchronous, so no other code can observe the trimmed argv).
import { createRequire } from 'node:module';
import type mmapTypes from '@riaskov/mmap-io';

/** The mmap-io API (its typings declare an ES default export; at run time it is module.exports). */
export type MmapApi = typeof mmapTypes.default;

const require = createRequire(import.meta.url);

function loadMmap(): MmapApi {
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  try {
    const loaded = require('@riaskov/mmap-io') as MmapApi & { default?: MmapApi };
    return loaded.default ?? loaded;
  } finally {
    process.argv = argv;
  }
}

export const mmap: MmapApi = loadMmap();

/** PROT_READ | PROT_WRITE. */
export const PROT_READ_WRITE = 3 as const;
