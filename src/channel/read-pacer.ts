import type { InboundBudget } from "./inbound-budget.ts";

/** What the pacer needs of a socket: that its reading can stop and start (a paused net.Socket stops reading once its buffer is full, so the kernel's socket buffer pushes back on the writer). */
export interface PausableSocket {
  pause(): unknown;
  resume(): unknown;
}

export interface PacerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setImmediate(fn: () => void): unknown;
  clearImmediate(handle: unknown): void;
}

const nodeTimers: PacerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setImmediate: (fn) => setImmediate(fn),
  clearImmediate: (handle) => clearImmediate(handle as NodeJS.Immediate),
};

/**
 * Keeps one workload's socket from taking berth's event loop. Node reads a
 * readable socket up to 32 times in a row (64 KiB each) before it looks at
 * anything else, so a workload that writes as fast as it can would have berth
 * decode megabytes of its frames while every other socket and Socket.IO wait.
 *
 * - **A slice per turn**: after `sliceBytes` read, the socket is paused and
 *   resumed from `setImmediate`, after the other callbacks of this turn.
 * - **A budget** (optional) on what the workload sends unasked: once it is in
 *   debt, the socket is paused until it is out of debt (one timer), and the
 *   workload's writes block on the kernel's socket buffer meanwhile.
 *
 * Pausing loses nothing: what was read stays in the stream's buffer, bounded
 * by its high-water mark, and comes out in order on resume.
 */
export class ReadPacer {
  readonly #socket: PausableSocket;
  readonly #sliceBytes: number;
  readonly #budget: InboundBudget | undefined;
  readonly #onHold: ((waitMs: number, started: boolean) => void) | undefined;
  readonly #timers: PacerTimers;
  #sliceRead = 0;
  #yield: unknown;
  #hold: unknown;
  #closed = false;

  constructor(opts: {
    socket: PausableSocket;
    sliceBytes: number;
    budget?: InboundBudget | undefined;
    /** A hold began (`started`) or was lengthened by `waitMs`: for the tally. */
    onHold?: (waitMs: number, started: boolean) => void;
    timers?: PacerTimers;
  }) {
    this.#socket = opts.socket;
    this.#sliceBytes = opts.sliceBytes;
    this.#budget = opts.budget;
    this.#onHold = opts.onHold;
    this.#timers = opts.timers ?? nodeTimers;
  }

  /** True while the socket is held for the budget. */
  get held(): boolean {
    return this.#hold !== undefined;
  }

  /** A chunk of `bytes` was read and its frames handled. */
  afterChunk(bytes: number): void {
    if (this.#closed) return;
    if (this.#budget !== undefined && this.#hold === undefined) {
      const wait = this.#budget.waitMs();
      if (wait > 0) {
        this.#holdFor(wait, true);
        return;
      }
    }
    this.#sliceRead += bytes;
    if (this.#sliceRead < this.#sliceBytes || this.#yield !== undefined) return;
    this.#sliceRead = 0;
    this.#socket.pause();
    this.#yield = this.#timers.setImmediate(() => {
      this.#yield = undefined;
      this.#resumeIfFree();
    });
  }

  /**
   * Stops every timer (the connection is over) and lets a socket it paused read on, so that the
   * peer's end is seen at once (what is read after the close is dropped). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const paused = this.#yield !== undefined || this.#hold !== undefined;
    if (this.#yield !== undefined) this.#timers.clearImmediate(this.#yield);
    if (this.#hold !== undefined) this.#timers.clearTimeout(this.#hold);
    this.#yield = undefined;
    this.#hold = undefined;
    if (paused) this.#socket.resume();
  }

  #holdFor(waitMs: number, started: boolean): void {
    this.#socket.pause();
    this.#onHold?.(waitMs, started);
    this.#hold = this.#timers.setTimeout(() => {
      this.#hold = undefined;
      // A timer may fire a little early by the budget's clock: hold on for the rest.
      const more = this.#budget?.waitMs() ?? 0;
      if (more > 0) this.#holdFor(more, false);
      else this.#resumeIfFree();
    }, waitMs);
  }

  #resumeIfFree(): void {
    if (this.#closed || this.#yield !== undefined || this.#hold !== undefined) return;
    this.#socket.resume();
  }
}
