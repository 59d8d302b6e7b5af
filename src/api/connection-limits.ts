import type { InFlightLimit } from "./in-flight-limit.ts";
import type { InOrder } from "./in-order.ts";
import type { StreamGuard, StreamGuardLimits } from "./stream-guard.ts";
import type { SubscriptionCap } from "./subscription-cap.ts";

/** The per-connection bounds, from the config (BERTH_CLIENT_BUFFER_*, BERTH_MAX_REQUESTS_IN_FLIGHT, BERTH_MAX_SUBSCRIPTIONS). */
export interface ConnectionLimitsConfig extends StreamGuardLimits {
  maxRequestsInFlight: number;
  maxSubscriptions: number;
}

/**
 * Large reads (`container:logs`, `container:stats`, `container:status` with `spec`) one connection may have under way at once. A log answer
 * holds up to MAX_LOG_ANSWER_BYTES (4 MiB) while it is built and sent, so this bounds a connection's reads
 * to 16 MiB whatever it asks, and leaves a client room to read a few containers side by side.
 */
export const MAX_READS_IN_FLIGHT = 4;

/** What bounds one connection: its outbound telemetry, its channel calls in flight, its subscriptions. */
export interface ConnectionLimits {
  /**
   * Aborted (with CONNECTION_CLOSED) when the connection disconnects. Whatever a handler opens after an
   * await checks it first and closes what it opened if the connection is gone, and calls that can be
   * cancelled take it, so that nothing a connection started outlives it.
   */
  closed: AbortSignal;
  guard: StreamGuard;
  inFlight: InFlightLimit;
  /** Its large reads under way (MAX_READS_IN_FLIGHT; RATE_LIMITED beyond). */
  reads: InFlightLimit;
  subscriptions: SubscriptionCap;
  /** Its subscribes and unsubscribes (messages, stats, logs, the overview), applied in the order it sent them. */
  inOrder: InOrder;
}
