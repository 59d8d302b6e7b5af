import type { Session } from "socket.io-adapter";

/** What berth writes a session back through: the adapter's own `persistSession` (its encoding, its key). */
interface SessionWriter {
  persistSession(session: Omit<Session, "missedPackets">): void;
}

/** Of a MULTI the adapter builds, what berth adds a command to. */
interface SessionLookUpMulti {
  del(key: string): SessionLookUpMulti;
  pTTL(key: string): SessionLookUpMulti;
  exec(...args: unknown[]): Promise<unknown[]>;
}

/** A session a look-up consumed: the lifetime it had left then, and where to write it back. */
interface Consumed {
  writer: SessionWriter;
  ttlMs: number;
  at: number;
}

/**
 * The sessions that the Redis-streams adapter's look-up consumed (its
 * restoreSession is a GETDEL), with the lifetime each had left, so that one
 * berth refuses to restore can be written back for that lifetime, not for a
 * fresh two minutes (a refused try must not keep a session alive).
 *
 * The lifetime is read in the look-up's own MULTI, so atomically with the
 * GETDEL: the adapter builds that MULTI (GET, DEL) before its first await,
 * and while `lookUp` runs that synchronous part, `multi` adds a PTTL before
 * the DEL (and takes its reply out again: the adapter reads GET's first).
 * The write back goes through the adapter's `persistSession`, whose SET gets
 * the expiry left (`setExpiry`) instead of the adapter's full window. Should
 * a later adapter build its MULTI after an await, no lifetime is noted and a
 * refused session is not written back: its owner starts a fresh session.
 */
export class ConsumedSessions {
  readonly #consumed = new WeakMap<Session, Consumed>();
  /** Set during the synchronous start of one look-up. */
  #lookUp: { ttlMs?: number } | undefined;
  /** Set during one `giveBack`'s write. */
  #returnTtlMs: number | undefined;

  /** Runs one look-up of `writer`'s adapter (`restore`), noting the lifetime of the session it consumes. */
  async lookUp(writer: SessionWriter, restore: () => Promise<Session>): Promise<Session> {
    const lookUp: { ttlMs?: number } = {};
    const at = Date.now();
    this.#lookUp = lookUp;
    let restoring: Promise<Session>;
    try {
      restoring = restore();
    } finally {
      this.#lookUp = undefined;
    }
    const session = await restoring;
    if (session && lookUp.ttlMs !== undefined && lookUp.ttlMs > 0)
      this.#consumed.set(session, { writer, ttlMs: lookUp.ttlMs, at });
    return session;
  }

  /** Writes back a session `lookUp` consumed, for what is left of its lifetime; any other, or one whose time is over, not at all. */
  giveBack(session: Session): void {
    const consumed = this.#consumed.get(session);
    if (!consumed) return;
    this.#consumed.delete(session);
    const left = consumed.ttlMs - (Date.now() - consumed.at);
    if (left <= 0) return;
    const { sid, pid, rooms, data } = session;
    this.#returnTtlMs = left;
    try {
      consumed.writer.persistSession({ sid, pid, rooms, data });
    } finally {
      this.#returnTtlMs = undefined;
    }
  }

  /** The expiry (PX) that a session's SET made now must have instead of the adapter's: during `giveBack` only. */
  get setExpiry(): number | undefined {
    return this.#returnTtlMs;
  }

  /** A MULTI the adapter made now: during a look-up, with a PTTL read before its DEL. */
  multi<M>(made: M): M {
    const lookUp = this.#lookUp;
    if (!lookUp) return made;
    const m = made as unknown as SessionLookUpMulti;
    const del = m.del.bind(m);
    m.del = (key) => {
      m.pTTL(key);
      return del(key);
    };
    const exec = m.exec.bind(m);
    m.exec = async (...args) => {
      const replies = await exec(...args);
      lookUp.ttlMs = Number(replies[1]);
      replies.splice(1, 1);
      return replies;
    };
    return made;
  }
}
