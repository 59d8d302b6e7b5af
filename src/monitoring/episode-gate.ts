/**
 * Tells a pressure episode's start from its continuation, so that a feed
 * hears of an episode once: `active(now)` is true the first time a
 * condition holds, and again only after it has not held for `quietMs` — a
 * workload throttled all day is reported once, not every sample, and one
 * that flares up every minute is not reported every minute.
 *
 * ```ts
 * const gate = new EpisodeGate(60_000);
 * if (throttled && gate.active(now)) report();
 * ```
 */
export class EpisodeGate {
  readonly #quietMs: number;
  #lastActiveAt = Number.NEGATIVE_INFINITY;

  constructor(quietMs: number) {
    this.#quietMs = quietMs;
  }

  /** The condition holds at `nowMs`; true when this starts a new episode (the one moment to report). */
  active(nowMs: number): boolean {
    const starts = nowMs - this.#lastActiveAt >= this.#quietMs;
    this.#lastActiveAt = nowMs;
    return starts;
  }
}
