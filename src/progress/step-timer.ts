import type { StepStatus } from "#protocol";
export interface StepReport<S extends string = string> {
  /** The container the operation is about (for a create, the id it is being given). */
  id: string;
  step: S;
  status: StepStatus;
  /** Milliseconds the step took; on `done` and `failed` only. */
  ms?: number;
}

/** Told of every step as it starts and ends; what the API turns into `container:progress`. */
export type OnStep = (report: StepReport) => void;

/**
 * Measures the steps of one operation and tells `onStep` about each as it
 * starts and ends. The same measurements are the operation's `timings`, so
 * progress events and the answer never disagree. A listener that throws is
 * ignored: telling a client how far an operation got must never stop it.
 *
 * @example
 *   const timer = new StepTimer(id, onStep);
 *   await timer.time("stop", () => docker.stopContainer(dockerId));
 *   timer.timings.stop; // ms, rounded to a tenth
 */
export class StepTimer<S extends string> {
  readonly timings: Partial<Record<S, number>> = {};
  readonly #onStep: OnStep | undefined;
  readonly #started = performance.now();
  #id: string;
  #current: { step: S; at: number } | undefined;

  constructor(id: string, onStep?: OnStep) {
    this.#id = id;
    this.#onStep = onStep;
  }

  /** Runs `fn` as step `step`: started, then done (or failed, and the error rethrown). */
  async time<T>(step: S, fn: () => Promise<T> | T): Promise<T> {
    this.start(step);
    try {
      const value = await fn();
      this.done();
      return value;
    } catch (err) {
      this.fail();
      throw err;
    }
  }

  /** Begins `step`; ends the one before as done if it was left open. */
  start(step: S): void {
    if (this.#current) this.done();
    this.#current = { step, at: performance.now() };
    this.#tell({ id: this.#id, step, status: "started" });
  }

  /** Ends the current step as done; nothing when none is open. */
  done(): void {
    this.#end("done");
  }

  /** Ends the current step as failed; nothing when none is open. */
  fail(): void {
    this.#end("failed");
  }

  /** Milliseconds since the timer was made. */
  total(): number {
    return ms(performance.now() - this.#started);
  }

  /** An answer's `timings`: each of `steps` (0 for one that did not run) and the total so far. */
  report<K extends S>(steps: readonly K[]): Record<K | "total", number> {
    const out = { total: this.total() } as Record<K | "total", number>;
    for (const step of steps) out[step] = this.timings[step] ?? 0;
    return out;
  }

  #end(status: "done" | "failed"): void {
    const current = this.#current;
    if (!current) return;
    this.#current = undefined;
    const took = ms(performance.now() - current.at);
    this.timings[current.step] = took;
    this.#tell({ id: this.#id, step: current.step, status, ms: took });
  }

  #tell(report: StepReport): void {
    if (!this.#onStep) return;
    try {
      this.#onStep(report);
    } catch {
      // A listener's failure (a closed connection) is no reason to stop the operation.
    }
  }
}

/** Milliseconds rounded to a tenth, as every `timings` reports them. */
export function ms(value: number): number {
  return Math.round(value * 10) / 10;
}

/** What a service's long operation takes to report its steps as they go (`container:progress`). */
export interface StepOptions {
  onStep?: OnStep | undefined;
}
