import type { RateKind, RateLimits } from "#protocol";
import type { SharedRateBuckets } from "../cluster/shared-rate-buckets.ts";
import type { Actor } from "../containers/actor.ts";
import { RateLimitedError } from "./admission-errors.ts";
import type { RateGate } from "./rate-limiter.ts";

/**
 * The per-owner rate limits of RateLimiter, held across every API server on
 * one database: each operation takes its token from the owner's bucket in the
 * database (SharedRateBuckets), so an owner who spreads requests over N
 * servers gets the configured rate, not N times it. The price is a round trip
 * per create, lifecycle operation or update — small beside the operation it
 * guards, which writes the store several times. The admin is not limited, and
 * a kind whose rate is 0 is off, as on one server.
 *
 * @example
 *   await limiter.take(actor, "create"); // RATE_LIMITED once alice used her create burst on any server
 */
export class SharedRateLimiter implements RateGate {
  readonly #limits: RateLimits;
  readonly #buckets: SharedRateBuckets;

  constructor(limits: RateLimits, buckets: SharedRateBuckets) {
    this.#limits = limits;
    this.#buckets = buckets;
  }

  async take(actor: Actor, kind: RateKind): Promise<void> {
    const spec = this.#limits[kind];
    if (actor.admin || spec.perMinute <= 0) return;
    const waitMs = await this.#buckets.take(actor.owner, kind, spec);
    if (waitMs > 0) throw new RateLimitedError(kind, waitMs);
  }
}
