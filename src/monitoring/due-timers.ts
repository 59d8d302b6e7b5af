/**
 * Timers keyed by their due time: every callback due at the same moment
 * shares one `setTimeout` and runs in its callback, in the order the keys were
 * set. The stats sampler puts every container watched at one interval on the
 * same grid of due times, so a hundred containers cost one timer and one
 * wake-up a second, not a hundred (bench: monitor). Callbacks must not throw.
 *
 * Timers are unref'ed: sampling alone must never keep berth's process alive.
 */
export class DueTimers<K> {
  readonly #groups = new Map<number, { timer: NodeJS.Timeout; callbacks: Map<K, () => void> }>();
  readonly #dueOf = new Map<K, number>();
  readonly #now: () => number;

  /** `now` is the monotonic clock in ms that due times are read on. */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** Runs `fn` at `dueMs` (at once when past), replacing any timer `key` had. */
  set(key: K, dueMs: number, fn: () => void): void {
    this.clear(key);
    let group = this.#groups.get(dueMs);
    if (group === undefined) {
      const callbacks = new Map<K, () => void>();
      const timer = setTimeout(() => this.#fire(dueMs), Math.max(0, dueMs - this.#now()));
      timer.unref();
      group = { timer, callbacks };
      this.#groups.set(dueMs, group);
    }
    group.callbacks.set(key, fn);
    this.#dueOf.set(key, dueMs);
  }

  /** Cancels `key`'s timer, if it has one. */
  clear(key: K): void {
    const due = this.#dueOf.get(key);
    if (due === undefined) return;
    this.#dueOf.delete(key);
    const group = this.#groups.get(due);
    if (group === undefined) return;
    group.callbacks.delete(key);
    if (group.callbacks.size === 0) {
      clearTimeout(group.timer);
      this.#groups.delete(due);
    }
  }

  /** Cancels every timer. */
  clearAll(): void {
    for (const group of this.#groups.values()) clearTimeout(group.timer);
    this.#groups.clear();
    this.#dueOf.clear();
  }

  #fire(dueMs: number): void {
    const group = this.#groups.get(dueMs);
    if (group === undefined) return;
    // The live map: a callback that clears a sibling stops it, one that sets a key due now adds it.
    for (const [key, fn] of group.callbacks) {
      group.callbacks.delete(key);
      this.#dueOf.delete(key);
      fn();
    }
    this.#groups.delete(dueMs);
  }
}
