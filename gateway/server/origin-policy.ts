// Who may talk to the gateway, decided from two request headers. A browser lets any page open a
// WebSocket to any address (no same-origin rule for WebSockets) and tells us the page's Origin;
// a DNS-rebinding page reaches 127.0.0.1 under the attacker's own name, which shows in Host. So
// upgrades from a foreign Origin are refused, and so is every request whose Host is not ours.
// Pure: the caller supplies the server's own names and addresses; nothing here does I/O.
import { InvalidArgumentError } from '../../engine/format/errors.js';
import { MAX_QUOTED_HEADER_CHARS } from './limits.js';

/** In `allowOrigins` / `allowHosts`: allow every value. */
export const ALLOW_ALL = '*';

export { MAX_QUOTED_HEADER_CHARS } from './limits.js';

export interface AccessPolicy {
  /** Normalised origins ('scheme://host[:port]', or 'null') allowed besides the server's own; may hold ALL. */
  readonly allowOrigins: ReadonlySet<string>;
  /** Hosts allowed besides the server's own: 'name' (any port) or 'name:port', canonical; may hold ALL. */
  readonly allowHosts: ReadonlySet<string>;
  /** The server's own 'hostname:port' authorities, canonical (IPv6 in brackets). */
  readonly ownAuthorities: ReadonlySet<string>;
}

export interface AccessRequest {
  /** The Origin header; undefined when absent (non-browser clients send none). */
  origin: string | undefined;
  /** The Host header; undefined when absent (HTTP/1.0). */
  host: string | undefined;
  /** A WebSocket upgrade (Origin is checked only there: plain GETs are not readable cross-origin). */
  upgrade: boolean;
}

export type RefusalReason = 'origin' | 'host';

export type AccessVerdict = { allowed: true } | { allowed: false; reason: RefusalReason; message: string };

const ALLOWED: AccessVerdict = { allowed: true };

/** A hostname with an optional port, nothing else: no userinfo, path or whitespace can slip through. */
const AUTHORITY = /^(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)(?::(\d{1,5}))?$/;

/** `host[:port]` → canonical hostname (as a URL would write it) and port (null when absent); null if malformed. */
export function parseAuthority(text: string): { hostname: string; port: number | null } | null {
  const lower = text.trim().toLowerCase();
  const m = AUTHORITY.exec(lower);
  if (m === null) return null;
  let url: URL;
  try {
    // Canonicalises the way browsers do: 127.1 → 127.0.0.1, [0:0::1] → [::1].
    url = new URL(`http://${m[1]}`);
  } catch {
    return null;
  }
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && port > 65535) return null;
  return { hostname: url.hostname, port };
}

/** A bare address or name (IPv6 without brackets, as os.networkInterfaces() and listen() give it) → canonical hostname. */
export function canonicalHostname(name: string): string | null {
  const bare = name.includes('%') ? name.slice(0, name.indexOf('%')) : name; // drop an IPv6 zone id
  return parseAuthority(bare.includes(':') && !bare.startsWith('[') ? `[${bare}]` : bare)?.hostname ?? null;
}

/** An Origin (header or allow-list entry) → 'scheme://host[:port]' without a default port; null if it is not one. */
export function normalizeOrigin(text: string): string | null {
  if (text === 'null') return 'null';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.host === '' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return null;
  if (url.pathname !== '' && url.pathname !== '/') return null;
  return `${url.protocol}//${url.host}`;
}

/** Normalises each entry with `normalize` ('*' kept as is); throws InvalidArgumentError naming a bad one. */
function parseAllowList(entries: readonly string[], normalize: (entry: string) => string | null, noun: string, what: string): Set<string> {
  const out = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    const normal = entry === ALLOW_ALL ? ALLOW_ALL : normalize(entry);
    if (normal === null) throw new InvalidArgumentError(`allowed ${noun} ${JSON.stringify(raw)} is not ${what}`);
    out.add(normal);
  }
  return out;
}

/** Validates and normalises `allowOrigins` entries; throws InvalidArgumentError naming a bad one. */
export function parseAllowedOrigins(entries: readonly string[]): Set<string> {
  return parseAllowList(entries, normalizeOrigin, 'origin', "an origin (scheme://host[:port], 'null' or '*')");
}

/** Validates and normalises `allowHosts` entries ('name', 'name:port', '[v6]:port' or '*'). */
export function parseAllowedHosts(entries: readonly string[]): Set<string> {
  return parseAllowList(
    entries,
    (entry) => {
      const a = parseAuthority(entry);
      return a === null ? null : a.port === null ? a.hostname : `${a.hostname}:${a.port}`;
    },
    'host',
    'a host name or address with an optional :port',
  );
}

/** Loopback names every local server answers to. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];

export function isWildcardAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '' || host === '[::]';
}

/**
 * The server's own authorities: loopback names, the host it was asked to bind (a name or an
 * address) and the address it bound, and, when bound to every interface, the interfaces' addresses.
 * A wildcard it bound counts too (`ws://0.0.0.0:PORT` is what it prints): no attacker's page can
 * have 0.0.0.0 as its origin, and rebinding needs the attacker's name in Host.
 */
export function ownAuthorities(port: number, boundNames: readonly string[], interfaceAddresses: readonly string[] = []): Set<string> {
  const out = new Set<string>();
  for (const name of [...LOOPBACK_NAMES, ...boundNames, ...interfaceAddresses]) {
    const hostname = canonicalHostname(name);
    if (hostname !== null) out.add(`${hostname}:${port}`);
  }
  return out;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** An origin of a page this server itself served: http(s) on one of our own authorities. */
function isOwnOrigin(origin: string, policy: AccessPolicy): boolean {
  if (origin === 'null') return false;
  const url = new URL(origin);
  const defaultPort = DEFAULT_PORTS[url.protocol];
  if (defaultPort === undefined) return false;
  return policy.ownAuthorities.has(`${url.hostname}:${url.port === '' ? defaultPort : url.port}`);
}

function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED_HEADER_CHARS ? `${value.slice(0, MAX_QUOTED_HEADER_CHARS)}…` : value);
}

function checkHost(host: string | undefined, policy: AccessPolicy): AccessVerdict {
  // Browsers always send Host, and DNS rebinding needs a browser: a request without one is not that attack.
  if (host === undefined || policy.allowHosts.has(ALLOW_ALL)) return ALLOWED;
  const a = parseAuthority(host);
  if (a !== null) {
    const port = a.port ?? 80; // the gateway speaks plain HTTP: no port means 80
    if (policy.ownAuthorities.has(`${a.hostname}:${port}`)) return ALLOWED;
    if (policy.allowHosts.has(a.hostname) || policy.allowHosts.has(`${a.hostname}:${port}`)) return ALLOWED;
  }
  return { allowed: false, reason: 'host', message: `Host ${quote(host)} is not this server's name or address (allow it with --allow-host)` };
}

function checkOrigin(origin: string | undefined, policy: AccessPolicy): AccessVerdict {
  // No Origin: not a browser page (Node's ws, the CLI, curl). Browsers always send one on upgrades.
  if (origin === undefined || policy.allowOrigins.has(ALLOW_ALL)) return ALLOWED;
  const normalized = normalizeOrigin(origin.trim());
  if (normalized !== null && (policy.allowOrigins.has(normalized) || isOwnOrigin(normalized, policy))) return ALLOWED;
  return { allowed: false, reason: 'origin', message: `Origin ${quote(origin)} is not allowed to connect (allow it with --allow-origin)` };
}

/**
 * Allow or refuse one request. Host is checked on every request: to the browser a rebinding page
 * is same-origin with us, so it could read /metrics; Origin only on upgrades.
 */
export function decideAccess(request: AccessRequest, policy: AccessPolicy): AccessVerdict {
  const host = checkHost(request.host, policy);
  if (!host.allowed || !request.upgrade) return host;
  return checkOrigin(request.origin, policy);
}
