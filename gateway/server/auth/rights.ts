// Rights of a principal: an action on topics or groups named exactly or by prefix, and `metrics`
// (reading /metrics). Written as text in the auth file and on the command line:
//   produce:orders          produce to the topic "orders"
//   consume:orders.*        consume every topic whose name starts with "orders."
//   admin:topic:*           create, delete, add partitions to any topic
//   consume:group:billing   join / commit as the group "billing"
//   admin:group:billing-*   reset and delete groups starting with "billing-"
//   metrics                 GET /metrics with this principal's token
import { InvalidArgumentError } from '../../../engine/format/errors.js';

export type Action = 'produce' | 'consume' | 'admin';
export type ResourceKind = 'topic' | 'group';

const ACTIONS: readonly Action[] = ['produce', 'consume', 'admin'];
/** Which actions apply to which kind of resource. */
const ACTIONS_BY_KIND: Record<ResourceKind, readonly Action[]> = { topic: ['produce', 'consume', 'admin'], group: ['consume', 'admin'] };
/** Longest pattern accepted (a group name is at most 255 bytes). */
const PATTERN_MAX_CHARS = 256;

export interface Right {
  action: Action;
  kind: ResourceKind;
  /** The name, or the prefix when `prefix` is set (`orders.*` → `orders.`; `*` → ``). */
  name: string;
  prefix: boolean;
}

export type ParsedRight = Right | 'metrics';

export function parseRight(text: string): ParsedRight {
  const t = text.trim();
  if (t === 'metrics') return 'metrics';
  const first = t.indexOf(':');
  if (first < 0) throw new InvalidArgumentError(`right ${JSON.stringify(text)}: expected ACTION:TOPIC, ACTION:topic:PATTERN, ACTION:group:PATTERN or metrics`);
  const action = t.slice(0, first) as Action;
  if (!ACTIONS.includes(action)) throw new InvalidArgumentError(`right ${JSON.stringify(text)}: the action must be one of ${ACTIONS.join(', ')}`);
  let rest = t.slice(first + 1);
  let kind: ResourceKind = 'topic';
  for (const k of ['topic', 'group'] as const) {
    if (rest.startsWith(`${k}:`)) {
      kind = k;
      rest = rest.slice(k.length + 1);
      break;
    }
  }
  if (!ACTIONS_BY_KIND[kind].includes(action)) throw new InvalidArgumentError(`right ${JSON.stringify(text)}: ${action} does not apply to a ${kind}`);
  if (rest === '' || rest.length > PATTERN_MAX_CHARS) throw new InvalidArgumentError(`right ${JSON.stringify(text)}: the ${kind} pattern must be 1..${PATTERN_MAX_CHARS} characters`);
  const prefix = rest.endsWith('*');
  const name = prefix ? rest.slice(0, -1) : rest;
  if (name.includes('*')) throw new InvalidArgumentError(`right ${JSON.stringify(text)}: * may only end a pattern (a prefix)`);
  return { action, kind, name, prefix };
}

export function formatRight(r: ParsedRight): string {
  if (r === 'metrics') return 'metrics';
  return `${r.action}:${r.kind}:${r.name}${r.prefix ? '*' : ''}`;
}

/** What one principal may do. Immutable; a reload of the auth file makes new ones. */
export class Rights {
  /** Everything (authentication off, or a verified client certificate without an auth file). */
  static readonly ALL = new Rights([
    { action: 'produce', kind: 'topic', name: '', prefix: true },
    { action: 'consume', kind: 'topic', name: '', prefix: true },
    { action: 'admin', kind: 'topic', name: '', prefix: true },
    { action: 'consume', kind: 'group', name: '', prefix: true },
    { action: 'admin', kind: 'group', name: '', prefix: true },
    'metrics',
  ]);

  private readonly rights: readonly Right[];
  readonly metrics: boolean;

  constructor(parsed: readonly ParsedRight[]) {
    this.rights = parsed.filter((r): r is Right => r !== 'metrics');
    this.metrics = parsed.includes('metrics');
  }

  allows(action: Action, kind: ResourceKind, name: string): boolean {
    for (const r of this.rights) {
      if (r.action === action && r.kind === kind && (r.prefix ? name.startsWith(r.name) : name === r.name)) return true;
    }
    return false;
  }

  /** Whether any right of `action` on a `kind` exists (Kafka's InitProducerId: idempotent writes need a produce right somewhere). */
  hasAny(action: Action, kind: ResourceKind): boolean {
    return this.rights.some((r) => r.action === action && r.kind === kind);
  }

  /** A resource is visible (listed, described) to a principal with any right on it. */
  sees(kind: ResourceKind, name: string): boolean {
    for (const r of this.rights) {
      if (r.kind === kind && (r.prefix ? name.startsWith(r.name) : name === r.name)) return true;
    }
    return false;
  }

  toStrings(): string[] {
    return [...this.rights.map(formatRight), ...(this.metrics ? ['metrics'] : [])];
  }
}
