import type pg from "pg";
import { ConflictError, StorageError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { PgDatabase } from "../store/postgres/pg-database.ts";
import type { ContainerLocks, LockOptions } from "./container-locks.ts";
import { containerKey } from "./lock-key.ts";

/** SQLSTATE lock_not_available: `lock_timeout` passed while waiting. */
const LOCK_NOT_AVAILABLE = "55P03";
/** Beyond the wait itself, how long the database may take to answer before it counts as unreachable. */
const ANSWER_GRACE_MS = 5_000;
/**
 * While an operation holds its lock, the lock's connection is asked to answer
 * every HOLD_CHECK_EVERY_MS within HOLD_CHECK_WITHIN_MS; one that does not is
 * taken as lost. The server, for its part, ends a session whose peer has been
 * silent for SERVER_ENDS_AFTER_S + 2 s (keepalives, set per session), and so
 * frees the lock — later than the holder gives it up (at most 5 s after the
 * last answer), so two servers never act on one container at once. Without the
 * server's side, a holder cut off by the network would keep the container
 * locked for the operating system's default of two hours.
 */
const HOLD_CHECK_EVERY_MS = 2_000;
const HOLD_CHECK_WITHIN_MS = 3_000;
const SERVER_ENDS_AFTER_S = 10;
export const KEEPALIVES =
  `SET tcp_keepalives_idle = ${SERVER_ENDS_AFTER_S}; SET tcp_keepalives_interval = 1; ` +
  `SET tcp_keepalives_count = 2; SET tcp_user_timeout = ${(SERVER_ENDS_AFTER_S + 2) * 1000}`;

export interface PgContainerLocksOptions {
  /** The database's URL (BERTH_DATABASE_URL). */
  url: string;
  /**
   * How long `run` waits for another server's operation on the container
   * before it fails with CONFLICT (default 30 s: most operations — a stop, a
   * start until ready — finish within it; a client retries after that).
   */
  waitMs?: number;
  /** Connections of its own (default 20): operations on distinct containers this server runs at once. */
  connections?: number;
  log?: SystemLogger;
}

/**
 * ContainerLocks over PostgreSQL: a transaction-scoped advisory lock on the
 * container id's key (lock-key.ts), held for the whole of `fn` by a
 * transaction left open on a connection of a pool of its own. Its own: an
 * operation holds its lock connection while it writes through the store, so
 * sharing the store's pool would let ten waiting operations starve the ten
 * holding ones of a connection to finish with. Transaction-scoped: whatever
 * happens to berth — an exception, a crash, a dropped connection — the lock
 * goes with the transaction, never outliving its operation.
 *
 * The wait is PostgreSQL's `lock_timeout` (set for this transaction only),
 * so waiters queue fairly at the server and a free lock is taken at once.
 */
export class PgContainerLocks implements ContainerLocks {
  readonly #db: PgDatabase;
  readonly #waitMs: number;
  readonly #connections: number;
  readonly #log: SystemLogger | undefined;
  /** Lock connections taken or being taken now; never more than `#connections`. */
  #inUse = 0;

  constructor(options: PgContainerLocksOptions) {
    this.#waitMs = Math.max(1, Math.round(options.waitMs ?? 30_000));
    this.#connections = options.connections ?? 20;
    this.#log = options.log;
    this.#db = new PgDatabase(options.url, options.log, { max: this.#connections });
  }

  async run<T>(
    containerId: string,
    fn: (lost: AbortSignal) => Promise<T>,
    options: LockOptions = {},
  ): Promise<T> {
    // Every lock connection waiting or holding: the pool's own wait would end as a "lost connection"
    // after 10 s, which it is not. Busy is said at once, as the retryable CONFLICT it is.
    if (this.#inUse >= this.#connections) {
      throw new ConflictError("Too many operations are waiting for containers on this server; try again.", {
        details: { connections: this.#connections },
      });
    }
    this.#inUse++;
    try {
      return await this.#runLocked(containerId, fn, options.wait !== false);
    } finally {
      this.#inUse--;
    }
  }

  async #runLocked<T>(containerId: string, fn: (lost: AbortSignal) => Promise<T>, wait: boolean): Promise<T> {
    const client = await this.#lock(containerId, wait);
    const lost = new AbortController();
    const onEnd = (err?: Error) =>
      lost.abort(
        new StorageError({
          cause: err,
          details: { reason: "the connection holding the container's lock was lost" },
        }),
      );
    client.on("error", onEnd);
    client.on("end", onEnd);
    const checks = this.#checkHold(client, lost.signal, onEnd);
    let broken: Error | undefined;
    try {
      return await fn(lost.signal);
    } finally {
      await checks.stop();
      client.off("error", onEnd);
      client.off("end", onEnd);
      if (lost.signal.aborted) {
        broken = lost.signal.reason as Error;
        this.#log?.warn({ containerId }, "lost the container's lock while an operation ran");
      } else {
        // The transaction holds nothing but the lock: ending it releases the lock. A failure here cannot
        // undo what fn did; the broken connection is discarded, and the server frees the lock with it.
        try {
          await client.query("ROLLBACK");
        } catch (err) {
          broken = err as Error;
        }
      }
      client.release(broken);
    }
  }

  /**
   * Asks the lock's connection to answer every HOLD_CHECK_EVERY_MS while `fn` runs; calls `onLost` when it
   * does not within HOLD_CHECK_WITHIN_MS (a network that drops everything silently never ends the socket).
   */
  #checkHold(
    client: pg.PoolClient,
    lost: AbortSignal,
    onLost: (err: Error) => void,
  ): { stop(): Promise<void> } {
    let checking: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      if (lost.aborted) return;
      let deadline: NodeJS.Timeout | undefined;
      const unanswered = new Promise<never>((_, reject) => {
        deadline = setTimeout(
          () => reject(new Error(`the lock's connection did not answer within ${HOLD_CHECK_WITHIN_MS} ms`)),
          HOLD_CHECK_WITHIN_MS,
        );
      });
      checking = Promise.race([client.query("SELECT 1"), unanswered])
        .then(
          () => {},
          (err: Error) => onLost(err),
        )
        .finally(() => clearTimeout(deadline));
    }, HOLD_CHECK_EVERY_MS);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await checking;
      },
    };
  }

  /** Closes every lock connection (their locks go with them); safe to call twice. */
  close(): Promise<void> {
    return this.#db.close();
  }

  /** A connection whose open transaction holds the container's lock. */
  async #lock(containerId: string, wait: boolean): Promise<pg.PoolClient> {
    const { space, id } = containerKey(containerId);
    const client = await this.#db.connect();
    let timer: NodeJS.Timeout | undefined;
    try {
      // One round trip; the key and the timeout are integers of berth's own making, never a client's text.
      const locking = client.query(
        wait
          ? `${KEEPALIVES}; BEGIN; SET LOCAL lock_timeout = ${this.#waitMs}; SELECT pg_advisory_xact_lock(${space}, ${id})`
          : `${KEEPALIVES}; BEGIN; SELECT pg_try_advisory_xact_lock(${space}, ${id}) AS got`,
      );
      // lock_timeout bounds a wait the server knows of; a server cut off never answers at all.
      const unanswered = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new StorageError({
                details: {
                  reason: `the database did not answer within ${this.#waitMs + ANSWER_GRACE_MS} ms`,
                },
              }),
            ),
          this.#waitMs + ANSWER_GRACE_MS,
        );
      });
      const answers = await Promise.race([locking, unanswered]);
      // A multi-statement query answers one result per statement: the try's is the last.
      const last = Array.isArray(answers) ? answers.at(-1) : answers;
      if (!wait && (last?.rows[0] as { got?: boolean } | undefined)?.got !== true) {
        throw Object.assign(new Error("held by another server"), { code: LOCK_NOT_AVAILABLE });
      }
      return client;
    } catch (err) {
      if ((err as { code?: unknown }).code === LOCK_NOT_AVAILABLE) {
        const ended = await client.query("ROLLBACK").then(
          () => undefined,
          (rollbackErr: Error) => rollbackErr,
        );
        client.release(ended);
        throw new ConflictError("Another operation is in progress on this container on another server.", {
          details: { waitedMs: wait ? this.#waitMs : 0 },
        });
      }
      client.release(err as Error);
      throw this.#db.mapError(err);
    } finally {
      clearTimeout(timer);
    }
  }
}
