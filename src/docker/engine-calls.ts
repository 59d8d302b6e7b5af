import type { BerthError } from "../errors/berth-error.ts";
import { DockerUnavailableError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { RetryPolicy } from "../util/retry-policy.ts";
import type { OutageGate } from "./outage-gate.ts";
import { isTransient, toDockerError } from "./to-docker-error.ts";

export interface EngineCallsOptions {
  log: SystemLogger;
  retry?: RetryPolicy | undefined;
  gate?: OutageGate | undefined;
  /** Told of every call as it ends, `error` undefined when it succeeded (metrics); retries of one call count once. */
  onCall?: ((op: string, error: unknown) => void) | undefined;
}

/**
 * How one call to the engine is made: refused at once while the gate says the
 * engine is down; retried on transient failures (engine unreachable,
 * connection reset, 5xx) by the retry policy, never on 404 or 409; whatever
 * the engine threw turned into a berth error (toDockerError); an outage found
 * reported to the gate; and every call's end told to `onCall`.
 */
export class EngineCalls {
  readonly #retry: RetryPolicy;
  readonly #gate: OutageGate | undefined;
  readonly #onCall: ((op: string, error: unknown) => void) | undefined;

  constructor(options: EngineCallsOptions) {
    const log = options.log;
    this.#gate = options.gate;
    this.#onCall = options.onCall;
    this.#retry =
      options.retry ??
      new RetryPolicy({
        maxAttempts: 4,
        baseDelayMs: 100,
        maxDelayMs: 1_000,
        maxTotalMs: 5_000,
        isRetryable: (err) => isTransient(err),
        onRetry: ({ attempt, delayMs, err }) =>
          log.warn({ attempt, delayMs, err }, "engine call failed; retrying"),
      });
  }

  /** Runs `fn` as the engine operation `op`; with `notFound`, a 404 is its answer instead of an error. */
  async run<T>(op: string, fn: () => Promise<T>, notFound?: () => T): Promise<T> {
    if (this.#onCall === undefined) return this.#attempt(op, fn, notFound);
    try {
      const result = await this.#attempt(op, fn, notFound);
      this.#onCall(op, undefined);
      return result;
    } catch (err) {
      this.#onCall(op, err);
      throw err;
    }
  }

  /** Tells `onCall` of a call made outside `run` (the probe, which neither retries nor asks the gate). */
  report(op: string, error: unknown): void {
    this.#onCall?.(op, error);
  }

  async #attempt<T>(op: string, fn: () => Promise<T>, notFound?: () => T): Promise<T> {
    if (this.#gate?.isDown()) throw new DockerUnavailableError({ details: { op } });
    try {
      return await this.#retry.run(async () => {
        try {
          return await fn();
        } catch (err) {
          const mapped: BerthError = toDockerError(err, op);
          if (notFound && (err as { statusCode?: number }).statusCode === 404) return notFound();
          throw mapped;
        }
      });
    } catch (err) {
      if (err instanceof DockerUnavailableError) this.#gate?.reportDown(err);
      throw err;
    }
  }
}
