// Bearer tokens: made here, stored only as a hash. A token carries 256 random bits, so one SHA-256
// is enough to make the stored form useless to a reader of the file (no salt or slow hash is needed
// against guessing: there is nothing guessable). Comparison is constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every token starts with this, so leaked tokens are easy to search for (as GitHub's `ghp_`). */
export const TOKEN_PREFIX = 'sgl_';
const TOKEN_RANDOM_BYTES = 32;
/** How a hash is written in the auth file: `sha256:` and 64 hex digits. */
export const TOKEN_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(TOKEN_RANDOM_BYTES).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/**
 * The digest of `token` compared with each stored hash in constant time (every hash is compared, so
 * the time says nothing about which one matched or how much of it did). Returns the matching hash.
 */
export function matchToken(token: string, storedHashes: readonly string[]): string | null {
  const digest = createHash('sha256').update(token, 'utf8').digest();
  let found: string | null = null;
  for (const stored of storedHashes) {
    const bytes = Buffer.from(stored.slice('sha256:'.length), 'hex');
    if (bytes.length === digest.length && timingSafeEqual(bytes, digest) && found === null) found = stored;
  }
  return found;
}
