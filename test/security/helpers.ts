// Auth files for security tests: principals with fresh tokens, written as `seglog auth add` does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeAuthFile, type AuthFile } from '../../gateway/server/auth/auth-file.js';
import type { ByteQuota } from '../../gateway/server/auth/principal.js';
import { parseRight } from '../../gateway/server/auth/rights.js';
import { generateToken, hashToken } from '../../gateway/server/auth/tokens.js';

export interface PrincipalSpec {
  rights: string[];
  quota?: ByteQuota;
}

export interface AuthFixture {
  dir: string;
  file: string;
  /** Each principal's token (what a client sends). */
  tokens: Record<string, string>;
  /** Rewrites the file with these principals (new tokens for new names, the same for kept ones). */
  write(specs: Record<string, PrincipalSpec>): void;
  remove(): void;
}

export function authFixture(specs: Record<string, PrincipalSpec>): AuthFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-auth-'));
  const file = path.join(dir, 'auth.json');
  const tokens: Record<string, string> = {};
  const fixture: AuthFixture = {
    dir,
    file,
    tokens,
    write(next) {
      const auth: AuthFile = { principals: new Map() };
      for (const [name, spec] of Object.entries(next)) {
        tokens[name] ??= generateToken();
        auth.principals.set(name, { tokens: [hashToken(tokens[name]!)], rights: spec.rights.map(parseRight), quota: spec.quota ?? {} });
      }
      writeAuthFile(file, auth);
    },
    remove() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  fixture.write(specs);
  return fixture;
}
