/** One request of a benchmark: resolves with the echoed answer. */
export type Call = () => Promise<unknown>;

/** What one batch of requests measured. */
export interface LoadResult {
  /** One per request that succeeded, in ms. */
  latenciesMs: number[];
  elapsedMs: number;
  count: number;
  errors: number;
  firstError: string | undefined;
}

/** Sends `count` requests one after another, each once the previous one is answered. */
export async function sequential(call: Call, count: number): Promise<LoadResult> {
  return concurrent(call, count, 1);
}

/**
 * Sends `count` requests keeping `inFlight` of them outstanding: a new one
 * leaves as soon as any answer comes back (a closed loop, as a real client
 * with a bounded window would). Latencies include the wait behind the others.
 */
export async function concurrent(call: Call, count: number, inFlight: number): Promise<LoadResult> {
  const result: LoadResult = { latenciesMs: [], elapsedMs: 0, count, errors: 0, firstError: undefined };
  let issued = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < count) {
      issued++;
      const t = performance.now();
      try {
        await call();
        result.latenciesMs.push(performance.now() - t);
      } catch (err) {
        result.errors++;
        result.firstError ??= err instanceof Error ? err.message : JSON.stringify(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  result.elapsedMs = performance.now() - started;
  return result;
}

/** Joins the batches of one measurement. */
export function merge(results: readonly LoadResult[]): LoadResult {
  return {
    latenciesMs: results.flatMap((r) => r.latenciesMs),
    elapsedMs: results.reduce((s, r) => s + r.elapsedMs, 0),
    count: results.reduce((s, r) => s + r.count, 0),
    errors: results.reduce((s, r) => s + r.errors, 0),
    firstError: results.find((r) => r.firstError !== undefined)?.firstError,
  };
}

/** Answers per second over the whole measurement. */
export function perSecond(result: LoadResult): number {
  return ((result.count - result.errors) * 1000) / result.elapsedMs;
}
