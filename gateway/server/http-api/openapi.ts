// The OpenAPI 3.1 description of the HTTP API, served at /api/openapi.json. Kept beside the
// routes and checked against them by test/gateway/http-api.test.ts (every route is described).
import { HTTP_API_DEFAULT_READ_RECORDS, HTTP_API_MAX_BODY_BYTES, HTTP_API_MAX_READ_RECORDS, HTTP_API_MAX_RECORDS_PER_REQUEST } from '../limits.js';

const json = (schema: unknown): unknown => ({ content: { 'application/json': { schema } } });
const ref = (name: string): unknown => ({ $ref: `#/components/schemas/${name}` });
const errors = (...statuses: number[]): Record<string, unknown> =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: ERROR_TEXT[s] ?? 'error', ...(json(ref('Error')) as object) }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'INVALID_ARGUMENT, INVALID_TOPIC_NAME, INVALID_RECORD',
  401: 'AUTHENTICATION_FAILED: no or an invalid Bearer token (authentication on)',
  403: 'NOT_AUTHORIZED: the principal lacks the right',
  404: 'TOPIC_NOT_FOUND, PARTITION_NOT_FOUND, GROUP_NOT_FOUND',
  409: 'TOPIC_EXISTS, GROUP_NOT_EMPTY',
  413: `body larger than ${HTTP_API_MAX_BODY_BYTES} bytes, or a batch larger than the topic's maxBatchBytes`,
  415: 'the body is not application/json',
  416: 'OFFSET_OUT_OF_RANGE',
};
const topicParam = { name: 'topic', in: 'path', required: true, schema: { type: 'string' } };
const groupParam = { name: 'group', in: 'path', required: true, schema: { type: 'string' } };
const bytes = { type: ['string', 'null'], description: 'UTF-8 text, or base64 with encoding "base64"' };

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'seglog HTTP API', version: '1', description: 'Topics, records and consumer groups. With authentication on, send Authorization: Bearer TOKEN; rights are those of the WebSocket protocol.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
        TopicConfig: {
          type: 'object',
          properties: {
            partitions: { type: 'integer' },
            segmentBytes: { type: 'integer' },
            segmentMs: { type: 'integer' },
            retentionMs: { type: 'integer', description: '-1 keeps forever' },
            retentionBytes: { type: 'integer', description: '-1: no limit' },
            compression: { enum: ['none', 'lz4'] },
            maxBatchBytes: { type: 'integer' },
          },
        },
        TopicSummary: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            partitions: { type: 'integer' },
            records: { type: 'integer', description: 'sum of endOffset - startOffset' },
            endOffsets: { type: 'integer', description: 'sum of the end offsets (grows by one per record appended)' },
            bytes: { type: 'integer' },
            newestTimestamp: { type: ['integer', 'null'] },
            config: ref('TopicConfig'),
          },
        },
        Partition: {
          type: 'object',
          properties: {
            partition: { type: 'integer' },
            startOffset: { type: 'integer' },
            endOffset: { type: 'integer' },
            sizeBytes: { type: 'integer' },
            segments: { type: 'integer' },
            newestTimestamp: { type: ['integer', 'null'] },
          },
        },
        RecordIn: {
          type: 'object',
          required: ['value'],
          properties: {
            value: bytes,
            key: bytes,
            headers: { oneOf: [{ type: 'object', additionalProperties: bytes }, { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, value: bytes } } }] },
            partition: { type: 'integer', description: 'default: by the key hash, else one round-robin partition per request' },
            timestamp: { type: 'integer' },
            encoding: { enum: ['text', 'base64'], default: 'text' },
          },
        },
        RecordOut: {
          type: 'object',
          properties: {
            partition: { type: 'integer' },
            offset: { type: 'integer' },
            timestamp: { type: 'integer' },
            key: bytes,
            value: bytes,
            headers: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, value: bytes } } },
          },
        },
      },
    },
    security: [{ bearer: [] }, {}],
    paths: {
      '/api/topics': {
        get: { summary: 'Topics the principal may see', responses: { 200: { description: 'topics', ...(json({ type: 'object', properties: { topics: { type: 'array', items: ref('TopicSummary') } } }) as object) }, ...errors(401) } },
        post: {
          summary: 'Create a topic (admin:topic)',
          requestBody: json({ allOf: [{ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }, ref('TopicConfig')] }),
          responses: { 201: { description: 'created' }, ...errors(400, 401, 403, 409, 413, 415) },
        },
      },
      '/api/topics/{topic}': {
        parameters: [topicParam],
        get: { summary: 'Describe a topic: per-partition offsets, sizes, segments, newest timestamp; configuration', responses: { 200: { description: 'topic', ...(json({ allOf: [ref('TopicSummary'), { type: 'object', properties: { partitions: { type: 'array', items: ref('Partition') } } }] }) as object) }, ...errors(401, 403, 404) } },
        delete: { summary: 'Delete a topic (admin:topic)', responses: { 200: { description: 'deleted' }, ...errors(401, 403, 404) } },
      },
      '/api/topics/{topic}/partitions': {
        parameters: [topicParam],
        post: { summary: 'Grow the topic to `partitions` partitions (admin:topic)', requestBody: json({ type: 'object', required: ['partitions'], properties: { partitions: { type: 'integer' } } }), responses: { 200: { description: 'the topic after' }, ...errors(400, 401, 403, 404, 415) } },
      },
      '/api/topics/{topic}/records': {
        parameters: [topicParam],
        post: {
          summary: `Produce one record or an array of at most ${HTTP_API_MAX_RECORDS_PER_REQUEST} (produce:topic)`,
          requestBody: json({ oneOf: [ref('RecordIn'), { type: 'array', items: ref('RecordIn') }] }),
          responses: { 201: { description: 'offsets, in request order', ...(json({ type: 'object', properties: { offsets: { type: 'array', items: { type: 'object', properties: { partition: { type: 'integer' }, offset: { type: 'integer' } } } } } }) as object) }, ...errors(400, 401, 403, 404, 413, 415) },
        },
      },
      '/api/topics/{topic}/partitions/{partition}/records': {
        parameters: [topicParam, { name: 'partition', in: 'path', required: true, schema: { type: 'integer' } }],
        get: {
          summary: 'Read records of one partition (consume:topic)',
          parameters: [
            { name: 'offset', in: 'query', schema: { type: 'integer' }, description: 'first offset (default: the start); negative counts back from the end (-10: the newest ten)' },
            { name: 'max', in: 'query', schema: { type: 'integer', default: HTTP_API_DEFAULT_READ_RECORDS, maximum: HTTP_API_MAX_READ_RECORDS } },
            { name: 'encoding', in: 'query', schema: { enum: ['text', 'base64'], default: 'text' } },
          ],
          responses: { 200: { description: 'records and the offset to read next', ...(json({ type: 'object', properties: { records: { type: 'array', items: ref('RecordOut') }, nextOffset: { type: 'integer' }, startOffset: { type: 'integer' }, endOffset: { type: 'integer' } } }) as object) }, ...errors(400, 401, 403, 404, 416) },
        },
      },
      '/api/groups': { get: { summary: 'Consumer groups the principal may see', responses: { 200: { description: 'groups' }, ...errors(401) } } },
      '/api/groups/{group}': {
        parameters: [groupParam],
        get: { summary: 'Members, assignments, committed offsets and lag per partition', responses: { 200: { description: 'group' }, ...errors(401, 403, 404) } },
        delete: { summary: 'Delete an empty group (admin:group)', responses: { 200: { description: 'deleted' }, ...errors(401, 403, 404, 409) } },
      },
      '/api/groups/{group}/reset': {
        parameters: [groupParam],
        post: {
          summary: "Move a topic's committed offsets of an empty group (admin:group)",
          requestBody: json({ type: 'object', required: ['topic', 'to'], properties: { topic: { type: 'string' }, to: { oneOf: [{ enum: ['earliest', 'latest'] }, { type: 'object', properties: { offset: { type: 'integer' } } }, { type: 'object', properties: { timestamp: { type: 'integer' } } }] } } }),
          responses: { 200: { description: 'the new offsets' }, ...errors(400, 401, 403, 404, 409, 415) },
        },
      },
      '/api/openapi.json': { get: { summary: 'This description', security: [{}], responses: { 200: { description: 'OpenAPI 3.1' } } } },
    },
  };
}
