// The one place that loads `@riaskov/mmap-io`.
//
// Why not a plain import: the package's entry point finds its native binary through
// @mapbox/node-pre-gyp, which parses process.argv when it loads. A program started with, say,
// `--dir /data` on its command line has that taken as node-pre-gyp's own `--directory`, and the load
// fails with ENOENT. Loading node-pre-gyp (and its dependencies) also costs ~100 ms at startup.
// So the binary is required directly from where the package's install put it (the `binary.module_path`
// of its package.json, or node-gyp's build/Release), with the package's own small `sync` wrapper
// reproduced. If no binary is found there, the package is required the ordinary way, with
// process.argv trimmed to [argv0, argv1] for the duration of that (synchronous) require.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type mmapTypes from '@riaskov/mmap-io';

/** The mmap-io API (its typings declare an ES default export; at run time it is module.exports). */
export type MmapApi = typeof mmapTypes.default;

const require = createRequire(import.meta.url);

type RawBinding = Omit<MmapApi, 'sync'> & {
  sync_lib_private__?: (buf: Buffer, offset: number, length: number, blocking: boolean, invalidate: boolean) => void;
};

/** Where the package's install leaves the binary (mirrors its package.json `binary.module_path`). */
function binaryCandidates(packageDir: string): string[] {
  const abi = `node-v${process.versions.modules}-${process.platform}-${process.arch}`;
  return [
    path.join(packageDir, 'build', 'binding', 'Release', abi, 'mmap_io.node'),
    path.join(packageDir, 'build', 'Release', 'mmap_io.node'),
  ];
}

function loadBinaryDirectly(): MmapApi | null {
  let packageDir: string;
  try {
    packageDir = path.dirname(require.resolve('@riaskov/mmap-io/package.json'));
  } catch {
    return null;
  }
  for (const file of binaryCandidates(packageDir)) {
    if (!fs.existsSync(file)) continue;
    try {
      const raw = require(file) as RawBinding;
      const rawSync = raw.sync_lib_private__;
      if (typeof raw.map !== 'function' || typeof rawSync !== 'function') continue;
      // The package's wrapper (dist/mmap-io.js): sync(buf, [offset, length,] blocking, invalidate).
      const sync = (buf: Buffer, a?: number | boolean, b?: number | boolean, c?: boolean, d?: boolean): void => {
        if (typeof a === 'boolean') rawSync(buf, 0, buf.length, a, (b as boolean | undefined) ?? false);
        else rawSync(buf, a ?? 0, (b as number | undefined) || buf.length, c ?? false, d ?? false);
      };
      return { ...raw, sync } as unknown as MmapApi;
    } catch {
      // a stale or foreign binary: try the next place, then the package itself
    }
  }
  return null;
}

function loadThroughPackage(): MmapApi {
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  try {
    const loaded = require('@riaskov/mmap-io') as MmapApi & { default?: MmapApi };
    return loaded.default ?? loaded;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    // An optional dependency: skipped by `npm install --omit=optional` (client-only installs) or a failed build.
    throw new Error("seglog's storage engine needs the native addon @riaskov/mmap-io, which is not installed (an optional dependency: skipped with --omit=optional, or its build failed; see native-notes.md). The client, seglog/client, does not need it.", { cause: e });
  } finally {
    process.argv = argv;
  }
}

// SEGLOG_MMAP_LOAD=package forces the fallback (tests and diagnosis).
export const mmap: MmapApi = (process.env.SEGLOG_MMAP_LOAD === 'package' ? null : loadBinaryDirectly()) ?? loadThroughPackage();

/** PROT_READ | PROT_WRITE. */
export const PROT_READ_WRITE = 3 as const;
