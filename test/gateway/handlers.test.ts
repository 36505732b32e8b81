// The server's request handlers: one per client-to-server frame type (HELLO is the session's own),
// none for server-to-client types; and the server uses only ws' public API.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { FrameType } from '../../gateway/protocol/frame.js';
import { HANDLERS } from '../../gateway/server/handlers/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('every request type has a handler; HELLO and server-to-client types have none', (t) => {
  for (const [name, code] of Object.entries(FrameType)) {
    const expected = code < 0x80 && name !== 'HELLO';
    t.is(HANDLERS[code] !== undefined, expected, name);
  }
  t.is(HANDLERS.length, 256);
});

test("gateway/server/ does not reach into ws' private fields", (t) => {
  const dir = path.join(repo, 'gateway/server');
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  t.true(files.length > 10);
  for (const f of files) t.false(/\._socket\b/.test(fs.readFileSync(path.join(dir, f), 'utf8')), f);
});
