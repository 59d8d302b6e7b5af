// `@berth/client/code`: reading code from a folder. Node.js only (it reads the
// file system), so it is its own entry and the root entry stays browser-safe.
export type { CodeEntry } from "./code-entry.ts";
export type { CodeError, CodeErrorDetails, CodeRejection } from "./code-error.ts";
export {
  type CodeFromDirectoryOptions,
  codeFromDirectory,
  DEFAULT_IGNORES,
  type DirectoryCode,
  IGNORE_FILE,
} from "./code-from-directory.ts";
export { type CodeLimits, DEFAULT_CODE_LIMITS } from "./code-limits.ts";
export { IgnoreMatcher } from "./ignore-matcher.ts";
export { writeTar } from "./tar-writer.ts";
