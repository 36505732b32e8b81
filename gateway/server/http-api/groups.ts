// /api/groups: list, describe (members, assignments, committed offsets, lag), reset, delete.
// Rights as the WebSocket's group frames (handlers/groups.ts): some right on a group to see it,
// admin:group to reset or delete it.
import { InvalidArgumentError } from '../../../engine/format/errors.js';
import type { ResetTarget } from '../../../engine/index.js';
import { intParam, objectBody, type Route } from './route.js';

function resetTarget(v: unknown): ResetTarget {
  if (v === 'earliest' || v === 'latest') return v;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if ('offset' in o) return { offset: intParam(o['offset'], 'to.offset', undefined) };
    if ('timestamp' in o) return { timestamp: intParam(o['timestamp'], 'to.timestamp', undefined) };
  }
  throw new InvalidArgumentError(`"to" must be "earliest", "latest", { "offset": N } or { "timestamp": MS }, got ${JSON.stringify(v)}`);
}

export const groupRoutes: Route[] = [
  {
    method: 'GET',
    path: '/groups',
    handle(req) {
      return { body: { groups: req.engine.listGroups().filter((g) => req.sees('group', g.group)) } };
    },
  },
  {
    method: 'GET',
    path: '/groups/:group',
    handle(req) {
      const group = req.params['group']!;
      if (!req.sees('group', group)) req.authorize('admin', 'group', group);
      const d = req.engine.describeGroup(group);
      let totalLag = 0;
      for (const o of d.offsets) totalLag += o.lag ?? 0;
      return { body: { ...d, totalLag } };
    },
  },
  {
    method: 'POST',
    path: '/groups/:group/reset',
    async handle(req) {
      const group = req.params['group']!;
      req.authorize('admin', 'group', group);
      const body = objectBody(req.body, 'POST /api/groups/:group/reset');
      if (typeof body['topic'] !== 'string') throw new InvalidArgumentError('"topic" (a string) is required');
      const offsets = await req.engine.resetGroupOffsets(group, body['topic'], resetTarget(body['to']));
      return { body: { group, topic: body['topic'], offsets } };
    },
  },
  {
    method: 'DELETE',
    path: '/groups/:group',
    async handle(req) {
      const group = req.params['group']!;
      req.authorize('admin', 'group', group);
      await req.engine.deleteGroup(group);
      return { body: { deleted: group } };
    },
  },
];
