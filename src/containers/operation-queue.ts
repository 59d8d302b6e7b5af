import { ConflictError } from "../errors/errors.ts";

/**
 * Serialises operations per key (a container id) while different keys run
 * concurrently. `run` waits its turn; `runExclusive` refuses with CONFLICT
 * when anything is already running or queued for the key — for operations
 * such as an update, where waiting behind another would surprise the caller.
 */
export class OperationQueue {
  readonly #tails = new Map<string, { promise: Promise<unknown>; depth: number; op: string }>();

  isBusy(key: string): boolean {
    return this.#tails.has(key);
  }

  current(key: string): string | undefined {
    return this.#tails.get(key)?.op;
  }

  run<T>(key: string, op: string, fn: () => Promise<T>): Promise<T> {
    const tail = this.#tails.get(key);
    const previous = tail?.promise ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const entry = { promise: next, depth: (tail?.depth ?? 0) + 1, op };
    this.#tails.set(key, entry);
    const settle = () => {
      if (this.#tails.get(key) === entry) this.#tails.delete(key);
    };
    next.then(settle, settle);
    return next;
  }

  runExclusive<T>(key: string, op: string, fn: () => Promise<T>): Promise<T> {
    const busy = this.#tails.get(key);
    if (busy) {
      return Promise.reject(
        new ConflictError(`Another operation (${busy.op}) is in progress on this container.`, {
          details: { running: busy.op },
        }),
      );
    }
    return this.run(key, op, fn);
  }

  /** Resolves when every queued operation has settled (for shutdown). */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) {
      await Promise.allSettled([...this.#tails.values()].map((t) => t.promise));
    }
  }
}
