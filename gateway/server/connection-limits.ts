// Counts connections per server and per remote address, so that one address (or everyone
// together) cannot take every socket and descriptor the server has.
export type ConnectionRefusal = { status: 503 | 429; reason: 'connections' | 'address-connections'; message: string };

export class ConnectionLimits {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    readonly maxConnections: number,
    readonly maxPerAddress: number,
  ) {}

  /** Takes a slot for `address`, or says why not. */
  admit(address: string): ConnectionRefusal | null {
    if (this.total >= this.maxConnections) {
      return { status: 503, reason: 'connections', message: `too many connections (the server's limit is ${this.maxConnections})` };
    }
    const n = this.perAddress.get(address) ?? 0;
    if (n >= this.maxPerAddress) {
      return { status: 429, reason: 'address-connections', message: `too many connections from ${address} (the limit per address is ${this.maxPerAddress})` };
    }
    this.total++;
    this.perAddress.set(address, n + 1);
    return null;
  }

  release(address: string): void {
    const n = this.perAddress.get(address);
    if (n === undefined) return;
    this.total--;
    if (n <= 1) this.perAddress.delete(address);
    else this.perAddress.set(address, n - 1);
  }
}
