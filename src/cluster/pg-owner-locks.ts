import type pg from "pg";
import { ConflictError, StorageError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { PgDatabase } from "../store/postgres/pg-database.ts";
import { ownerKey } from "./lock-key.ts";
import type { OwnerHold, OwnerLocks } from "./owner-locks.ts";
import { KEEPALIVES } from "./pg-container-locks.ts";

/** SQLSTATE lock_not_available: `lock_timeout` passed while waiting. */
const LOCK_NOT_AVAILABLE = "55P03";
/** Beyond the wait itself, how long the database may take to answer before it counts as unreachable. */
const ANSWER_GRACE_MS = 5_000;
/** How long the end of a hold waits for its ROLLBACK before it drops the connection (and the lock with it). */
const END_WITHIN_MS = 5_000;

export interface PgOwnerLocksOptions {
  /** The database's URL (BERTH_DATABASE_URL). */
  url: string;
  /**
   * How long `hold` waits while another server admits the owner's operations
   * before it fails with CONFLICT (default 30 s: another server holds it
   * until its operations under way for that owner are recorded — a create or
   * a start until the engine has started the container, an update until its
   * code is written and its switch begun: seconds at most, unless the
   * engine's queue is long).
   */
  waitMs?: number;
  /** Connections of its own (default 10): owners this server admits operations of at once; more wait their turn. */
  connections?: number;
  log?: SystemLogger;
}

interface Hold {
  /** Reservations sharing this hold. */
  holders: number;
  /** The connection whose open transaction holds the owner's lock, once granted. */
  client: Promise<pg.PoolClient>;
  /** Set when the connection ended under the hold: the lock is gone, and nothing may join it. */
  lost?: Error;
  onEnd?: (err?: Error) => void;
}

/**
 * OwnerLocks over PostgreSQL: a transaction-scoped advisory lock on the
 * owner's key (lock-key.ts, a space of its own), held by a transaction left
 * open on a connection of a small pool of its own for as long as any
 * reservation of that owner's on this server is held. Transaction-scoped, as
 * the container locks are: a crash or a dropped connection frees it at once,
 * and the database ends the session of a server cut off (keepalives), so an
 * owner is never locked out for longer than that.
 *
 * Waiters queue at the database (`lock_timeout`), so a server that waits gets
 * the lock before the holder's next hold.
 */
export class PgOwnerLocks implements OwnerLocks {
  readonly #db: PgDatabase;
  readonly #waitMs: number;
  readonly #connections: number;
  readonly #log: SystemLogger | undefined;
  readonly #holds = new Map<string, Hold>();
  /** Holds being given back (their ROLLBACK), awaited by close(). */
  readonly #ending = new Set<Promise<void>>();
  /** Connections taken or being taken: one per owner held, never more than `#connections`. */
  #inUse = 0;
  /** Owners' new holds waiting for a lock connection to come free. */
  readonly #slotWaiters: Array<() => void> = [];

  constructor(options: PgOwnerLocksOptions) {
    this.#waitMs = Math.max(1, Math.round(options.waitMs ?? 30_000));
    this.#connections = options.connections ?? 10;
    this.#log = options.log;
    this.#db = new PgDatabase(options.url, options.log, { max: this.#connections });
  }

  async hold(owner: string): Promise<OwnerHold> {
    let hold = this.#holds.get(owner);
    if (hold === undefined || hold.lost !== undefined) hold = this.#take(owner);
    hold.holders++;
    try {
      await hold.client;
    } catch (err) {
      hold.holders--;
      throw err;
    }
    const held = hold;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        held.holders--;
        if (held.holders === 0) this.#end(owner, held);
      },
    };
  }

  /** Closes every lock connection (their locks go with them), once the holds being given back are; safe to call twice. */
  async close(): Promise<void> {
    await Promise.all(this.#ending);
    await this.#db.close();
  }

  /** A new hold of `owner`'s lock, shared by whoever asks until it ends. */
  #take(owner: string): Hold {
    const hold: Hold = { holders: 0, client: this.#connect(owner) };
    this.#holds.set(owner, hold);
    hold.client.then(
      (client) => {
        hold.onEnd = (err?: Error) => {
          if (hold.lost !== undefined) return;
          hold.lost = err ?? new Error("Connection terminated unexpectedly");
          // Another server may admit this owner now, before this server's operations under way are recorded.
          this.#log?.warn({ owner, err: hold.lost }, "lost the connection holding an owner's admission lock");
        };
        client.on("error", hold.onEnd);
        client.on("end", hold.onEnd);
      },
      () => {
        if (this.#holds.get(owner) === hold) this.#holds.delete(owner);
      },
    );
    return hold;
  }

  /** A lock connection (waiting for one to come free), its transaction holding `owner`'s lock; within the wait in all. */
  async #connect(owner: string): Promise<pg.PoolClient> {
    const began = Date.now();
    await this.#slot();
    try {
      return await this.#lock(owner, Math.max(1, this.#waitMs - (Date.now() - began)));
    } catch (err) {
      this.#freeSlot();
      throw err;
    }
  }

  /**
   * One of the `#connections` lock connections, first come first served: an owner waits for another
   * owner's hold on this server to end (a hold lasts while an operation is admitted: about a second), then
   * fails with CONFLICT after the wait. The pool's own wait would end as a "lost connection" after 10 s,
   * which it is not.
   */
  #slot(): Promise<void> {
    if (this.#inUse < this.#connections) {
      this.#inUse++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#slotWaiters.splice(this.#slotWaiters.indexOf(waiter), 1);
        reject(
          new ConflictError("Too many owners' operations are being admitted on this server; try again.", {
            details: { connections: this.#connections, waitedMs: this.#waitMs },
          }),
        );
      }, this.#waitMs);
      this.#slotWaiters.push(waiter);
    });
  }

  /** Passes a lock connection on to the next owner waiting for one, or frees it. */
  #freeSlot(): void {
    const next = this.#slotWaiters.shift();
    if (next) next();
    else this.#inUse--;
  }

  /** Gives the lock back: its transaction holds nothing but the lock, so ending it releases the lock. */
  #end(owner: string, hold: Hold): void {
    if (this.#holds.get(owner) === hold) this.#holds.delete(owner);
    const ending = (async () => {
      const client = await hold.client;
      if (hold.onEnd) {
        client.off("error", hold.onEnd);
        client.off("end", hold.onEnd);
      }
      let broken = hold.lost;
      if (broken === undefined) {
        try {
          await bounded(client.query("ROLLBACK"), END_WITHIN_MS);
        } catch (err) {
          // Discarded with the connection: the database frees the lock when it sees the session end.
          broken = err as Error;
        }
      }
      client.release(broken);
    })()
      .catch(() => undefined)
      .finally(() => {
        this.#freeSlot();
        this.#ending.delete(ending);
      });
    this.#ending.add(ending);
  }

  /** A connection whose open transaction holds the owner's lock. */
  async #lock(owner: string, waitMs: number): Promise<pg.PoolClient> {
    const { space, id } = ownerKey(owner);
    const client = await this.#db.connect();
    let timer: NodeJS.Timeout | undefined;
    try {
      // One round trip; the key and the timeout are integers of berth's own making, never a client's text.
      const locking = client.query(
        `${KEEPALIVES}; BEGIN; SET LOCAL lock_timeout = ${waitMs}; SELECT pg_advisory_xact_lock(${space}, ${id})`,
      );
      // lock_timeout bounds a wait the server knows of; a server cut off never answers at all.
      const unanswered = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new StorageError({
                details: {
                  reason: `the database did not answer within ${waitMs + ANSWER_GRACE_MS} ms`,
                },
              }),
            ),
          waitMs + ANSWER_GRACE_MS,
        );
      });
      await Promise.race([locking, unanswered]);
      return client;
    } catch (err) {
      if ((err as { code?: unknown }).code === LOCK_NOT_AVAILABLE) {
        const ended = await client.query("ROLLBACK").then(
          () => undefined,
          (rollbackErr: Error) => rollbackErr,
        );
        client.release(ended);
        throw new ConflictError("Another server is admitting operations of this owner's; try again.", {
          details: { waitedMs: this.#waitMs },
        });
      }
      client.release(err as Error);
      throw this.#db.mapError(err);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `promise`, or a rejection after `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
