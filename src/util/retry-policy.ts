import { type Clock, systemClock } from "./clock.ts";

export interface RetryPolicyOptions {
  /** Attempts in all, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** No new attempt starts after this much time has passed since the first. */
  maxTotalMs?: number;
  /** Only errors for which this says yes are retried; everything else is thrown at once. */
  isRetryable: (err: unknown) => boolean;
  onRetry?: (info: { attempt: number; delayMs: number; err: unknown }) => void;
  clock?: Clock;
  random?: () => number;
}

/**
 * Exponential back-off with full jitter, bounded in attempts and in total
 * time. Full jitter (a random delay in [0, cap]) spreads the retries of many
 * callers that failed together, e.g. when the engine restarts.
 *
 * @example
 *   const policy = new RetryPolicy({ isRetryable: (e) => e instanceof DockerUnavailableError });
 *   const info = await policy.run(() => docker.inspect(id));
 */
export class RetryPolicy {
  readonly #o: Required<Omit<RetryPolicyOptions, "onRetry">> & Pick<RetryPolicyOptions, "onRetry">;

  constructor(options: RetryPolicyOptions) {
    this.#o = {
      maxAttempts: 4,
      baseDelayMs: 100,
      maxDelayMs: 2_000,
      maxTotalMs: 10_000,
      clock: systemClock,
      random: Math.random,
      ...options,
    };
  }

  delayFor(attempt: number): number {
    const cap = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(this.#o.random() * cap);
  }

  async run<T>(fn: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { clock } = this.#o;
    const started = clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        const delayMs = this.delayFor(attempt);
        const outOfTime = clock.now() - started + delayMs > this.#o.maxTotalMs;
        if (attempt >= this.#o.maxAttempts || outOfTime || signal?.aborted || !this.#o.isRetryable(err))
          throw err;
        this.#o.onRetry?.({ attempt, delayMs, err });
        await clock.sleep(delayMs, signal);
      }
    }
  }
}
