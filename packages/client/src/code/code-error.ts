import { BerthError } from "../berth-error.ts";
import { ERROR_CODES } from "../protocol/index.ts";

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

/**
 * The one way `codeFromDirectory` refuses a folder: a BerthError, as every
 * failure of the SDK is. Code over berth's limits is PAYLOAD_TOO_LARGE, as
 * the SDK's own check before sending says it (berth would refuse it or drop
 * the connection); anything else the folder holds that berth would refuse is
 * VALIDATION_FAILED, the code berth gives for such code.
 *
 * @example
 *   throw codeError("'sock' is a socket; only files, folders and symlinks can be code.", { reason: "special-file", path: "sock" });
 */
export function codeError(
  message: string,
  details: CodeErrorDetails,
  cause?: unknown,
): BerthError<"VALIDATION_FAILED" | "PAYLOAD_TOO_LARGE"> {
  const options = { details, ...(cause === undefined ? {} : { cause }) };
  if (details.reason === "too-large" || details.reason === "too-many-files") {
    return BerthError.client("PAYLOAD_TOO_LARGE", message, options);
  }
  const def = ERROR_CODES.VALIDATION_FAILED;
  return new BerthError({
    code: "VALIDATION_FAILED",
    message,
    category: def.category,
    retryable: def.retryable,
    ...options,
  });
}
