/**
 * Counts a connection's bad frames and says when there have been too many in
 * a sliding window. It keeps the times of the last `limit + 1` bad frames in a
 * ring: when the oldest of them is still inside the window, the limit is
 * exceeded. Exact, bounded, and only touched when a frame is bad.
 */
export class BadFrameMeter {
  readonly #windowMs: number;
  readonly #times: number[];
  #next = 0;
  #total = 0;

  constructor(limit: number, windowMs: number) {
    this.#windowMs = windowMs;
    this.#times = new Array<number>(limit + 1).fill(Number.NEGATIVE_INFINITY);
  }

  get total(): number {
    return this.#total;
  }

  /** Records one bad frame; true when more than `limit` fell within the window. */
  record(now: number): boolean {
    this.#total++;
    this.#times[this.#next] = now;
    this.#next = (this.#next + 1) % this.#times.length;
    const oldest = this.#times[this.#next] ?? Number.NEGATIVE_INFINITY;
    return now - oldest < this.#windowMs;
  }
}
