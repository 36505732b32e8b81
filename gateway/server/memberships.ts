// A session's consumer group memberships by id (the GROUP_JOIN's id): a closed connection is an
// immediate leave of every one of them (its partitions go to the other members at once).
import type { GatewayEngine } from './engine-port.js';

export class MembershipTable {
  private readonly byId = new Map<number, { group: string; memberId: string }>();
  private closed = false;

  constructor(private readonly engine: GatewayEngine) {}

  get count(): number {
    return this.byId.size;
  }

  /** Records a joined member; false (and it leaves at once) when the session is already closed. */
  add(id: number, group: string, memberId: string): boolean {
    if (this.closed) {
      this.leave(group, memberId);
      return false;
    }
    this.byId.set(id, { group, memberId });
    return true;
  }

  /**
   * Ends the membership with this id, if any (the member leaves unless the coordinator already
   * removed it): a GROUP_JOIN on the id of an earlier membership replaces it, as a member that
   * was removed after a pause joins again.
   */
  replace(id: number): void {
    const m = this.byId.get(id);
    if (m === undefined) return;
    this.byId.delete(id);
    this.leave(m.group, m.memberId);
  }

  /** Forgets the membership naming `memberId` (it left by request). */
  forget(group: string, memberId: string): void {
    for (const [id, m] of this.byId) if (m.group === group && m.memberId === memberId) this.byId.delete(id);
  }

  /** The memberships by join id (for re-checking rights after the auth file changed). */
  entries(): Array<[number, { group: string; memberId: string }]> {
    return [...this.byId];
  }

  /** The member of join `id` leaves (its rights to the group are gone). */
  leaveById(id: number): void {
    const m = this.byId.get(id);
    if (m === undefined) return;
    this.byId.delete(id);
    this.leave(m.group, m.memberId);
  }

  /** The connection is gone: every member leaves. */
  leaveAll(): void {
    this.closed = true;
    for (const m of this.byId.values()) this.leave(m.group, m.memberId);
    this.byId.clear();
  }

  private leave(group: string, memberId: string): void {
    try {
      this.engine.leaveGroup(group, memberId);
    } catch {
      // already removed (session timeout) or the engine is closed
    }
  }
}
