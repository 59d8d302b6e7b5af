import { EventEmitter } from "node:events";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import type { LockKey } from "./lock-key.ts";
import { leaseKey } from "./lock-key.ts";
import type { LockSession, OpenLockSession } from "./lock-session.ts";

/** Why a leader stopped being one. */
export type DeposedReason =
  /** Its connection ended: the database freed the lock, or is about to. */
  | "connection_lost"
  /** Its check went unanswered within the interval, or found the lock gone: it cannot know it still holds it. */
  | "check_failed"
  /** `close()`: the lock is released for another server to take. */
  | "closed";

export interface LeaderLeaseEvents {
  /** This server holds the lock now; `term` aborts the moment it stops holding it (before `deposed`). */
  elected: [term: AbortSignal];
  deposed: [reason: DeposedReason];
  /** An attempt could not reach the database (down, restarting, cut off); the next comes after the interval. */
  unreachable: [err: unknown];
}

export interface LeaderLeaseOptions {
  /** The singleton's kind ("reconciler", "restart-supervisor" …): one lock per name, shared by every server. */
  name: string;
  /** A connection of its own per session (PgLockSession.open on the database's URL). */
  open: OpenLockSession;
  /** How often a follower tries for the lock, and a leader checks it still holds it (default 2 s). */
  tryEveryMs?: number;
  clock?: Clock;
  log?: SystemLogger;
}

/**
 * How long a connection or a follower's try may take before it counts as unanswered. Neither needs the
 * interval's bound (nothing is held until a try answers), and a database just back from a restart, or a
 * loaded one, can take longer than an interval to open a session: bounding them by the interval would
 * keep every server failing to connect, and the cluster leaderless, for as long as that lasts.
 */
const PATIENCE_MS = 10_000;

/** Why a step of an attempt did not answer in time. */
class NoAnswerError extends Error {
  override readonly name = "NoAnswerError";
}

/**
 * Leadership of one singleton across every berth server sharing a database:
 * a session-level advisory lock held on a connection of its own. Every server
 * tries for it every `tryEveryMs`; whoever holds it is the leader. When the
 * leader's process dies or its connection drops, PostgreSQL frees the lock,
 * and another server takes it at its next try — within one interval (the
 * deposed server sits its next try out, so that another wins if there is one).
 *
 * The leader must stop before another can start, or two servers would run
 * the reconciler, the restart supervisor or re-placement at once (two
 * restarts of one crash, a workload placed twice). So it steps down the
 * moment it cannot be sure it holds the lock, by the earlier of:
 * - its connection ending (`pg_terminate_backend`, a server restart, a broken
 *   socket): it hears this at once, while the others need up to an interval
 *   to try again;
 * - a check that goes unanswered for an interval (the network cut off, so no
 *   end is ever heard): it steps down within two intervals of the last
 *   answer, and the database is told (LockSessionOptions) to end the session
 *   only after a longer silence, so the lock is freed after the leader has
 *   stepped down.
 * What this cannot fence is a leader whose own process stalls past those
 * timings (a paused VM): it acts on until its next check. Singletons whose
 * effects must never be doubled check a placement's generation in PostgreSQL
 * as well (docs/cluster.md).
 *
 * @example
 *   const lease = new LeaderLease({ name: "reconciler", open: (o) => PgLockSession.open(url, o) });
 *   lease.on("elected", (term) => reconciler.start(term));
 *   lease.on("deposed", () => reconciler.stop());
 *   lease.start();
 *   …
 *   await lease.close();
 */
export class LeaderLease extends EventEmitter<LeaderLeaseEvents> {
  readonly name: string;
  readonly #key: LockKey;
  readonly #open: OpenLockSession;
  readonly #everyMs: number;
  readonly #clock: Clock;
  readonly #log: SystemLogger | undefined;
  readonly #stop = new AbortController();
  #session: LockSession | undefined;
  /** Set while this server is the leader; aborted when it stops being one. */
  #term: AbortController | undefined;
  /** Tries to sit out: a server just deposed lets the others try first. */
  #sitOut = 0;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: LeaderLeaseOptions) {
    super();
    this.name = options.name;
    this.#key = leaseKey(options.name);
    this.#open = options.open;
    this.#everyMs = options.tryEveryMs ?? 2_000;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log?.child({ lease: options.name });
  }

  get isLeader(): boolean {
    return this.#term !== undefined;
  }

  /** Starts trying for the lock (the first try at once); listen for `elected` before. */
  start(): this {
    if (!this.#stop.signal.aborted) this.#loop ??= this.#run();
    return this;
  }

  /**
   * Stops trying; a leader steps down (`deposed` with "closed") before the lock
   * is released, so another server can take over at its next try. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      if (this.#term) this.#depose("closed");
      await this.#drop();
      await this.#loop;
    })();
    return this.#closing;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      await this.#attempt();
      try {
        await this.#clock.sleep(this.#everyMs, this.#stop.signal);
      } catch {
        return; // closed
      }
    }
  }

  async #attempt(): Promise<void> {
    if (this.#sitOut > 0) {
      this.#sitOut--;
      return;
    }
    try {
      const session = this.#session ?? (await this.#connect());
      if (session === undefined) return; // closed meanwhile
      if (this.#term) {
        // Only this step is bounded by the interval: a leader must step down before the database frees its lock.
        const held = await this.#answer(session.holds(this.#key), this.#everyMs);
        if (!held && this.#session === session) {
          this.#depose("check_failed");
          await this.#drop();
        }
      } else {
        const got = await this.#answer(session.tryLock(this.#key), this.#patienceMs);
        // A lock won after close() began, or on a session lost meanwhile, is not leadership: close() releases it.
        if (got && this.#session === session && !this.#stop.signal.aborted) this.#elect();
      }
    } catch (err) {
      if (this.#stop.signal.aborted) return;
      // Whatever the session held cannot be vouched for any more: step down, then end it (freeing its lock,
      // should a try that timed out here have won it there).
      if (this.#term) this.#depose("check_failed");
      await this.#drop();
      this.#log?.warn({ err }, "could not reach the database for the leader lease");
      this.#tell("unreachable", err);
    }
  }

  async #connect(): Promise<LockSession | undefined> {
    // The database must wait longer than the leader takes to notice the same silence (an interval to its
    // next check, and an interval for the answer); see the class comment.
    const opening = this.#open({ endAfterSilenceMs: 2 * this.#everyMs });
    let session: LockSession;
    try {
      session = await this.#answer(opening, this.#patienceMs);
    } catch (err) {
      // One that connects after all is of no use: end it.
      opening.then((late) => late.close()).catch(() => undefined);
      throw err;
    }
    if (this.#stop.signal.aborted) {
      await session.close();
      return undefined;
    }
    this.#session = session;
    session.onLost((err) => {
      if (this.#session !== session) return;
      this.#session = undefined;
      // At once, in the same turn as the news: nothing this server runs as leader may act after it.
      if (this.#term) this.#depose("connection_lost");
      this.#log?.warn({ err }, "the leader lease's connection ended");
      session.close().catch(() => undefined);
    });
    return session;
  }

  get #patienceMs(): number {
    return Math.max(this.#everyMs, PATIENCE_MS);
  }

  /**
   * `step`, or a NoAnswerError after `ms` (a database cut off never answers, and never says so),
   * or a rejection as soon as the lease closes.
   */
  async #answer<T>(step: Promise<T>, ms: number): Promise<T> {
    const answered = new AbortController();
    const timeout = new Promise<never>((_, reject) => {
      this.#clock.sleep(ms, AbortSignal.any([answered.signal, this.#stop.signal])).then(
        () => reject(new NoAnswerError(`the database did not answer within ${ms} ms`)),
        () => {
          if (this.#stop.signal.aborted) reject(new Error("the lease was closed"));
        },
      );
    });
    try {
      return await Promise.race([step, timeout]);
    } finally {
      answered.abort();
    }
  }

  #elect(): void {
    this.#term = new AbortController();
    this.#log?.info("elected leader");
    this.#tell("elected", this.#term.signal);
  }

  #depose(reason: DeposedReason): void {
    const term = this.#term;
    if (!term) return;
    this.#term = undefined;
    // A server that just lost its connection or its check is the likelier culprit: it sits out one try, so
    // another server takes over (within an interval) rather than it winning the lock straight back.
    if (reason !== "closed") this.#sitOut = 1;
    term.abort(new Error(`no longer the leader of ${this.name} (${reason})`));
    this.#log?.warn({ reason }, "deposed as leader");
    this.#tell("deposed", reason);
  }

  /**
   * Emits `event`; a listener that throws is logged, not taken for a failure of the database (nor let
   * into the `pg` client's event handler that reported a lost connection).
   */
  #tell<E extends keyof LeaderLeaseEvents>(event: E, ...args: LeaderLeaseEvents[E]): void {
    try {
      (this.emit as (e: E, ...a: LeaderLeaseEvents[E]) => boolean)(event, ...args);
    } catch (err) {
      this.#log?.error({ err, event }, "a listener of the leader lease failed");
    }
  }

  async #drop(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
  }
}
