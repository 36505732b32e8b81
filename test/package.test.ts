// The package's public entry points resolve by name, as a user imports them, and the README's
// embedded example runs as written.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test("import { Engine } from 'seglog' and 'seglog/client' resolve to the built modules", async (t) => {
  const main = await import('seglog');
  t.is(typeof main.Engine.open, 'function');
  t.is(typeof main.OffsetOutOfRangeError, 'function');
  const client = await import('seglog/client');
  t.is(typeof client.SeglogClient.connect, 'function');
  // An error from the engine carries its stable code.
  const engine = await main.Engine.open({ memory: true });
  try {
    const err = t.throws(() => engine.describeTopic('nope'));
    t.is((err as { code?: string }).code, 'TOPIC_NOT_FOUND');
  } finally {
    await engine.close();
  }
});

test("the README's embedded example runs and prints the records it produced", async (t) => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  t.truthy(block, 'README has a ts example');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-readme-'));
  try {
    // The example is plain JavaScript apart from its types; it must run as an ES module from the
    // package (so 'seglog' resolves by self-reference), with its data dir moved to a temp dir.
    const code = block![1]!.replace("'./example-data'", JSON.stringify(path.join(dir, 'data')));
    const script = path.join(root, 'dist', `readme-example-${process.pid}.mjs`);
    fs.writeFileSync(script, code);
    try {
      // Twice on the same directory: the example must run again as a reader of the README would.
      for (let round = 0; round < 2; round++) {
        const { stdout } = await run(process.execPath, [script], { cwd: dir, timeout: 30_000 });
        const lines = stdout.trim().split('\n');
        t.is(lines.length, 2);
        t.regex(lines[0]!, /^\d 0 customer-17 \{"total":42\}$/);
        t.regex(lines[1]!, /^\d 1 customer-99 hello$/);
      }
    } finally {
      fs.rmSync(script, { force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("import { GatewayServer } from 'seglog/server' embeds the gateway in an app; source maps carry their sources", async (t) => {
  const { Engine } = await import('seglog');
  const { GatewayServer } = await import('seglog/server');
  const engine = await Engine.open({ memory: true });
  const server = await GatewayServer.start({ engine, host: '127.0.0.1', port: 0, log: () => {} });
  try {
    const res = await fetch(`${server.httpUrl}/healthz`);
    t.is(res.status, 200);
  } finally {
    await server.close();
    await engine.close();
  }
  // The package ships dist/ but not the .ts sources: each map must hold its sources' text.
  const map = JSON.parse(fs.readFileSync(path.join(root, 'dist/engine/engine.js.map'), 'utf8')) as { sourcesContent?: string[] };
  t.true((map.sourcesContent?.[0]?.length ?? 0) > 0);
  t.true(fs.existsSync(path.join(root, 'LICENSE')));
});
