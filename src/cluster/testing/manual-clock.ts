import type { Clock } from "../../util/clock.ts";

/**
 * Time that passes only when a test says so: `sleep` waits until `advance`
 * has moved the clock past its deadline, and `sleeping` resolves when some
 * code has started waiting — the event a test awaits instead of a real delay.
 */
export class ManualClock implements Clock {
  #now = 0;
  #sleepers: { until: number; ms: number; wake: () => void }[] = [];
  #onSleep: (() => void)[] = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper = {
        until: this.#now + ms,
        ms,
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.push(sleeper);
      for (const notify of this.#onSleep.splice(0)) notify();
    });
  }

  /** How many sleeps are pending. */
  get sleepers(): number {
    return this.#sleepers.length;
  }

  /**
   * Resolves once `count` sleeps are pending (a loop has come round to its wait); with `ms`, only sleeps of
   * that length count (code that waits on the clock for two things, e.g. an interval and a timeout).
   */
  async sleeping(count = 1, ms?: number): Promise<void> {
    const pending = () => this.#sleepers.filter((s) => ms === undefined || s.ms === ms).length;
    while (pending() < count) await new Promise<void>((r) => this.#onSleep.push(r));
  }

  /** Moves time on by `ms`, waking every sleep due by then, earliest first. */
  advance(ms: number): void {
    this.#now += ms;
    const due = this.#sleepers.filter((s) => s.until <= this.#now).sort((a, b) => a.until - b.until);
    this.#sleepers = this.#sleepers.filter((s) => s.until > this.#now);
    for (const s of due) s.wake();
  }
}
