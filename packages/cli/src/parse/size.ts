import { usageError } from "../cli-error.ts";

const UNIT_BYTES: Record<string, number> = { b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/**
 * A memory size as `docker run --memory` takes it — `128m`, `1g`, `524288k`,
 * `134217728b` (a bare number is bytes) — in whole mebibytes, which is what
 * berth's `resources.memoryMb` counts.
 *
 * @example parseMemoryMb("1g", "--memory") // 1024
 */
export function parseMemoryMb(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg])?i?b?$/i.exec(text.trim());
  const unit = UNIT_BYTES[(m?.[2] ?? "b").toLowerCase()];
  if (!m || unit === undefined) {
    throw usageError(`${flag} must be a size such as 128m or 1g (got '${text}')`);
  }
  const mb = (Number(m[1]) * unit) / 2 ** 20;
  if (!Number.isInteger(mb) || mb <= 0) {
    throw usageError(`${flag} must be a whole number of megabytes, such as 128m or 1g (got '${text}')`);
  }
  return mb;
}
