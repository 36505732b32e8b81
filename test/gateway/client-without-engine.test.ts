// seglog/client needs none of the engine's native addons: importing it (and connecting) loads no
// mmap-io binary, so client-only installs can leave the optional @riaskov/mmap-io out
// (`npm install --omit=optional`); the engine's entry does load it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';

const run = promisify(execFile);
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Imports `entry` in a fresh Node and lists the native shared objects it has loaded that mention mmap. */
async function mmapObjectsAfterImport(entry: string): Promise<string[]> {
  const script = `await import(${JSON.stringify(path.join(dist, entry))});
const objects = process.report.getReport().sharedObjects.filter((o) => /mmap_io/.test(o));
console.log(JSON.stringify(objects));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
  return JSON.parse(stdout) as string[];
}

test('importing seglog/client loads no mmap-io binary; importing the engine does', async (t) => {
  t.deepEqual(await mmapObjectsAfterImport('gateway/client/client.js'), []);
  t.true((await mmapObjectsAfterImport('engine/index.js')).length > 0, 'the engine entry loads the addon (so the check sees it)');
});
