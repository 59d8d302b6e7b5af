import type { CodeLimits } from "../containers/code-files.ts";
import { ValidationError } from "../errors/errors.ts";
import type { CodeEntryList } from "./code-entry.ts";
import { codeFromFiles } from "./code-from-files.ts";
import { readCodeArchive } from "./read-code-archive.ts";

/** The `code` of a `container:update`: a map of files, or one tar / tar.gz archive. */
export type CodeUpload = { files: Record<string, string | Uint8Array> } | { archive: Uint8Array };

/** Reads either form of uploaded code into checked entries; nothing is written. */
export function readCode(code: CodeUpload, limits: CodeLimits): CodeEntryList {
  const files = "files" in code ? code.files : undefined;
  const archive = "archive" in code ? code.archive : undefined;
  // The schema should already ensure this; with two sources it would be unclear which one wins.
  if ((files === undefined) === (archive === undefined)) {
    throw new ValidationError("Code must have exactly one of 'files' or 'archive'.", {
      details: { field: "code" },
    });
  }
  return archive !== undefined ? readCodeArchive(archive, limits) : codeFromFiles(files!, limits);
}
