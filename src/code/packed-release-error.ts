import { ValidationError } from "../errors/errors.ts";

/** Why packed release bytes were refused (`details.reason`), besides the upload checks' own reasons. */
export type PackedReleaseRejection =
  | "not-a-release"
  | "unknown-version"
  | "truncated"
  | "trailing-data"
  | "too-many-files"
  | "bad-kind"
  | "bad-mode"
  | "bad-utf8"
  | "bad-path"
  | "not-canonical";

/** Long enough to recognise an entry, short enough that a hostile name cannot flood a log line. */
const MAX_ENTRY_NAME = 200;

/**
 * The one way packed release bytes are refused: as a whole, naming the first
 * offending entry when there is one. VALIDATION_FAILED, not retryable: the same
 * bytes are refused the same way every time (`details.field` is "code.release").
 */
export function packedReleaseError(
  reason: PackedReleaseRejection,
  entry: string | undefined,
  problem: string,
): ValidationError {
  const details: Record<string, unknown> = { field: "code.release", reason };
  let message = `The packed release ${problem}.`;
  if (entry !== undefined) {
    const name = entry.slice(0, MAX_ENTRY_NAME);
    details.entry = name;
    message = `Packed release entry ${JSON.stringify(name)} ${problem}.`;
  }
  return new ValidationError(message, { details });
}
