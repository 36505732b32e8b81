// ApiVersions: every API this listener serves with its version range. A client that sends a
// version we do not serve gets the v0 layout with UNSUPPORTED_VERSION and the list (connection.ts
// builds that answer before decoding), and retries with a version from it.
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { KafkaError } from '../errors.js';

export function apiVersionsBody(ctx: KafkaContext, errorCode: number): Struct {
  const apiKeys = [...ctx.apis.values()]
    .map((a) => ({ apiKey: a.schema.apiKey, minVersion: a.schema.versions.min, maxVersion: a.schema.versions.max }))
    .sort((a, b) => a.apiKey - b.apiKey);
  return { errorCode, apiKeys, throttleTimeMs: 0 };
}

export function apiVersions(ctx: KafkaContext, _req: Struct, _info: RequestInfo): Struct {
  return apiVersionsBody(ctx, KafkaError.NONE);
}
