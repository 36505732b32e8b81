// A session's subscriptions by id: open ones, and ids reserved between SUBSCRIBE and SUBSCRIBED
// (start offsets being resolved). Keeps the subscriptions gauge in step.
import type { SessionSubscriptions } from './handlers/context.js';
import type { GatewayMetrics } from './http.js';
import type { DeliverySink, ServerSubscription } from './subscription.js';

export class SubscriptionTable implements SessionSubscriptions {
  private readonly open = new Map<number, ServerSubscription>();
  private readonly reserved = new Set<number>();

  constructor(
    readonly sink: DeliverySink,
    private readonly metrics: GatewayMetrics,
    private readonly isAccepting: () => boolean,
  ) {}

  get count(): number {
    return this.open.size + this.reserved.size;
  }

  get accepting(): boolean {
    return this.isAccepting();
  }

  inUse(id: number): boolean {
    return this.open.has(id) || this.reserved.has(id);
  }

  reserve(id: number): void {
    this.reserved.add(id);
  }

  release(id: number): void {
    this.reserved.delete(id);
  }

  add(id: number, subscription: ServerSubscription): void {
    this.open.set(id, subscription);
    this.metrics.subscriptions.inc();
  }

  get(id: number): ServerSubscription | undefined {
    return this.open.get(id);
  }

  remove(id: number): boolean {
    const sub = this.open.get(id);
    if (sub === undefined) return false;
    sub.close();
    this.open.delete(id);
    this.metrics.subscriptions.dec();
    return true;
  }

  /** Open subscriptions, for scheduling and stats. */
  values(): IterableIterator<ServerSubscription> {
    return this.open.values();
  }

  closeAll(): void {
    for (const s of this.open.values()) s.close();
    this.metrics.subscriptions.dec(this.open.size);
    this.open.clear();
  }
}
