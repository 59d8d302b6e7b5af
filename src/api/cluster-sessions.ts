import type { Session } from "socket.io-adapter";
import type { AdapterFactory } from "./local-telemetry.ts";

/**
 * What the fan-out across API servers (BERTH_REDIS_URL) offers the API
 * beyond Socket.IO's adapter: the sessions it keeps in the shared store,
 * which outlive a connection in ways the in-memory adapter's never do.
 * `RedisFanOut` (src/fan-out/) provides it; single-host mode has none.
 */
export interface ClusterSessions {
  /**
   * Deletes the session kept for `pid`, so that nobody recovers it: for a
   * connection that ended for good (Socket.IO keeps no session then, and
   * single-host berth restores none, but SessionKeeper wrote one while it lasted).
   */
  forget(pid: string): void;
  /**
   * Writes back a session that the adapter's look-up consumed and berth then
   * refused to restore, for the lifetime it had left (never a fresh one:
   * refused tries must not keep a session alive). A session whose lifetime
   * is unknown or over is not written back.
   */
  returnSession(session: Session): void;
}

/** The fan-out as the API takes it: the cluster adapter, and its sessions. */
export interface FanOut extends ClusterSessions {
  readonly adapter: AdapterFactory;
}
