import { z } from "zod";
import { ConfigError } from "../config-error.ts";
import { type EnvOf, envBool, envInt, MiB } from "../env-values.ts";

/** The stats history and the output limit judged on it, and Prometheus metrics. */
export const MonitoringEnv = {
  // 0 turns the history off: containers are then sampled only while someone watches them.
  BERTH_STATS_HISTORY_INTERVAL_MS: z.coerce
    .number()
    .int()
    .refine((n) => n === 0 || (n >= 250 && n <= 60_000), "expected 0 (off) or 250 to 60000")
    .default(5_000),
  // A workload's output above this many bytes/s (over 10 s, or two history intervals) is held back;
  // 0 turns the limit off, and so does a history turned off (it judges on the history's samples).
  BERTH_OUTPUT_RATE_LIMIT: envInt(MiB, 0),
  BERTH_METRICS: envBool(true),
  BERTH_METRICS_PUBLIC: envBool(false),
  BERTH_METRICS_PER_CONTAINER: envBool(false),
};

export interface MonitoringConfig {
  /** One kept sample per running container every this many ms, 10 minutes of them (0: no history). */
  readonly statsHistoryIntervalMs: number;
  /**
   * Bytes/s a workload may write to its output, averaged over 10 s; one over it is held to 0.05 CPU
   * for 30 s (the engine's log driver has no limit, and output costs the engine's CPU). 0: no limit.
   */
  readonly outputRateLimit: number;
  /** Prometheus metrics at `GET /metrics` (docs/metrics.md). */
  readonly metrics: {
    /** false: no metric is kept at all and /metrics answers 404. */
    readonly enabled: boolean;
    /** true: /metrics answers without the admin token. */
    readonly public: boolean;
    /** true: the high-volume channel series carry a `container` label (berth's container id). */
    readonly perContainer: boolean;
  };
}

/** `outputRateLimitSet`: whether BERTH_OUTPUT_RATE_LIMIT was given at all (its parsed value has the default). */
export function monitoringConfig(
  e: EnvOf<typeof MonitoringEnv>,
  outputRateLimitSet: boolean,
): MonitoringConfig {
  // The output limit is judged on the history's samples: without them it would never apply. Asked for
  // by name, that is refused; left at its default, it goes off with the history (as documented).
  const historyOff = e.BERTH_STATS_HISTORY_INTERVAL_MS === 0;
  if (historyOff && outputRateLimitSet && e.BERTH_OUTPUT_RATE_LIMIT > 0) {
    throw ConfigError.invalid(
      "BERTH_OUTPUT_RATE_LIMIT: the output limit is judged on the stats history's samples, and BERTH_STATS_HISTORY_INTERVAL_MS is 0 (off): turn the history on, or leave the limit unset (or 0)",
    );
  }
  return {
    statsHistoryIntervalMs: e.BERTH_STATS_HISTORY_INTERVAL_MS,
    outputRateLimit: historyOff ? 0 : e.BERTH_OUTPUT_RATE_LIMIT,
    metrics: Object.freeze({
      enabled: e.BERTH_METRICS,
      public: e.BERTH_METRICS_PUBLIC,
      perContainer: e.BERTH_METRICS_PER_CONTAINER,
    }),
  };
}
