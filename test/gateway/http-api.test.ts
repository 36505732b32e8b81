// The HTTP API (/api) against a real gateway on 127.0.0.1: topics, records, groups, errors as
// { code, message } with their statuses, the body limit, the OpenAPI description, and the same
// authentication and rights as the WebSocket protocol.
import test from 'ava';
import net from 'node:net';
import { decodeRecords } from '../../engine/record-batch.js';
import { HTTP_API_MAX_READ_RECORDS, HTTP_API_MAX_RECORDS_PER_REQUEST } from '../../gateway/server/limits.js';
import { authFixture } from '../security/helpers.js';
import { startGateway, take, type Harness } from './helpers.js';

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

async function api(h: Harness, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(`${h.server.httpUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

test('topics: create, list, describe, add partitions, delete; errors are { code, message } with fitting statuses', async (t) => {
  const h = await startGateway();
  try {
    const created = await api(h, 'POST', '/api/topics', { name: 'orders', partitions: 2, retentionMs: 3_600_000 });
    t.is(created.status, 201);
    t.is(created.body.partitions.length, 2);
    t.is(created.body.config.retentionMs, 3_600_000);
    t.is((await api(h, 'POST', '/api/topics', { name: 'orders' })).body.code, 'TOPIC_EXISTS');
    t.is((await api(h, 'POST', '/api/topics', { name: 'orders' })).status, 409);
    const bad = await api(h, 'POST', '/api/topics', { name: 'x', colour: 'red' });
    t.deepEqual([bad.status, bad.body.code], [400, 'INVALID_ARGUMENT']);
    t.deepEqual([(await api(h, 'POST', '/api/topics', { name: '../x' })).status, (await api(h, 'POST', '/api/topics', { name: '../x' })).body.code], [400, 'INVALID_TOPIC_NAME']);
    const list = await api(h, 'GET', '/api/topics');
    t.deepEqual(list.body.topics.map((x: { name: string }) => x.name), ['orders']);
    const grown = await api(h, 'POST', '/api/topics/orders/partitions', { partitions: 3 });
    t.is(grown.status, 200);
    t.is(h.engine.describeTopic('orders').partitions.length, 3);
    const d = await api(h, 'GET', '/api/topics/orders');
    t.deepEqual(Object.keys(d.body.partitions[0]).sort(), ['endOffset', 'newestTimestamp', 'partition', 'segments', 'sizeBytes', 'startOffset']);
    const missing = await api(h, 'GET', '/api/topics/nope');
    t.deepEqual([missing.status, missing.body.code], [404, 'TOPIC_NOT_FOUND']);
    t.is(typeof missing.body.message, 'string');
    t.is((await api(h, 'DELETE', '/api/topics/orders')).status, 200);
    t.deepEqual(h.engine.listTopics(), []);
    const nowhere = await api(h, 'GET', '/api/nothing-here');
    t.deepEqual([nowhere.status, nowhere.body.code], [404, 'INVALID_ARGUMENT']);
    t.is((await api(h, 'PUT', '/api/topics')).status, 405);
    const notJson = await fetch(`${h.server.httpUrl}/api/topics`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"name":"a"}' });
    t.is(notJson.status, 415, 'a form-like body (no CORS preflight) is refused');
    const garbled = await fetch(`${h.server.httpUrl}/api/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    t.is(garbled.status, 400);
    t.is(((await garbled.json()) as { code: string }).code, 'INVALID_ARGUMENT');
  } finally {
    await h.stop();
  }
});

test('records: produce text and base64 with keys and headers, a Node consumer reads them; read back with offset, max and a negative offset', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('events', { partitions: 3, compression: 'lz4' });
    const one = await api(h, 'POST', '/api/topics/events/records', { value: 'héllo', key: 'k1', headers: { trace: 't-1' }, partition: 1 });
    t.is(one.status, 201);
    t.deepEqual(one.body.offsets, [{ partition: 1, offset: 0 }]);
    const many = await api(h, 'POST', '/api/topics/events/records', [
      { value: Buffer.from([0, 255, 1]).toString('base64'), encoding: 'base64', partition: 1 },
      { value: null, partition: 1 },
      { value: 'keyed', key: 'user-7' },
    ]);
    t.deepEqual(many.body.offsets.slice(0, 2), [{ partition: 1, offset: 1 }, { partition: 1, offset: 2 }]);
    // The key decides the partition as every client's partitioner does.
    const { partitionForKey } = await import('../../engine/format/partitioner.js');
    t.is(many.body.offsets[2].partition, partitionForKey('user-7', 3));
    // The topic asks for LZ4: the batch the API encoded is compressed (attributes bits 0-2 = 3).
    const stored = h.engine.readBatches('events', 1, 0).batches[0]!;
    t.is(stored.readInt16BE(21) & 0x7, 3);
    t.is(decodeRecords(stored)[0]!.value!.toString(), 'héllo');
    // A Node client reads what the API wrote.
    const c = await h.connect();
    const consumer = c.subscribe('events', { partitions: [1], from: 'earliest' });
    const seen = await take(consumer[Symbol.asyncIterator](), 3);
    t.deepEqual(seen.map((r) => (r.value === null ? null : Buffer.from(r.value).toString('hex'))), [Buffer.from('héllo').toString('hex'), '00ff01', null]);
    t.is(Buffer.from(seen[0]!.key!).toString(), 'k1');
    t.deepEqual(seen[0]!.headers.map((x) => [x.key, Buffer.from(x.value!).toString()]), [['trace', 't-1']]);
    await consumer.close();
    // Read back.
    const read = await api(h, 'GET', '/api/topics/events/partitions/1/records?offset=1&max=1&encoding=base64');
    t.deepEqual(read.body.records.map((r: { offset: number; value: string }) => [r.offset, r.value]), [[1, 'AP8B']]);
    t.is(read.body.nextOffset, 2);
    const tail = await api(h, 'GET', '/api/topics/events/partitions/1/records?offset=-2');
    t.deepEqual(tail.body.records.map((r: { offset: number }) => r.offset), [1, 2]);
    const all = await api(h, 'GET', '/api/topics/events/partitions/1/records');
    t.is(all.body.records[0].value, 'héllo');
    t.deepEqual(all.body.records[0].headers, [{ key: 'trace', value: 't-1' }]);
    const far = await api(h, 'GET', '/api/topics/events/partitions/1/records?offset=99');
    t.deepEqual([far.status, far.body.code], [416, 'OFFSET_OUT_OF_RANGE']);
    const noPartition = await api(h, 'GET', '/api/topics/events/partitions/9/records');
    t.deepEqual([noPartition.status, noPartition.body.code], [404, 'PARTITION_NOT_FOUND']);
    const tooMany = await api(h, 'GET', `/api/topics/events/partitions/1/records?max=${HTTP_API_MAX_READ_RECORDS + 1}`);
    t.is(tooMany.status, 400, 'HTTP_API_MAX_READ_RECORDS');
    const badField = await api(h, 'POST', '/api/topics/events/records', { value: 'x', colour: 1 });
    t.deepEqual([badField.status, badField.body.code], [400, 'INVALID_ARGUMENT']);
  } finally {
    await h.stop();
  }
});

test('limits: a body above the limit is refused 413 (declared or streamed), more records than HTTP_API_MAX_RECORDS_PER_REQUEST 400, a read stops at HTTP_API_MAX_READ_BYTES', async (t) => {
  const h = await startGateway({}, { apiMaxBodyBytes: 4096 });
  try {
    await h.engine.createTopic('big', { partitions: 1 });
    const large = await api(h, 'POST', '/api/topics/big/records', { value: 'x'.repeat(5000) });
    t.deepEqual([large.status, large.body.code], [413, 'BATCH_TOO_LARGE']);
    // Chunked (no Content-Length): cut off once it passes the limit.
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(h.server.port, '127.0.0.1', () => {
        s.write(`POST /api/topics/big/records HTTP/1.1\r\nHost: 127.0.0.1:${h.server.port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
        const chunk = `{"value":"${'y'.repeat(8000)}"}`;
        s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    t.regex(answer, /^HTTP\/1.1 413/);
    t.deepEqual(h.engine.offsets('big', 0), { startOffset: 0, endOffset: 0 });
  } finally {
    await h.stop();
  }
  const h2 = await startGateway();
  try {
    await h2.engine.createTopic('big', { partitions: 1 });
    const over = await api(h2, 'POST', '/api/topics/big/records', Array.from({ length: HTTP_API_MAX_RECORDS_PER_REQUEST + 1 }, () => ({ value: '' })));
    t.deepEqual([over.status, over.body.code], [400, 'INVALID_ARGUMENT']);
    t.regex(over.body.message, /HTTP_API_MAX_RECORDS_PER_REQUEST/);
    // Three batches of ~600 KB: one read (1 MiB of batches at most) returns the first whole batch only.
    for (let i = 0; i < 3; i++) {
      const r = await api(h2, 'POST', '/api/topics/big/records', Array.from({ length: 6 }, (_, j) => ({ value: `${i}-${j}-`.padEnd(100_000, 'z') })));
      t.is(r.status, 201);
    }
    const read = await api(h2, 'GET', '/api/topics/big/partitions/0/records?max=1000');
    t.true(read.body.records.length >= 6 && read.body.records.length < 18, `${read.body.records.length} records`);
    t.is(read.body.nextOffset, read.body.records.length);
    const rest = await api(h2, 'GET', `/api/topics/big/partitions/0/records?offset=${read.body.nextOffset}&max=1000`);
    t.is(rest.body.records[0].offset, read.body.nextOffset);
  } finally {
    await h2.stop();
  }
});

test('groups: list, describe with lag, reset', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('jobs', { partitions: 1 });
    await api(h, 'POST', '/api/topics/jobs/records', [{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    await h.engine.commit('workers', 'jobs', 0, 1);
    const list = await api(h, 'GET', '/api/groups');
    t.deepEqual(list.body.groups.map((g: { group: string }) => g.group), ['workers']);
    const d = await api(h, 'GET', '/api/groups/workers');
    t.deepEqual(d.body.offsets.map((o: { committed: number; lag: number }) => [o.committed, o.lag]), [[1, 2]]);
    t.is(d.body.totalLag, 2);
    const reset = await api(h, 'POST', '/api/groups/workers/reset', { topic: 'jobs', to: 'latest' });
    t.deepEqual(reset.body.offsets, [{ partition: 0, offset: 3 }]);
    t.is((await api(h, 'GET', '/api/groups/workers')).body.totalLag, 0);
    const badTarget = await api(h, 'POST', '/api/groups/workers/reset', { topic: 'jobs', to: 'middle' });
    t.is(badTarget.status, 400);
    t.is((await api(h, 'GET', '/api/groups/nobody')).status, 404);
  } finally {
    await h.stop();
  }
});

test('auth: Bearer token → principal → rights; 401 without, 403 NOT_AUTHORIZED without the right; lists show only what the principal sees', async (t) => {
  const auth = authFixture({
    reader: { rights: ['consume:orders', 'consume:group:billing'] },
    admin: { rights: ['admin:topic:*', 'produce:topic:*', 'consume:topic:*', 'admin:group:*', 'consume:group:*'] },
  });
  const h = await startGateway({}, { authFile: auth.file, authFailureLimits: { delayMs: 1, failuresMax: 1000 } });
  try {
    const { admin, reader } = auth.tokens as { admin: string; reader: string };
    const none = await api(h, 'GET', '/api/topics');
    t.deepEqual([none.status, none.body.code], [401, 'AUTHENTICATION_FAILED']);
    t.is(none.headers.get('www-authenticate'), 'Bearer');
    t.is((await api(h, 'GET', '/api/topics', undefined, 'sg_wrong')).status, 401);
    t.is((await api(h, 'GET', '/api/openapi.json')).status, 200, 'the description is public');
    t.is((await api(h, 'POST', '/api/topics', { name: 'orders' }, admin)).status, 201);
    t.is((await api(h, 'POST', '/api/topics', { name: 'secret' }, admin)).status, 201);
    const refused = await api(h, 'POST', '/api/topics', { name: 'mine' }, reader);
    t.deepEqual([refused.status, refused.body.code], [403, 'NOT_AUTHORIZED']);
    t.deepEqual(h.engine.listTopics().sort(), ['orders', 'secret']);
    t.deepEqual((await api(h, 'GET', '/api/topics', undefined, reader)).body.topics.map((x: { name: string }) => x.name), ['orders']);
    t.is((await api(h, 'GET', '/api/topics/secret', undefined, reader)).status, 403, 'refused before the engine is asked');
    t.is((await api(h, 'GET', '/api/topics/nothing', undefined, reader)).status, 403, 'existence stays hidden');
    t.is((await api(h, 'POST', '/api/topics/orders/records', { value: 'x' }, reader)).status, 403);
    t.is((await api(h, 'POST', '/api/topics/orders/records', { value: 'x' }, admin)).status, 201);
    t.is((await api(h, 'GET', '/api/topics/orders/partitions/0/records', undefined, reader)).body.records[0].value, 'x');
    t.is((await api(h, 'DELETE', '/api/topics/orders', undefined, reader)).status, 403);
    await h.engine.commit('billing', 'orders', 0, 1);
    await h.engine.commit('audit', 'orders', 0, 1);
    t.deepEqual((await api(h, 'GET', '/api/groups', undefined, reader)).body.groups.map((g: { group: string }) => g.group), ['billing']);
    t.is((await api(h, 'GET', '/api/groups/audit', undefined, reader)).status, 403);
    t.is((await api(h, 'POST', '/api/groups/billing/reset', { topic: 'orders', to: 'earliest' }, reader)).status, 403);
    t.is((await api(h, 'POST', '/api/groups/billing/reset', { topic: 'orders', to: 'earliest' }, admin)).status, 200);
    const text = await h.server.metrics.registry.getSingleMetricAsString('seglog_not_authorized_total');
    t.regex(text, /action="admin",kind="topic"\} [1-9]/);
  } finally {
    await h.stop();
    auth.remove();
  }
});

test('OpenAPI description at /api/openapi.json names every route', async (t) => {
  const h = await startGateway();
  try {
    const doc = await api(h, 'GET', '/api/openapi.json');
    t.is(doc.status, 200);
    t.is(doc.body.openapi, '3.1.0');
    const { topicRoutes } = await import('../../gateway/server/http-api/topics.js');
    const { recordRoutes } = await import('../../gateway/server/http-api/records.js');
    const { groupRoutes } = await import('../../gateway/server/http-api/groups.js');
    for (const r of [...topicRoutes, ...recordRoutes, ...groupRoutes]) {
      const path = `/api${r.path.replace(/:(\w+)/g, '{$1}')}`;
      t.truthy(doc.body.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path} is described`);
    }
  } finally {
    await h.stop();
  }
});
