import type { InFlightLimit } from "./in-flight-limit.ts";
import type { StreamGuard, StreamGuardLimits } from "./stream-guard.ts";
import type { SubscriptionCap } from "./subscription-cap.ts";

/** The per-connection bounds, from the config (BERTH_CLIENT_BUFFER_*, BERTH_MAX_REQUESTS_IN_FLIGHT, BERTH_MAX_SUBSCRIPTIONS). */
export interface ConnectionLimitsConfig extends StreamGuardLimits {
  maxRequestsInFlight: number;
  maxSubscriptions: number;
}

/** What bounds one connection: its outbound telemetry, its channel calls in flight, its subscriptions. */
export interface ConnectionLimits {
  guard: StreamGuard;
  inFlight: InFlightLimit;
  subscriptions: SubscriptionCap;
}
