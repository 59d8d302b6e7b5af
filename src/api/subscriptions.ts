/**
 * What each connection is watching (stats, log follows), so that everything
 * a connection started stops when it asks, when it disconnects, or when the
 * container goes away. Keys are `<kind>:<containerId>`.
 */
export class Subscriptions {
  readonly #bySocket = new Map<string, Map<string, () => void>>();

  static key(kind: string, containerId: string): string {
    return `${kind}:${containerId}`;
  }

  /** Adds (or replaces) one subscription; the replaced one is disposed of. */
  add(socketId: string, key: string, dispose: () => void): void {
    let subs = this.#bySocket.get(socketId);
    if (!subs) {
      subs = new Map();
      this.#bySocket.set(socketId, subs);
    }
    subs.get(key)?.();
    subs.set(key, dispose);
  }

  has(socketId: string, key: string): boolean {
    return this.#bySocket.get(socketId)?.has(key) ?? false;
  }

  remove(socketId: string, key: string): boolean {
    const subs = this.#bySocket.get(socketId);
    const dispose = subs?.get(key);
    if (!dispose) return false;
    subs!.delete(key);
    dispose();
    return true;
  }

  /**
   * Removes the subscription `key` only if it is still the one `dispose`
   * belongs to: a stream that ends because a newer one replaced it must not
   * take the newer one with it.
   */
  removeIfCurrent(socketId: string, key: string, dispose: () => void): boolean {
    if (this.#bySocket.get(socketId)?.get(key) !== dispose) return false;
    return this.remove(socketId, key);
  }

  removeSocket(socketId: string): void {
    const subs = this.#bySocket.get(socketId);
    this.#bySocket.delete(socketId);
    for (const dispose of subs?.values() ?? []) dispose();
  }

  removeContainer(containerId: string): void {
    for (const subs of this.#bySocket.values()) {
      for (const [key, dispose] of subs) {
        if (key.endsWith(`:${containerId}`)) {
          subs.delete(key);
          dispose();
        }
      }
    }
  }

  /** How many subscriptions one connection holds whose key starts with one of `kinds` (`stats`, `logs`). */
  countOf(socketId: string, kinds: readonly string[]): number {
    let n = 0;
    for (const key of this.#bySocket.get(socketId)?.keys() ?? []) {
      if (kinds.some((kind) => key.startsWith(`${kind}:`))) n++;
    }
    return n;
  }

  /** How many subscriptions are live (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const subs of this.#bySocket.values()) n += subs.size;
    return n;
  }

  closeAll(): void {
    for (const id of [...this.#bySocket.keys()]) this.removeSocket(id);
  }
}

/** The key of a connection's overview of all its containers' stats (`containers:watch_stats`). */
export const OVERVIEW_KEY = Subscriptions.key("stats", "*");
