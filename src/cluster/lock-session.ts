import type { LockKey } from "./lock-key.ts";

/**
 * One connection of its own to the database that holds session-level
 * advisory locks: they last as long as the connection does, and the database
 * frees them the moment it sees the connection end (a process killed, a
 * connection terminated, the server restarted). The port a LeaderLease holds
 * its lock through; PgLockSession is its adapter, tests use a fake.
 */
export interface LockSession {
  /** Takes `key` unless another session holds it; never waits. */
  tryLock(key: LockKey): Promise<boolean>;
  /** Whether this session still holds `key`: a round trip, so a connection that went silent never answers. */
  holds(key: LockKey): Promise<boolean>;
  /**
   * Called once, at once, when the connection ends without `close()` (the
   * server ended it, restarted, or the socket broke): its locks are gone.
   */
  onLost(listener: (err: Error) => void): void;
  /** Releases every lock it holds and ends the connection; safe to call twice. */
  close(): Promise<void>;
}

export interface LockSessionOptions {
  /**
   * How long the database should wait, after the session went silent (its
   * peer unreachable), before it ends the session and frees its locks. The
   * lease asks for longer than it takes itself to notice the same silence, so
   * that a leader cut off steps down before another server can take over.
   */
  endAfterSilenceMs: number;
}

/** Opens a session; fails (STORAGE_ERROR) when the database cannot be reached. */
export type OpenLockSession = (options: LockSessionOptions) => Promise<LockSession>;
