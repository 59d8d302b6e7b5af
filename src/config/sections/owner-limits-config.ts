import { z } from "zod";
import type { QuotaLimits, RateLimits } from "#protocol";
import { type EnvOf, envInt } from "../env-values.ts";

/** What one owner may hold (quotas), how fast it may ask (rates), and its share of the engine's queue. */
export const OwnerLimitsEnv = {
  BERTH_QUOTA_CONTAINERS: envInt(20, 1),
  BERTH_QUOTA_RUNNING: envInt(8, 1),
  BERTH_QUOTA_MEMORY_MB: envInt(2048, 6),
  BERTH_QUOTA_CPUS: z.coerce.number().min(0.01).default(4),
  BERTH_QUOTA_CODE_MB: envInt(256, 1),
  BERTH_RATE_CREATE_PER_MIN: envInt(30),
  BERTH_RATE_CREATE_BURST: envInt(10, 1),
  BERTH_RATE_LIFECYCLE_PER_MIN: envInt(120),
  BERTH_RATE_LIFECYCLE_BURST: envInt(30, 1),
  BERTH_RATE_UPDATE_PER_MIN: envInt(12),
  BERTH_RATE_UPDATE_BURST: envInt(5, 1),
  BERTH_ENGINE_CONCURRENCY: envInt(4, 1, 256),
  BERTH_ENGINE_QUEUE_PER_OWNER: envInt(16, 0),
  BERTH_ENGINE_QUEUE_TOTAL: envInt(64, 0),
};

export interface OwnerLimitsConfig {
  /** Per-owner quotas unless the tokens file overrides them. */
  readonly quota: Readonly<QuotaLimits>;
  /** Per-owner token buckets; `perMinute: 0` turns one off. */
  readonly rateLimits: Readonly<RateLimits>;
  readonly engineQueue: {
    readonly concurrency: number;
    readonly maxWaitingPerOwner: number;
    readonly maxWaiting: number;
  };
}

export function ownerLimitsConfig(e: EnvOf<typeof OwnerLimitsEnv>): OwnerLimitsConfig {
  return {
    quota: Object.freeze({
      containers: e.BERTH_QUOTA_CONTAINERS,
      running: e.BERTH_QUOTA_RUNNING,
      memoryMb: e.BERTH_QUOTA_MEMORY_MB,
      cpus: e.BERTH_QUOTA_CPUS,
      codeMb: e.BERTH_QUOTA_CODE_MB,
    }),
    rateLimits: Object.freeze({
      create: { perMinute: e.BERTH_RATE_CREATE_PER_MIN, burst: e.BERTH_RATE_CREATE_BURST },
      lifecycle: { perMinute: e.BERTH_RATE_LIFECYCLE_PER_MIN, burst: e.BERTH_RATE_LIFECYCLE_BURST },
      update: { perMinute: e.BERTH_RATE_UPDATE_PER_MIN, burst: e.BERTH_RATE_UPDATE_BURST },
    }),
    engineQueue: Object.freeze({
      concurrency: e.BERTH_ENGINE_CONCURRENCY,
      maxWaitingPerOwner: e.BERTH_ENGINE_QUEUE_PER_OWNER,
      maxWaiting: e.BERTH_ENGINE_QUEUE_TOTAL,
    }),
  };
}
