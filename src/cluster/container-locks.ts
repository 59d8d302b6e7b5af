/**
 * Serialises operations on one container across every berth server sharing
 * the database: `run` waits (a bounded time) until no other server runs an
 * operation on that container, then runs `fn` holding the container's lock.
 * Within one server the OperationQueue already orders a container's
 * operations; this lock is taken inside a queue's turn, so a server holds at
 * most one lock per container.
 *
 * `fn` gets a signal that aborts should the lock be lost while it runs (its
 * connection dropped): another server may then start on the container, so a
 * long operation checks it between steps.
 *
 * @example
 *   await locks.run(id, async (lost) => {
 *     await stopContainer(id);
 *     lost.throwIfAborted();
 *     await removeContainer(id);
 *   });
 */
export interface ContainerLocks {
  /**
   * Fails with CONFLICT (retryable) when another server held the lock for the
   * whole wait, and with STORAGE_ERROR (retryable) when the database cannot be
   * reached; `fn` has not run then.
   */
  run<T>(containerId: string, fn: (lost: AbortSignal) => Promise<T>, options?: LockOptions): Promise<T>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

export interface LockOptions {
  /**
   * false: fail with CONFLICT at once when another server holds the lock, instead of waiting — for
   * work that another server's operation makes moot or that must not queue behind one (a sync after an
   * engine event, the recovery of a row, an update, which on one server is refused while another runs).
   */
  wait?: boolean;
}

/** A signal that never aborts: a lock held in this process cannot be lost. */
const NEVER_LOST = new AbortController().signal;

/**
 * Single-host mode: one server, whose OperationQueue already serialises each
 * container's operations, so `run` passes straight through.
 */
export class LocalContainerLocks implements ContainerLocks {
  run<T>(_containerId: string, fn: (lost: AbortSignal) => Promise<T>, _options?: LockOptions): Promise<T> {
    return fn(NEVER_LOST);
  }

  async close(): Promise<void> {}
}
