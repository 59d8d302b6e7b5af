/** Addresses remembered at most; beyond it, full buckets go first, then the oldest. Bounds memory under a spray of addresses. */
export const MAX_TRACKED_ADDRESSES = 10_000;

interface Bucket {
  tokens: number;
  at: number;
  /** Handshakes refused since the bucket last ran dry. */
  refused: number;
}

export interface HandshakeLimiterOptions {
  /** Handshakes allowed per address per minute (also the burst); 0 switches the limit off. */
  perMinute: number;
  maxAddresses?: number;
  now?: () => number;
  /**
   * Called when an address first runs dry (`refused` 0), and when it is let in again after refusals (with how
   * many were refused), so that a flood is logged twice rather than once per refused handshake.
   */
  onLimit?: (address: string, state: "limited" | "released", refused: number) => void;
}

/**
 * A token bucket per remote address for handshakes, which happen before
 * anyone is authenticated (HandshakeLimiter). A client that reconnects with
 * back-off stays far below the limit; a flood from one address is refused
 * before berth hashes its token or holds a connection for it. IPv6 addresses
 * are counted per /64, which is what one host usually has.
 */
export class HandshakeLimiter {
  readonly #perMinute: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #onLimit: HandshakeLimiterOptions["onLimit"];

  constructor(options: HandshakeLimiterOptions) {
    this.#onLimit = options.onLimit;
    this.#perMinute = options.perMinute;
    this.#maxAddresses = options.maxAddresses ?? MAX_TRACKED_ADDRESSES;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one handshake from the address's bucket; false when it is empty. */
  allow(address: string | undefined): boolean {
    if (this.#perMinute <= 0) return true;
    const key = addressKey(address ?? "");
    const now = this.#now();
    const bucket = this.#buckets.get(key);
    let tokens = this.#perMinute;
    if (bucket) {
      tokens = Math.min(this.#perMinute, bucket.tokens + ((now - bucket.at) * this.#perMinute) / 60_000);
      // Re-inserted, so the map's order is least recently seen first.
      this.#buckets.delete(key);
    } else if (this.#buckets.size >= this.#maxAddresses) {
      this.#evict(now);
    }
    const allowed = tokens >= 1;
    const refused = allowed ? 0 : (bucket?.refused ?? 0) + 1;
    this.#buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now, refused });
    if (refused === 1) this.#onLimit?.(key, "limited", 0);
    if (allowed && bucket && bucket.refused > 0) this.#onLimit?.(key, "released", bucket.refused);
    return allowed;
  }

  /** Addresses tracked now (for tests). */
  get size(): number {
    return this.#buckets.size;
  }

  #evict(now: number): void {
    // A bucket that has refilled is the same as no bucket: dropping it forgets nothing.
    for (const [key, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) * this.#perMinute) / 60_000 >= this.#perMinute) this.#buckets.delete(key);
    }
    while (this.#buckets.size >= this.#maxAddresses) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest === undefined) break;
      this.#buckets.delete(oldest);
    }
  }
}

/** IPv4 (also IPv4-mapped IPv6) as it is; other IPv6 by its first four groups (the /64). */
export function addressKey(address: string): string {
  if (address.startsWith("::ffff:") && address.includes(".")) return address.slice(7);
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
