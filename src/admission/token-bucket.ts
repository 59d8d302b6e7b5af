import type { RateSpec } from "#protocol";
/**
 * A token bucket: each operation takes one token; tokens come back at a
 * steady rate up to `burst`. A burst of `burst` operations passes at once,
 * after which the rate holds. Time is passed in, so a test steps a fake clock.
 */
export class TokenBucket {
  readonly #spec: RateSpec;
  #tokens: number;
  #at: number;

  constructor(spec: RateSpec, now: number) {
    this.#spec = spec;
    this.#tokens = spec.burst;
    this.#at = now;
  }

  /** Takes a token and answers 0, or takes none and answers how many ms until one is back. */
  take(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 60_000) / this.#spec.perMinute);
  }

  /** Whether the bucket is full again at `now`: it then behaves exactly like a new one and can be dropped. */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#spec.burst;
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.#spec.burst, this.#tokens + (elapsed * this.#spec.perMinute) / 60_000);
    this.#at = now;
  }
}
