import { type Clock, systemClock } from "../util/clock.ts";
import { RateLimitedError } from "./admission-errors.ts";

export interface FairQueueOptions {
  /** Turns held at once. */
  concurrency: number;
  /** Waiting turns per owner; one more is refused. */
  maxWaitingPerOwner: number;
  /** Waiting turns in all; one more is refused. */
  maxWaiting: number;
  clock?: Pick<Clock, "now">;
  /** The first guess of how long a turn takes, before any has ended. */
  initialTurnMs?: number;
}

/** A turn at the engine; `release()` (idempotent) passes it on. */
export interface Turn {
  release(): void;
}

interface Waiter {
  grant: () => void;
}

/** How much the newest turn weighs in the running mean of turn lengths. */
const EWMA_WEIGHT = 0.2;

/**
 * A bounded, fair queue of turns at a shared resource (the engine): at most
 * `concurrency` turns at once, and when more are asked for, they wait in one
 * line per owner and are granted round-robin across owners — an owner who
 * queued thirty creates gets one turn, then the next owner in line gets one,
 * and so on, so that a latecomer waits for about one turn per owner ahead,
 * not for everything queued before it.
 *
 * The waiting lines are bounded per owner and in all; a request beyond either
 * bound is refused at once with RATE_LIMITED and `retryAfterMs`, estimated
 * from the running mean of turn lengths. `acquire(owner, { bounded: false })`
 * waits whatever the bounds (the admin's requests and steps of an operation
 * already admitted), and still counts toward them.
 *
 * With a free slot a turn is granted at once: a single client never waits.
 */
export class FairQueue {
  readonly #o: Required<Omit<FairQueueOptions, "clock">>;
  readonly #clock: Pick<Clock, "now">;
  /** Owners with waiters, in round-robin order: the first is served next, then moved to the back. */
  readonly #lines = new Map<string, Waiter[]>();
  #waiting = 0;
  #running = 0;
  #meanTurnMs: number;

  constructor(options: FairQueueOptions) {
    this.#o = { initialTurnMs: 200, ...options };
    this.#clock = options.clock ?? systemClock;
    this.#meanTurnMs = this.#o.initialTurnMs;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting;
  }

  acquire(owner: string, options: { bounded?: boolean } = {}): Promise<Turn> {
    if (this.#running < this.#o.concurrency && this.#waiting === 0) {
      return Promise.resolve(this.#start());
    }
    const line = this.#lines.get(owner);
    if (options.bounded !== false) {
      const perTurnMs = this.#meanTurnMs / this.#o.concurrency;
      if ((line?.length ?? 0) >= this.#o.maxWaitingPerOwner) {
        // One of this owner's waiters moves on about once per round of the owners waiting.
        return Promise.reject(new RateLimitedError("engine_queue", perTurnMs * this.#lines.size));
      }
      if (this.#waiting >= this.#o.maxWaiting) {
        return Promise.reject(new RateLimitedError("engine_queue", perTurnMs));
      }
    }
    return new Promise<Turn>((resolve) => {
      const waiter: Waiter = { grant: () => resolve(this.#start()) };
      if (line) line.push(waiter);
      else this.#lines.set(owner, [waiter]);
      this.#waiting++;
    });
  }

  #start(): Turn {
    this.#running++;
    const began = this.#clock.now();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#running--;
        const took = Math.max(0, this.#clock.now() - began);
        this.#meanTurnMs += EWMA_WEIGHT * (took - this.#meanTurnMs);
        this.#next();
      },
    };
  }

  #next(): void {
    while (this.#running < this.#o.concurrency) {
      const first = this.#lines.entries().next();
      if (first.done) return;
      const [owner, line] = first.value;
      const waiter = line.shift();
      // Served: to the back of the round, or out of it when nothing of this owner's waits.
      this.#lines.delete(owner);
      if (line.length > 0) this.#lines.set(owner, line);
      if (!waiter) continue;
      this.#waiting--;
      waiter.grant();
    }
  }
}
