/** Thrown by `DisposalStack.dispose()` once every step ran, when some of them failed. */
export class DisposalError extends AggregateError {
  /** The steps that failed, in the order they ran (newest first). */
  readonly steps: readonly string[];

  constructor(failures: readonly { what: string; err: unknown }[]) {
    super(
      failures.map((f) => f.err),
      `shutdown steps failed: ${failures.map((f) => f.what).join(", ")}`,
    );
    this.name = "DisposalError";
    this.steps = failures.map((f) => f.what);
  }
}

/**
 * What berth has made so far, and how to release each: every resource is
 * pushed the moment it exists, so that a build that fails half-way releases
 * exactly what it made, newest first — and `close()` runs the same stack.
 * One failed step stops no other: the store still closes when a socket would
 * not. (Node 24 has `AsyncDisposableStack`; berth still runs on Node 22.)
 *
 * @example
 * const stack = new DisposalStack();
 * const store = await openStore(config);
 * stack.defer("store", () => store.close());
 * // … every later object likewise; on a failure or at close:
 * await stack.dispose();
 */
export class DisposalStack {
  readonly #steps: { what: string; dispose: () => unknown }[] = [];
  #disposing: Promise<void> | undefined;
  #disposed = false;

  /**
   * Releases `what` with `dispose` (awaited) when the stack is disposed of, before anything pushed
   * earlier. Pushed while the stack is being disposed of (a start still under way when close() came),
   * it is disposed of next; pushed once that is over, it throws: nothing would ever release it.
   */
  defer(what: string, dispose: () => unknown): void {
    if (this.#disposed) throw new Error(`cannot defer '${what}': the stack is disposed of already`);
    this.#steps.push({ what, dispose });
  }

  /** The steps still to run, newest first (for tests and diagnostics). */
  get pending(): readonly string[] {
    return this.#steps.map((s) => s.what).reverse();
  }

  /**
   * Runs every step newest first, each once, awaiting each before the next;
   * then rejects with a DisposalError when any failed. Safe to call twice: a
   * second call waits for the first.
   */
  dispose(): Promise<void> {
    this.#disposing ??= (async () => {
      const failures: { what: string; err: unknown }[] = [];
      for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
        try {
          await step.dispose();
        } catch (err) {
          failures.push({ what: step.what, err });
        }
      }
      this.#disposed = true;
      if (failures.length > 0) throw new DisposalError(failures);
    })();
    return this.#disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
