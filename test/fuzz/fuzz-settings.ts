import type { Parameters } from "fast-check";

/**
 * How many generated cases a property runs, and with which seed: `npm test`
 * runs a few hundred in all, `npm run test:soak` sets BERTH_FUZZ_RUNS=10000.
 * A failure prints fast-check's seed, path and shrunk counterexample; replay
 * that one property (the path is its own) with
 * `BERTH_FUZZ_SEED=<seed> BERTH_FUZZ_PATH=<path> npm exec -- vitest run --project fuzz -t "<test name>"`.
 *
 * @example fc.assert(property, fuzzParameters(share))
 */
export const FUZZ_RUNS = positive(process.env.BERTH_FUZZ_RUNS, 500);

/** fast-check's parameters for a property given `share` of the run's cases (at least 3). */
export function fuzzParameters(share: number): Parameters<unknown> {
  const seed = process.env.BERTH_FUZZ_SEED;
  const path = process.env.BERTH_FUZZ_PATH;
  return {
    numRuns: Math.max(3, Math.ceil(FUZZ_RUNS * share)),
    ...(seed !== undefined && seed !== "" ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
    // The failure's message carries the seed, the path and the shrunk counterexample: vitest prints it.
    verbose: 1,
  };
}

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}
