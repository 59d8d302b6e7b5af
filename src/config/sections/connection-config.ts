import { ConfigError } from "../config-error.ts";
import { type EnvOf, envInt, MiB } from "../env-values.ts";

/** What one client connection may send, have buffered for it, and hold open. */
export const ConnectionEnv = {
  BERTH_MAX_PAYLOAD_BYTES: envInt(16 * MiB, 1024),
  // Per connection: telemetry is dropped above the first, the connection cut off above the second after the grace.
  BERTH_CLIENT_BUFFER_BYTES: envInt(MiB, 64 * 1024),
  BERTH_CLIENT_BUFFER_MAX_BYTES: envInt(16 * MiB, 128 * 1024),
  BERTH_CLIENT_BUFFER_GRACE_MS: envInt(10_000, 100, 600_000),
  BERTH_MAX_REQUESTS_IN_FLIGHT: envInt(1024, 0, 1_000_000),
  BERTH_MAX_SUBSCRIPTIONS: envInt(128, 1, 100_000),
};

export interface ConnectionConfig {
  readonly maxPayloadBytes: number;
  /** Bytes buffered for one client above which its telemetry is dropped and counted. */
  readonly clientBufferBytes: number;
  /** Bytes buffered for one client above which, after the grace period, it is disconnected. */
  readonly clientBufferMaxBytes: number;
  readonly clientBufferGraceMs: number;
  /** Channel calls (`container:request`, `container:send`) waiting for an answer, per connection; 0: no cap. */
  readonly maxRequestsInFlight: number;
  /** Message subscriptions, log follows and stats watches together, per connection. */
  readonly maxSubscriptions: number;
}

export function connectionConfig(e: EnvOf<typeof ConnectionEnv>): ConnectionConfig {
  if (e.BERTH_CLIENT_BUFFER_MAX_BYTES <= e.BERTH_CLIENT_BUFFER_BYTES) {
    throw ConfigError.invalid("BERTH_CLIENT_BUFFER_MAX_BYTES must be above BERTH_CLIENT_BUFFER_BYTES");
  }
  return {
    maxPayloadBytes: e.BERTH_MAX_PAYLOAD_BYTES,
    clientBufferBytes: e.BERTH_CLIENT_BUFFER_BYTES,
    clientBufferMaxBytes: e.BERTH_CLIENT_BUFFER_MAX_BYTES,
    clientBufferGraceMs: e.BERTH_CLIENT_BUFFER_GRACE_MS,
    maxRequestsInFlight: e.BERTH_MAX_REQUESTS_IN_FLIGHT,
    maxSubscriptions: e.BERTH_MAX_SUBSCRIPTIONS,
  };
}
