import { ShuttingDownError } from "../errors/errors.ts";

/**
 * The operations clients asked for that have not answered, counted from the
 * ask — before their record is even read — so that shutdown waits for one
 * still on its way to the queue (reading the store, checking its image).
 * Once closed, a new ask is refused SHUTTING_DOWN.
 */
export class AskedOperations {
  #closed = false;
  #count = 0;

  get count(): number {
    return this.#count;
  }

  close(): void {
    this.#closed = true;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new ShuttingDownError();
    this.#count++;
    try {
      return await fn();
    } finally {
      this.#count--;
    }
  }
}
