/** How many events an iterator holds for a consumer that reads slower than berth pushes. */
export const DEFAULT_QUEUE_BOUND = 10_000;

/**
 * A bounded, single-consumer async iterator fed by pushes: the stream
 * iterators (followLogs, watchStats, watchAll) are built on it.
 *
 * It holds at most `bound` events; beyond that it drops the OLDEST one and
 * counts it in `dropped` (a consumer that falls behind sees the newest
 * events, and can tell from `dropped` that it missed some). It ends cleanly
 * (`done`) on `return()` (what `break` calls), on `end()`, and with an
 * error on `end(error)` once the buffered events are read. `onReturn` runs
 * once, whichever way it ends, so that the source can stop (e.g. send
 * `container:unfollow_logs`).
 *
 * @example
 *   const queue = new EventQueue<number>({ onReturn: () => source.stop() });
 *   source.on("data", (n) => queue.push(n));
 *   for await (const n of queue) if (n > 10) break; // onReturn runs
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  readonly #bound: number;
  readonly #onReturn: (() => void) | undefined;
  #items: (T | undefined)[] = [];
  #head = 0;
  #waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  #ended = false;
  #error: unknown;
  #dropped = 0;

  constructor(options: { bound?: number; onReturn?: () => void } = {}) {
    this.#bound = Math.max(1, options.bound ?? DEFAULT_QUEUE_BOUND);
    this.#onReturn = options.onReturn;
  }

  /**
   * Events dropped so far: because the consumer was `bound` events behind,
   * and those the source says it left out (`countDropped`).
   */
  get dropped(): number {
    return this.#dropped;
  }

  /** Counts `n` events the source left out before they reached the queue (berth's `container:dropped`, a gap a resume could not read back). */
  countDropped(n: number): void {
    if (!this.#ended && Number.isSafeInteger(n) && n > 0) this.#dropped += n;
  }

  /** Whether the queue has ended (its consumer will get no new events). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Events waiting to be read. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(value: T): void {
    if (this.#ended) return;
    if (this.#waiting) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting.resolve({ value, done: false });
      return;
    }
    this.#items.push(value);
    if (this.size > this.#bound) {
      this.#items[this.#head++] = undefined;
      this.#dropped++;
    }
    // Compacts now and then, so that a long-lived queue does not keep a growing array of holes.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Ends the queue: the buffered events are still read, then `done` — or `error` is thrown, once. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#finish();
    if (this.#waiting && this.size === 0) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (error === undefined) waiting.resolve({ value: undefined, done: true });
      else {
        this.#error = undefined;
        waiting.reject(error);
      }
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.#items[this.#head] as T;
      this.#items[this.#head++] = undefined;
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) {
      const error = this.#error;
      this.#error = undefined;
      return error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
    }
    if (this.#waiting)
      return Promise.reject(new Error("EventQueue: next() called while a next() is pending"));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** Ends the queue at once (what `break` in a `for await` calls); what was buffered is dropped. */
  return(): Promise<IteratorResult<T>> {
    this.#items = [];
    this.#head = 0;
    this.#error = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #returned = false;
  #finish(): void {
    if (this.#returned) return;
    this.#returned = true;
    this.#onReturn?.();
  }
}
