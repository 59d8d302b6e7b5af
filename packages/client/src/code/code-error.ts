/** Why `codeFromDirectory` refused a folder; callers may branch on it (`details.reason`). */
export type CodeRejection =
  | "not-a-directory"
  | "unreadable"
  | "bad-path"
  | "special-file"
  | "symlink-escapes"
  | "too-many-files"
  | "too-large";

/** What a refusal carries besides its message: the reason, and the path (relative to the folder) when one is at fault. */
export interface CodeErrorDetails {
  reason: CodeRejection;
  path?: string;
  [key: string]: unknown;
}

/** An Error with the SDK's error shape (`code`, `details`), until the merge makes it a BerthError. */
export interface CodeError extends Error {
  code: "VALIDATION_FAILED";
  details: CodeErrorDetails;
}

/**
 * The one way `codeFromDirectory` refuses a folder. It throws a plain Error
 * with `code: "VALIDATION_FAILED"` and `details` for now — the same code the
 * server gives for code it refuses — because the SDK's BerthError is being
 * written in parallel; the merge turns this into `new BerthError(...)`.
 *
 * @example
 *   throw codeError("'sock' is a socket; only files, folders and symlinks can be code.", { reason: "special-file", path: "sock" });
 */
export function codeError(message: string, details: CodeErrorDetails, cause?: unknown): CodeError {
  const err = new Error(message, cause === undefined ? undefined : { cause }) as CodeError;
  err.name = "BerthError";
  err.code = "VALIDATION_FAILED";
  err.details = details;
  return err;
}
