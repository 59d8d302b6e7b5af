import { BerthError } from "../errors/berth-error.ts";

/**
 * The `outcome` label of an operation or a request: `ok`, or the error code a
 * client received (docs/errors.md) — a closed set, so the label's cardinality
 * is bounded. Anything that is not a BerthError (an abort reason) is `INTERNAL`.
 */
export function outcomeOf(error: unknown): string {
  if (error === undefined) return "ok";
  return error instanceof BerthError ? error.code : "INTERNAL";
}
