import { usageError } from "../cli-error.ts";

const UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration as people type it — `500ms`, `5s`, `1.5m`, `2h` — in
 * milliseconds; a bare number is seconds, as in `docker stop -t 10`.
 *
 * @example parseDuration("5s", "--timeout") // 5000
 */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const unit = UNITS_MS[m?.[2] ?? "s"];
  if (!m || unit === undefined) {
    throw usageError(`${flag} must be a duration such as 500ms, 5s, 2m or 1h (got '${text}')`);
  }
  const ms = Math.round(Number(m[1]) * unit);
  if (ms <= 0) throw usageError(`${flag} must be longer than 0, such as 5s (got '${text}')`);
  return ms;
}
