/**
 * Runs a connection's changes to one subscription in the order it asked for
 * them. Each handler first looks the container up in the store, and two
 * lookups may answer out of order (PostgreSQL answers each on whichever pooled
 * connection is free): without this, an `unsubscribe` sent before a
 * `subscribe` could be applied after it, leaving a client that believes it is
 * subscribed with no subscription at all. Keys are the subscription and the
 * container as the client named it (`messages:<id>`); changes under other
 * keys do not wait for each other.
 */
export class InOrder {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` once every earlier `run` under `key` has settled; answers what `fn` answers. */
  run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const previous = this.#tails.get(key);
    const turn = previous === undefined ? Promise.resolve().then(fn) : previous.then(fn, fn);
    // The tail never rejects (its failure is the caller's to handle), and is forgotten once nothing follows it.
    const tail = turn.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return turn;
  }

  /** Keys with a change under way or waiting (zero when the connection is idle). */
  get size(): number {
    return this.#tails.size;
  }
}
