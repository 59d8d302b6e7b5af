/**
 * Whether `actual` matches `expected` partially and deeply: every key of an
 * expected object must be present and match (extra keys are fine), arrays
 * match element by element up to the expected length, and everything else
 * must be equal. Used by health checks: `expect: { ok: true }` accepts
 * `{ ok: true, version: 3 }`.
 */
export function partialMatch(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== "object") return Object.is(actual, expected);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length < expected.length) return false;
    return expected.every((e, i) => partialMatch(actual[i], e));
  }
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
  const record = actual as Record<string, unknown>;
  return Object.entries(expected).every(([k, v]) => Object.hasOwn(record, k) && partialMatch(record[k], v));
}
