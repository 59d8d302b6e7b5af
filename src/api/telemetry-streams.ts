import type { TelemetryStream } from "#protocol";

/**
 * The server→client events that are telemetry: high-rate, and worth less than
 * the connection that carries them. A connection that falls behind loses
 * these (counted, then told with `container:dropped`) rather than making
 * berth hold them; none of them enters the connection-state-recovery buffer,
 * so a client that reconnects re-subscribes instead of being replayed minutes
 * of output. Everything else (status and health changes, `activity_log`,
 * acknowledgements) is kept.
 */
export const TELEMETRY_STREAMS = {
  "container:log": "logs",
  "container:resource_usage": "stats",
  "containers:resource_usage": "stats",
  "container:message": "messages",
} as const satisfies Record<string, TelemetryStream>;

export type TelemetryEvent = keyof typeof TELEMETRY_STREAMS;
/**
 * Events never stored for recovery: the telemetry itself, the notice of what
 * was lost of it, and the steps of an operation in progress (whose answer,
 * or its absence after a drop, is what a reconnecting client acts on).
 */
export const TRANSIENT_EVENTS: ReadonlySet<string> = new Set([
  ...Object.keys(TELEMETRY_STREAMS),
  "container:dropped",
  "container:progress",
]);
