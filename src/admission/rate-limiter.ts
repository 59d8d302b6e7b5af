import type { RateKind, RateLimits } from "#protocol";
import type { Actor } from "../containers/actor.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { RateLimitedError } from "./admission-errors.ts";
import { TokenBucket } from "./token-bucket.ts";

/**
 * What the API asks before an operation that makes the engine work: throws
 * RATE_LIMITED (with `retryAfterMs`) when the owner is over the rate of
 * `kind`. RateLimiter answers at once from this server's memory (one server);
 * SharedRateLimiter asks the buckets every server shares (several servers on
 * one PostgreSQL database).
 */
export interface RateGate {
  take(actor: Actor, kind: RateKind): void | Promise<void>;
}

/**
 * Per-owner token buckets for the operations that make the engine work:
 * creates, lifecycle operations (start, stop, restart, delete) and code
 * updates (update, rollback). Over the rate: RATE_LIMITED with `retryAfterMs`.
 *
 * Keyed by who asks, so that one owner's burst never slows another. The
 * admin is not limited: an operator's tools are not a tenant. Memory stays
 * bounded by the owners active lately: a bucket that has filled up again
 * behaves like a new one, so it is dropped at the next sweep (at most one
 * sweep per minute, each linear in the buckets held).
 *
 * @example
 *   limiter.take(actor, "create"); // throws RateLimitedError when alice is over her create rate
 */
export class RateLimiter implements RateGate {
  readonly #limits: RateLimits;
  readonly #clock: Pick<Clock, "now">;
  readonly #buckets = new Map<string, TokenBucket>();
  #sweptAt: number;

  constructor(limits: RateLimits, clock: Pick<Clock, "now"> = systemClock) {
    this.#limits = limits;
    this.#clock = clock;
    this.#sweptAt = clock.now();
  }

  take(actor: Actor, kind: RateKind): void {
    const spec = this.#limits[kind];
    if (actor.admin || spec.perMinute <= 0) return;
    const now = this.#clock.now();
    this.#sweep(now);
    const key = `${kind}\u0000${actor.owner}`;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(spec, now);
      this.#buckets.set(key, bucket);
    }
    const waitMs = bucket.take(now);
    if (waitMs > 0) throw new RateLimitedError(kind, waitMs);
  }

  /** Buckets held now (for tests of the memory bound). */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [key, bucket] of this.#buckets) if (bucket.isFull(now)) this.#buckets.delete(key);
  }
}
