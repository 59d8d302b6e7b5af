/** Frames and bytes a second a workload may send unasked; 0 turns either limit off. */
export interface InboundBudgetLimits {
  framesPerSecond: number;
  bytesPerSecond: number;
}

/**
 * A token bucket in frames and in bytes over what a workload sends unasked
 * (messages, pings, bad frames), full at one second's worth. A frame already
 * read is always taken — it cannot be given back to the socket — so the bucket
 * may run into debt; `waitMs` says how long until it is out of debt again,
 * which is how long the reader holds the socket paused. The overshoot is at
 * most what one read held (a slice), so the debt is bounded too.
 *
 * ```ts
 * const budget = new InboundBudget({ framesPerSecond: 5000, bytesPerSecond: 8 << 20 });
 * budget.spend(line.length);
 * const wait = budget.waitMs(); // 0: go on reading; else pause that long
 * ```
 */
export class InboundBudget {
  readonly #frameRate: number;
  readonly #byteRate: number;
  readonly #now: () => number;
  #frames: number;
  #bytes: number;
  #at: number;

  constructor(limits: InboundBudgetLimits, now: () => number = () => performance.now()) {
    this.#frameRate = limits.framesPerSecond;
    this.#byteRate = limits.bytesPerSecond;
    this.#now = now;
    this.#frames = this.#frameRate;
    this.#bytes = this.#byteRate;
    this.#at = now();
  }

  /** False when both limits are off: no budget is kept at all. */
  static isOn(limits: InboundBudgetLimits): boolean {
    return limits.framesPerSecond > 0 || limits.bytesPerSecond > 0;
  }

  /** One unasked frame of `bytes` was read (refilled first: what an idle spell earns is capped at a second's worth). */
  spend(bytes: number): void {
    this.#refill();
    this.#frames--;
    this.#bytes -= bytes;
  }

  /** Milliseconds until neither bucket is in debt; 0 when none is. Refills first. */
  waitMs(): number {
    this.#refill();
    let wait = 0;
    if (this.#frameRate > 0 && this.#frames < 0) wait = (-this.#frames * 1000) / this.#frameRate;
    if (this.#byteRate > 0 && this.#bytes < 0) wait = Math.max(wait, (-this.#bytes * 1000) / this.#byteRate);
    return Math.ceil(wait);
  }

  #refill(): void {
    const now = this.#now();
    const seconds = (now - this.#at) / 1000;
    this.#at = now;
    if (seconds <= 0) return;
    this.#frames = Math.min(this.#frameRate, this.#frames + seconds * this.#frameRate);
    this.#bytes = Math.min(this.#byteRate, this.#bytes + seconds * this.#byteRate);
  }
}
