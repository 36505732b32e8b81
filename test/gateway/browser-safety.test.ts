// The client library's import graph must run in a browser: no node: modules, no Buffer, no
// static import of `ws` (it is loaded by name only where there is no global WebSocket).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..'); // dist/

function importGraph(entry: string): { files: string[]; bare: Set<string> } {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const queue = [entry];
  while (queue.length > 0 && seen.size < 500) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec));
      else bare.add(spec);
    }
  }
  return { files: [...seen], bare };
}

test('seglog/client imports nothing Node-only', (t) => {
  const { files, bare } = importGraph(path.join(root, 'gateway/client/client.js'));
  t.true(files.length > 10);
  t.deepEqual([...bare].sort(), ['crc-32/crc32c.js', 'lz4js']);
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    t.false(/\bBuffer\b/.test(src), `${path.relative(root, f)} uses Buffer`);
    t.false(/\bprocess\./.test(src), `${path.relative(root, f)} uses process`);
    t.false(/from 'node:/.test(src), `${path.relative(root, f)} imports node:`);
  }
});
