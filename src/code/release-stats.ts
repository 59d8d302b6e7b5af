import { createHash } from "node:crypto";
import type { CodeEntryList } from "./code-entry.ts";
import { parentDirs } from "./parent-dirs.ts";

export interface ReleaseStats {
  /** Regular files (hard links count once per name). */
  files: number;
  /** Bytes of file content, as written to disk. */
  bytes: number;
  /** Hex sha256 of the tree; the same code gives the same hash whichever form it came in. */
  hash: string;
}

/**
 * Size and a stable hash of a release. The hash covers, in path order, each
 * entry's kind, path, and mode and content (files) or target (symlinks).
 * Directories count only when empty: those implied by a path beneath them are
 * left out, so an archive that lists `lib/` hashes like a files map that
 * does not. Paths and targets never hold a NUL, so NUL separates fields.
 */
export function releaseStats(entries: CodeEntryList): ReleaseStats {
  const { implied } = parentDirs(entries);
  const sorted = entries
    .filter((e) => e.kind !== "dir" || !implied.has(e.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hash = createHash("sha256");
  let files = 0;
  let bytes = 0;
  for (const entry of sorted) {
    hash.update(`${entry.kind}\0${entry.path}\0`);
    if (entry.kind === "file") {
      files++;
      bytes += entry.content.length;
      hash.update(`${entry.mode.toString(8)}\0${entry.content.length}\0`);
      hash.update(entry.content);
    } else if (entry.kind === "symlink") {
      hash.update(`${entry.target}\0`);
    }
  }
  return { files, bytes, hash: hash.digest("hex") };
}

/** Bytes of file content, as `releaseStats` counts them, without hashing (for a quota check before anything is written). */
export function codeBytes(entries: CodeEntryList): number {
  let bytes = 0;
  for (const entry of entries) if (entry.kind === "file") bytes += entry.content.length;
  return bytes;
}
