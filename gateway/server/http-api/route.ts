// What a route of the HTTP API is and sees (api.ts routes requests to them), and the parameter
// checks they share. Apart from api.ts so the resource modules do not import their router.
import { InvalidArgumentError } from '../../../engine/format/errors.js';
import type { Principal } from '../auth/principal.js';
import type { Action, ResourceKind } from '../auth/rights.js';
import type { GatewayEngine } from '../engine-port.js';

/** One API request as a route handler sees it. */
export interface ApiRequest {
  readonly engine: GatewayEngine;
  readonly principal: Principal;
  /** Path parameters (`:topic` → params.topic), decoded. */
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  /** The parsed JSON body (POST only; undefined without one). */
  readonly body: unknown;
  /** Throws NOT_AUTHORIZED (counted and logged as the WebSocket refusals) unless the principal may. */
  authorize(action: Action, kind: ResourceKind, name: string): void;
  sees(kind: ResourceKind, name: string): boolean;
}

/** A handler's answer: status (default 200) and the JSON body. */
export interface ApiAnswer {
  status?: number;
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Segments after /api, `:name` for a parameter. */
  path: string;
  handle(req: ApiRequest): Promise<ApiAnswer> | ApiAnswer;
}

/** Reads an integer parameter (query or body), or `fallback` when absent. */
export function intParam(value: unknown, name: string, fallback: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === null || value === '') {
    if (fallback === undefined) throw new InvalidArgumentError(`${name} is required`);
    return fallback;
  }
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** The body as a plain object, or INVALID_ARGUMENT. */
export function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError(`${what}: the body must be a JSON object`);
  return body as Record<string, unknown>;
}
