import { ValidationError } from "../errors/errors.ts";

/** Why a code archive was refused; clients may branch on it (`details.reason`). */
export type ArchiveRejection =
  | "not-an-archive"
  | "gzip-truncated"
  | "gzip-corrupt"
  | "too-large"
  | "too-many-files"
  | "truncated"
  | "bad-checksum"
  | "bad-header"
  | "trailing-data"
  | "bad-path"
  | "unsupported-type"
  | "duplicate"
  | "file-dir-conflict"
  | "through-symlink"
  | "symlink-escapes"
  | "bad-hardlink";

/** Long enough to recognise an entry, short enough that a hostile name cannot flood a log line. */
const MAX_ENTRY_NAME = 200;

/**
 * The one way a code archive is refused: the whole archive, naming the first
 * offending entry when there is one (`entry` is absent for problems with the
 * archive as a whole, such as a corrupt gzip stream).
 */
export function archiveError(
  reason: ArchiveRejection,
  entry: string | undefined,
  problem: string,
  cause?: unknown,
): ValidationError {
  const details: Record<string, unknown> = { field: "code.archive", reason };
  let message = `The code archive ${problem}.`;
  if (entry !== undefined) {
    const name = entry.slice(0, MAX_ENTRY_NAME);
    details.entry = name;
    // JSON quoting shows a hostile name's NULs and newlines instead of printing them.
    message = `Code archive entry ${JSON.stringify(name)} ${problem}.`;
  }
  return new ValidationError(message, { details, cause });
}
