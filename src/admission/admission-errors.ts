import { BerthError } from "../errors/berth-error.ts";
import type { QuotaName } from "./quota-limits.ts";

/**
 * The request would take the owner past a quota. `usage`, `requested` and
 * `limit` are in the quota's own unit (MiB for `memoryMb` and `codeMb`) and
 * speak of the owner's own containers only.
 */
export class QuotaExceededError extends BerthError {
  constructor(quota: QuotaName, usage: number, requested: number, limit: number) {
    super(
      "QUOTA_EXCEEDED",
      `This would exceed the ${quota} quota: ${usage} in use, ${requested} more asked for, ${limit} allowed.`,
      { details: { quota, usage, requested, limit } },
    );
  }
}

/** What ran out: one of the per-owner token buckets, or room in the engine queue. */
export type RateLimitName = "create" | "lifecycle" | "update" | "engine_queue";

/** Too many requests for now; `retryAfterMs` is when the same request can be expected to pass. */
export class RateLimitedError extends BerthError {
  readonly retryAfterMs: number;
  constructor(limit: RateLimitName, retryAfterMs: number) {
    const ms = Math.max(1, Math.ceil(retryAfterMs));
    super("RATE_LIMITED", `Too many requests (${limit}); try again in ${ms} ms.`, {
      details: { limit, retryAfterMs: ms },
    });
    this.retryAfterMs = ms;
  }
}
