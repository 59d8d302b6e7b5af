/**
 * Benchmarks measure how fast berth does the work, not its policy on how
 * much: per-owner rate limits would refuse a benchmark's rounds, so they are
 * off. Quotas and the fair engine queue stay at their defaults (they are part
 * of the path measured) unless a benchmark needs more containers than a quota.
 */
export const RATE_LIMITS_OFF: Record<string, string> = {
  BERTH_RATE_CREATE_PER_MIN: "0",
  BERTH_RATE_LIFECYCLE_PER_MIN: "0",
  BERTH_RATE_UPDATE_PER_MIN: "0",
};

export const QUOTAS_OFF: Record<string, string> = {
  BERTH_QUOTA_CONTAINERS: "100000",
  BERTH_QUOTA_RUNNING: "100000",
  BERTH_QUOTA_MEMORY_MB: "100000000",
  BERTH_QUOTA_CPUS: "100000",
};
