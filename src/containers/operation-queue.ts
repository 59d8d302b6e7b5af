import type { ContainerLocks } from "../cluster/container-locks.ts";
import { ConflictError, ShuttingDownError } from "../errors/errors.ts";

/** Background work (following engine events) that clients' operations go ahead of, and that never causes a CONFLICT. */
const BACKGROUND = new Set(["sync"]);

interface Entry {
  op: string;
  run: () => void;
}

interface Lane {
  running: string | undefined;
  waiting: Entry[];
  /** Background entries waiting, by op name, so that a burst of engine events costs one sync. */
  background: Map<string, Promise<unknown>>;
}

/**
 * Serialises operations per key (a container id) while different keys run
 * concurrently. `run` waits its turn; `runExclusive` refuses with CONFLICT
 * when a client's operation is already running or waiting for the key — for
 * operations such as an update, where waiting behind another would surprise
 * the caller.
 *
 * With `locks` (cluster mode: PgContainerLocks), each turn also holds the
 * container's lock across every API server sharing the database, taken once
 * the turn is this server's: the same order across servers that the queue
 * gives within one. A turn whose lock cannot be had in time fails with the
 * lock's CONFLICT (or STORAGE_ERROR), without running.
 *
 * Background syncs (checking the engine after one of its events) are
 * coalesced — a stop brings `kill`, `die` and `stop` events, which need one
 * look at the engine, not three — and a client's operation that arrives while
 * a sync still waits goes first: the sync then sees the result.
 */
export class OperationQueue {
  readonly #lanes = new Map<string, Lane>();
  readonly #locks: ContainerLocks | undefined;
  #closed = false;

  constructor(locks?: ContainerLocks) {
    this.#locks = locks;
  }

  /** Keys with an operation running or waiting now (a diagnostic count: zero when berth is idle). */
  get busyKeys(): number {
    return this.#lanes.size;
  }

  isBusy(key: string): boolean {
    return this.#lanes.has(key);
  }

  /** The client operation running or waiting first for `key`, if any. */
  current(key: string): string | undefined {
    const lane = this.#lanes.get(key);
    if (!lane) return undefined;
    if (lane.running !== undefined && !BACKGROUND.has(lane.running)) return lane.running;
    return lane.waiting.find((e) => !BACKGROUND.has(e.op))?.op;
  }

  /**
   * Refuses every turn asked for from now on with SHUTTING_DOWN; turns already running or waiting
   * still run. At shutdown an operation that was still on its way to the queue (reading the store,
   * checking the image) must not start its turn against parts that are being disposed.
   */
  close(): void {
    this.#closed = true;
  }

  run<T>(key: string, op: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ShuttingDownError());
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { running: undefined, waiting: [], background: new Map() };
      this.#lanes.set(key, lane);
    }
    const background = BACKGROUND.has(op);
    const coalesced = background ? lane.background.get(op) : undefined;
    if (coalesced) return coalesced as Promise<T>;
    const l = lane;
    const promise = new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        op,
        run: () => {
          if (background) l.background.delete(op);
          l.running = op;
          // The lane moves on before the caller hears the outcome, so that it finds the lane free.
          const turn = this.#locks ? this.#locks.run(key, () => fn()) : fn();
          turn.then(
            (value) => {
              this.#next(key, l);
              resolve(value);
            },
            (err: unknown) => {
              this.#next(key, l);
              reject(err);
            },
          );
        },
      };
      if (background) l.waiting.push(entry);
      else {
        // Ahead of waiting background work, behind other client operations.
        const firstBackground = l.waiting.findIndex((e) => BACKGROUND.has(e.op));
        if (firstBackground === -1) l.waiting.push(entry);
        else l.waiting.splice(firstBackground, 0, entry);
      }
    });
    if (background) lane.background.set(op, promise);
    if (lane.running === undefined) this.#next(key, lane);
    return promise;
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

  #next(key: string, lane: Lane): void {
    lane.running = undefined;
    const entry = lane.waiting.shift();
    if (entry) entry.run();
    else if (this.#lanes.get(key) === lane) this.#lanes.delete(key);
  }
}
