import type { BerthError } from "../errors/berth-error.ts";
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
  readonly #refuse: (limit: number) => BerthError;
  #inFlight = 0;

  /**
   * `limit` 0 means no cap (for comparison in benchmarks). `refuse` makes the error for a call over the
   * cap (CHANNEL_BUSY for channel calls; the connection's large reads say RATE_LIMITED).
   */
  constructor(limit: number, refuse: (limit: number) => BerthError = (n) => new RequestsInFlightError(n)) {
    this.#limit = limit;
    this.#refuse = refuse;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#limit === 0) return call();
    if (this.#inFlight >= this.#limit) throw this.#refuse(this.#limit);
    this.#inFlight++;
    try {
      return await call();
    } finally {
      this.#inFlight--;
    }
  }
}
