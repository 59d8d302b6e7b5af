import type { OwnerHold, OwnerLocks } from "../owner-locks.ts";

/**
 * The database's side of owner locks, in memory, shared by the servers of a
 * test: each owner's lock is held by one server at a time, and the others
 * wait in line (as PostgreSQL's advisory locks queue waiters).
 */
export class FakeOwnerLockServer {
  readonly #holders = new Map<string, FakeOwnerLocks>();
  readonly #waiting = new Map<string, Array<{ server: FakeOwnerLocks; grant: () => void }>>();

  /** A server's OwnerLocks against this "database". */
  server(): FakeOwnerLocks {
    return new FakeOwnerLocks(this);
  }

  /** Which server holds `owner`'s lock now. */
  holderOf(owner: string): FakeOwnerLocks | undefined {
    return this.#holders.get(owner);
  }

  /** Servers waiting for `owner`'s lock. */
  waitingFor(owner: string): number {
    return this.#waiting.get(owner)?.length ?? 0;
  }

  take(owner: string, server: FakeOwnerLocks): Promise<void> {
    if (!this.#holders.has(owner)) {
      this.#holders.set(owner, server);
      return Promise.resolve();
    }
    return new Promise((grant) => {
      const line = this.#waiting.get(owner) ?? [];
      line.push({ server, grant });
      this.#waiting.set(owner, line);
    });
  }

  give(owner: string): void {
    const next = this.#waiting.get(owner)?.shift();
    if (next === undefined) {
      this.#holders.delete(owner);
      return;
    }
    this.#holders.set(owner, next.server);
    next.grant();
  }
}

/** One server's OwnerLocks: holds of an owner join while any is held, as PgOwnerLocks's do. */
export class FakeOwnerLocks implements OwnerLocks {
  readonly #server: FakeOwnerLockServer;
  readonly #holds = new Map<string, { holders: number; granted: Promise<void> }>();
  /** When set, the next hold fails with it (the database unreachable, the wait over). */
  failNext: Error | undefined;

  constructor(server: FakeOwnerLockServer) {
    this.#server = server;
  }

  async hold(owner: string): Promise<OwnerHold> {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
    let hold = this.#holds.get(owner);
    if (!hold) {
      hold = { holders: 0, granted: this.#server.take(owner, this) };
      this.#holds.set(owner, hold);
    }
    hold.holders++;
    await hold.granted;
    const held = hold;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        held.holders--;
        if (held.holders > 0) return;
        this.#holds.delete(owner);
        this.#server.give(owner);
      },
    };
  }

  /** Holds of this server (for tests that every one was given back). */
  get held(): number {
    return this.#holds.size;
  }

  async close(): Promise<void> {}
}
