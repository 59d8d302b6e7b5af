import { usageError } from "../cli-error.ts";

/**
 * A whole number of at least `min` from a flag or argument.
 *
 * @example parseWholeNumber("100", "--tail", 1) // 100
 */
export function parseWholeNumber(text: string, flag: string, min = 0): number {
  if (!/^\d+$/.test(text.trim())) throw usageError(`${flag} must be a whole number (got '${text}')`);
  const n = Number(text);
  if (n < min) throw usageError(`${flag} must be at least ${min} (got '${text}')`);
  return n;
}

/**
 * A CPU share as `docker run --cpus` takes it: `0.5` is half a core.
 *
 * @example parseCpus("0.5", "--cpus") // 0.5
 */
export function parseCpus(text: string, flag: string): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text.trim())) {
    throw usageError(`${flag} must be a number of cores such as 0.5 or 2 (got '${text}')`);
  }
  const n = Number(text);
  if (n <= 0) throw usageError(`${flag} must be more than 0 (got '${text}')`);
  return n;
}
