import type { CodeEntryList } from "./code-entry.ts";
import { type CodeLimits, validateCodeFiles } from "./code-files.ts";

/**
 * Turns a `code.files` map into the same entries an archive gives, with the
 * checks container creation applies (errors name `field: "code.files"`).
 * Directories are implied by the paths; every file is written 0644.
 */
export function codeFromFiles(files: Record<string, string | Uint8Array>, limits: CodeLimits): CodeEntryList {
  return validateCodeFiles(files, limits).map(({ path, content }) => ({
    path,
    kind: "file",
    content,
    mode: 0o644,
  }));
}
