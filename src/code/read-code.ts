import { ValidationError } from "../errors/errors.ts";
import type { CodeEntryList } from "./code-entry.ts";
import type { CodeLimits } from "./code-files.ts";
import { codeFromFiles } from "./code-from-files.ts";
import { readCodeArchive } from "./read-code-archive.ts";

/** The `code` of a create or an update: a map of files, or one tar / tar.gz archive (exactly one of them). */
export type CodeUpload = {
  files?: Record<string, string | Uint8Array> | undefined;
  archive?: Uint8Array | undefined;
};

/** Reads either form of uploaded code into checked entries; nothing is written. */
export function readCode(code: CodeUpload, limits: CodeLimits): CodeEntryList {
  const { files, archive } = code;
  // The schema should already ensure this; with two sources it would be unclear which one wins.
  if ((files === undefined) === (archive === undefined)) {
    throw new ValidationError("Code must have exactly one of 'files' or 'archive'.", {
      details: { field: "code" },
    });
  }
  return archive !== undefined ? readCodeArchive(archive, limits) : codeFromFiles(files!, limits);
}
