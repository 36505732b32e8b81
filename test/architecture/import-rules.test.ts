// The layers of the source tree and who may import whom (README "What is inside"):
//   engine/format/   platform-neutral: record types, batch codec, varint, partitioner, errors; imports only itself
//   engine/          the storage engine (Node); imports itself and format/, never the gateway
//   gateway/protocol/ wire frames, shared by server and client; imports itself and engine/format/
//   gateway/client/  Node and browser client; imports only itself, engine/format/ and gateway/protocol/
//   gateway/server/  the WebSocket server; reaches the engine only through engine/index.ts (and format/)
//   gateway/cli/     the command line; on top of client, server and the engine's public entry
//   gateway/console/ the web console (browser code, bundled by esbuild); the client, protocol and format only
//                    (it reaches the server through the HTTP API and the WebSocket protocol, never its code)
// Read from the TypeScript sources (type-only imports count too: a type is a dependency).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

type Layer = 'format' | 'engine' | 'protocol' | 'client' | 'server' | 'cli' | 'console';

function layerOf(file: string): Layer | null {
  const rel = path.relative(repo, file).split(path.sep).join('/');
  if (rel.startsWith('engine/format/')) return 'format';
  if (rel.startsWith('engine/')) return 'engine';
  if (rel.startsWith('gateway/protocol/')) return 'protocol';
  if (rel.startsWith('gateway/client/')) return 'client';
  if (rel.startsWith('gateway/server/')) return 'server';
  if (rel.startsWith('gateway/cli/')) return 'cli';
  if (rel.startsWith('gateway/console/')) return 'console';
  return null;
}

const ENGINE_ENTRY = path.join(repo, 'engine/index.ts');

/** Whether `from` may import `to` (both layered files). */
function allowed(from: Layer, to: Layer, toFile: string): boolean {
  switch (from) {
    case 'format':
      return to === 'format';
    case 'engine':
      return to === 'engine' || to === 'format';
    case 'protocol':
      return to === 'protocol' || to === 'format';
    case 'client':
      return to === 'client' || to === 'protocol' || to === 'format';
    case 'server':
      return to === 'server' || to === 'protocol' || to === 'format' || toFile === ENGINE_ENTRY;
    case 'console':
      return to === 'console' || to === 'client' || to === 'protocol' || to === 'format';
    case 'cli':
      return to === 'cli' || to === 'client' || to === 'server' || to === 'protocol' || to === 'format' || toFile === ENGINE_ENTRY;
  }
}

/**
 * Imports that break the rules today and are being removed by the architecture work (each names
 * why). The test fails when one is gone without being taken off this list, so it only shrinks.
 */
const KNOWN_EXCEPTIONS: readonly string[] = [];
/** Import cycles being removed (the client's producer and consumer get their own dependencies). */
const KNOWN_CYCLES: readonly string[] = [];

/** `found` must hold only `known` entries, and every `known` entry must still occur (the lists only shrink). */
function checkAgainst(t: import('ava').ExecutionContext, found: string[], known: readonly string[], what: string): void {
  t.deepEqual([...new Set(found.filter((v) => !known.includes(v)))], [], `${what} beyond the known ones`);
  for (const k of known) t.true(found.includes(k), `${k} no longer happens: remove it from the known list`);
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative import specifiers of a file (static, type-only, re-exports, dynamic), resolved to .ts files. */
function importsOf(file: string): { targets: string[]; bare: string[] } {
  const src = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const targets: string[] = [];
  const bare: string[] = [];
  for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|^\s*import\s+'([^']+)'/gm)) {
    const spec = (m[1] ?? m[2] ?? m[3])!;
    if (spec.startsWith('.')) targets.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
    else bare.push(spec);
  }
  return { targets, bare };
}

const files = [...sources(path.join(repo, 'engine')), ...sources(path.join(repo, 'gateway'))];

test('every source file belongs to a layer, and imports follow the layer rules', (t) => {
  t.true(files.length > 40, `found ${files.length} source files`);
  const violations: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    if (from === null) {
      violations.push(`${path.relative(repo, file)} is in no layer`);
      continue;
    }
    for (const target of importsOf(file).targets) {
      const to = layerOf(target);
      if (to === null || !fs.existsSync(target)) {
        violations.push(`${path.relative(repo, file)} imports ${path.relative(repo, target)}, which is not a layered source file`);
        continue;
      }
      if (!allowed(from, to, target)) violations.push(`${path.relative(repo, file)} (${from}) imports ${path.relative(repo, target)} (${to})`);
    }
  }
  checkAgainst(t, violations, KNOWN_EXCEPTIONS, 'layer violations');
});

test('engine/format/ and gateway/protocol/ import no package and no node: module (platform-neutral)', (t) => {
  const neutral = files.filter((f) => layerOf(f) === 'format' || layerOf(f) === 'protocol');
  t.true(neutral.length > 5);
  const offenders = neutral.flatMap((f) => importsOf(f).bare.map((b) => `${path.relative(repo, f)} imports ${b}`));
  t.deepEqual(offenders, []);
});

test('gateway/console/ imports no node: module (it runs in browsers only)', (t) => {
  const consoleFiles = files.filter((f) => layerOf(f) === 'console');
  t.true(consoleFiles.length > 2);
  t.deepEqual(consoleFiles.flatMap((f) => importsOf(f).bare.map((b) => `${path.relative(repo, f)} imports ${b}`)), []);
});

test('no import cycle between source files', (t) => {
  const graph = new Map(files.map((f) => [f, importsOf(f).targets.filter((x) => fs.existsSync(x))]));
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'open') cycles.push([...stack.slice(stack.indexOf(g)), g].map((x) => path.relative(repo, x)).join(' -> '));
      else if (state.get(g) === undefined) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (state.get(f) === undefined) visit(f);
  checkAgainst(t, cycles, KNOWN_CYCLES, 'import cycles');
});
