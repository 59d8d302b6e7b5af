import { ConflictError } from "../errors/errors.ts";

/** Background work (following engine events) that an exclusive operation waits behind rather than refusing. */
const BACKGROUND = new Set(["sync"]);

/**
 * Serialises operations per key (a container id) while different keys run
 * concurrently. `run` waits its turn; `runExclusive` refuses with CONFLICT
 * when a client's operation is already running or queued for the key — for
 * operations such as an update, where waiting behind another would surprise
 * the caller. Background syncs never cause a CONFLICT; they are brief and
 * the exclusive operation simply waits for them.
 */
export class OperationQueue {
  readonly #tails = new Map<string, Promise<unknown>>();
  /** Per key: the client operations running or waiting, by name. */
  readonly #pending = new Map<string, string[]>();

  isBusy(key: string): boolean {
    return this.#tails.has(key);
  }

  current(key: string): string | undefined {
    return this.#pending.get(key)?.[0];
  }

  run<T>(key: string, op: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.#tails.set(key, next);
    const tracked = !BACKGROUND.has(op);
    if (tracked) this.#pending.set(key, [...(this.#pending.get(key) ?? []), op]);
    const settle = () => {
      if (this.#tails.get(key) === next) this.#tails.delete(key);
      if (tracked) {
        const ops = this.#pending.get(key) ?? [];
        ops.splice(ops.indexOf(op), 1);
        if (ops.length === 0) this.#pending.delete(key);
      }
    };
    next.then(settle, settle);
    return next;
  }

  runExclusive<T>(key: string, op: string, fn: () => Promise<T>): Promise<T> {
    const busy = this.current(key);
    if (busy !== undefined) {
      return Promise.reject(
        new ConflictError(`Another operation (${busy}) is in progress on this container.`, {
          details: { running: busy },
        }),
      );
    }
    return this.run(key, op, fn);
  }

  /** Resolves when every queued operation has settled (for shutdown). */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) {
      await Promise.allSettled([...this.#tails.values()]);
    }
  }
}
