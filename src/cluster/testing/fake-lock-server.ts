import type { LockKey } from "../lock-key.ts";
import type { LockSession, LockSessionOptions, OpenLockSession } from "../lock-session.ts";

/**
 * A database's advisory locks in memory, for LeaderLease's unit tests: it can
 * be down (opening fails), end a session as the server would (`terminate`),
 * or go silent (`partition`: calls on a session never answer, and the
 * server keeps its locks until the test ends the session).
 */
export class FakeLockServer {
  /** Sessions open now. */
  readonly sessions = new Set<FakeLockSession>();
  /** Every session ever made, in order. */
  readonly made: FakeLockSession[] = [];
  readonly #holders = new Map<string, FakeLockSession>();
  /** Each session's options, in the order opened. */
  readonly opened: LockSessionOptions[] = [];
  down = false;
  /** When set, `open` waits for this before it answers (a connect that hangs). */
  openGate: Promise<void> | undefined;

  readonly open: OpenLockSession = async (options) => {
    this.opened.push(options);
    await this.openGate;
    if (this.down) throw new Error("connect ECONNREFUSED");
    const session = new FakeLockSession(this);
    this.sessions.add(session);
    this.made.push(session);
    return session;
  };

  holderOf(key: LockKey): FakeLockSession | undefined {
    return this.#holders.get(`${key.space}:${key.id}`);
  }

  /** Takes `key` for `session` if free (or already its own). */
  take(session: FakeLockSession, key: LockKey): boolean {
    const k = `${key.space}:${key.id}`;
    const holder = this.#holders.get(k);
    if (holder !== undefined && holder !== session) return false;
    this.#holders.set(k, session);
    return true;
  }

  /** The server ends `session`: its locks are freed, and its client hears of it. */
  terminate(
    session: FakeLockSession,
    err = new Error("terminating connection due to administrator command"),
  ): void {
    this.release(session);
    session.end(err);
  }

  /** The server goes down: every session ends. */
  stop(): void {
    this.down = true;
    for (const s of [...this.sessions]) this.terminate(s, new Error("the database system is shutting down"));
  }

  release(session: FakeLockSession): void {
    for (const [k, holder] of this.#holders) if (holder === session) this.#holders.delete(k);
    this.sessions.delete(session);
  }
}

export class FakeLockSession implements LockSession {
  readonly #server: FakeLockServer;
  #lost: ((err: Error) => void) | undefined;
  #ended = false;
  /** Cut off from the server: calls hang until the session is closed. */
  silent = false;
  readonly #hanging = new Set<(err: Error) => void>();
  closed = false;

  constructor(server: FakeLockServer) {
    this.#server = server;
  }

  tryLock(key: LockKey): Promise<boolean> {
    return this.#call(() => this.#server.take(this, key));
  }

  holds(key: LockKey): Promise<boolean> {
    return this.#call(() => this.#server.holderOf(key) === this);
  }

  onLost(listener: (err: Error) => void): void {
    this.#lost = listener;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const fail of this.#hanging) fail(new Error("Connection terminated"));
    this.#hanging.clear();
    // A silent session's goodbye never reaches the server: it keeps the locks until it ends the session itself.
    if (!this.silent) this.#server.release(this);
  }

  /** The connection ended under the client (called by the server). */
  end(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const fail of this.#hanging) fail(err);
    this.#hanging.clear();
    if (!this.closed) this.#lost?.(err);
  }

  #call<T>(answer: () => T): Promise<T> {
    if (this.closed || this.#ended)
      return Promise.reject(new Error("Client was closed and is not queryable"));
    if (this.silent) return new Promise<T>((_, reject) => this.#hanging.add(reject));
    return Promise.resolve(answer());
  }
}
