import { RequestsInFlightError } from "./connection-limit-errors.ts";

/**
 * One connection's cap on channel calls waiting for an answer. It bounds what
 * one connection can make berth hold (a pending call, its timer, and the
 * answer on its way back) without capping throughput: a closed loop with 64
 * in flight already saturates the Socket.IO path, so more in flight only adds
 * latency. Above the cap the call fails at once with CHANNEL_BUSY.
 */
export class InFlightLimit {
  readonly #limit: number;
  #inFlight = 0;

  /** `limit` 0 means no cap (for comparison in benchmarks). */
  constructor(limit: number) {
    this.#limit = limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#limit === 0) return call();
    if (this.#inFlight >= this.#limit) throw new RequestsInFlightError(this.#limit);
    this.#inFlight++;
    try {
      return await call();
    } finally {
      this.#inFlight--;
    }
  }
}
