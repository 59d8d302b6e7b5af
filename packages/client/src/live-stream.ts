import type { BerthError } from "./berth-error.ts";

/**
 * Something the client keeps alive across reconnections (a message
 * subscription, a log follow, a stats watch, the activity feed): told to
 * re-establish itself after a reconnect, and to end when the client closes.
 */
export interface LiveStream {
  /**
   * Re-establishes the stream after a reconnect. `recovered`: berth restored
   * the session (its rooms, so message subscriptions, and the status,
   * health and activity pushes missed) — never its log follows and stats
   * watches, which end with the old connection.
   */
  resume(recovered: boolean): Promise<void>;
  /** Ends the stream: cleanly without `error`, else with it (SESSION_REVOKED, a failed resume, …). */
  end(error?: BerthError): void;
}
