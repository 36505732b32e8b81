// The console's calls to the HTTP API (/api on the page's own origin), with the token when one
// was given. A 401 asks for a token (onUnauthorized); other errors carry the API's { code, message }.
import type { PartitionDescription, TopicConfig } from '../../engine/format/topic-types.js';

export type { PartitionDescription as PartitionInfo };

const TOKEN_KEY = 'seglog-token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const auth = {
  /** Kept for the tab only (sessionStorage): closing it forgets the token. */
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(t: string | null) {
    if (t === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, t);
  },
  onUnauthorized: (): void => {},
};

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = auth.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  const answer = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
  if (!res.ok) {
    if (res.status === 401) auth.onUnauthorized();
    throw new ApiError(res.status, answer.code ?? 'INTERNAL', answer.message ?? `HTTP ${res.status}`);
  }
  return answer as T;
}

export const enc = encodeURIComponent;

/** A row of GET /api/topics (gateway/server/http-api/topics.ts topicSummary). */
export interface TopicSummary {
  name: string;
  partitions: number;
  records: number;
  endOffsets: number;
  bytes: number;
  newestTimestamp: number | null;
  config: TopicConfig;
}
export interface GroupListing {
  group: string;
  state: string;
  members: number;
}
export interface GroupDescription {
  group: string;
  state: string;
  groupEpoch: number;
  totalLag: number;
  members: Array<{ memberId: string; clientId: string; topics: string[]; assignment: Array<{ topic: string; partitions: number[] }> }>;
  offsets: Array<{ topic: string; partition: number; committed: number | null; endOffset: number; lag: number | null; memberId: string | null }>;
}
