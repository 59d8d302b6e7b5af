import { archiveError } from "./archive-error.ts";
import { isArchiveRoot, normaliseArchivePath } from "./archive-path.ts";
import type { CodeEntry, CodeEntryList, CodeFile } from "./code-entry.ts";
import type { CodeLimits } from "./code-files.ts";
import { checkCodePath } from "./code-files.ts";
import { checkSymlinkTarget } from "./symlink-target.ts";
import type { TarEntry } from "./tar-reader.ts";

const TYPE_NAMES: Record<string, string> = {
  "3": "a character device",
  "4": "a block device",
  "6": "a FIFO",
};

/**
 * Turns tar members into checked code entries one at a time, so the archive is
 * refused at the first bad member: limits are counted on what was actually
 * read, every path is checked, and the tree is kept consistent (no duplicates,
 * nothing both a file and a directory, nothing beneath a symlink).
 */
export class CodeEntryBuilder {
  readonly #limits: CodeLimits;
  readonly #entries: CodeEntry[] = [];
  readonly #byPath = new Map<string, CodeEntry>();
  /** Every directory known so far, whether listed or implied by a path beneath it. */
  readonly #dirs = new Set<string>();
  #bytes = 0;

  constructor(limits: CodeLimits) {
    this.#limits = limits;
  }

  get entries(): CodeEntryList {
    return this.#entries;
  }

  add(member: TarEntry): void {
    const { name, type } = member;
    // Data read counts against the limit whatever the member is.
    this.#countBytes(name, member.data.length);
    if (type === "5" && isArchiveRoot(name)) return;
    // "7" is a contiguous file: a regular file to every reader on Linux.
    const isFile = type === "0" || type === "7";
    if (!isFile && type !== "1" && type !== "2" && type !== "5") {
      const what = TYPE_NAMES[type] ?? `an unsupported entry type (${JSON.stringify(type)})`;
      throw archiveError("unsupported-type", name, `is ${what}`);
    }
    const path = normaliseArchivePath(name, type === "5");
    const problem = checkCodePath(path);
    if (problem) throw archiveError("bad-path", name, `has a path that ${problem}`);
    if (this.#entries.length >= this.#limits.maxFiles) {
      throw archiveError(
        "too-many-files",
        name,
        `is one entry too many: at most ${this.#limits.maxFiles} are allowed`,
      );
    }

    if (isFile) {
      // Any execute bit makes a script runnable; nothing else of the archive's mode is kept.
      this.#place(name, {
        path,
        kind: "file",
        content: member.data,
        mode: member.mode & 0o111 ? 0o755 : 0o644,
      });
    } else if (type === "5") {
      this.#place(name, { path, kind: "dir" });
    } else if (type === "2") {
      const targetProblem = checkSymlinkTarget(path, member.linkname);
      if (targetProblem) {
        const target = JSON.stringify(member.linkname.slice(0, 200));
        throw archiveError("symlink-escapes", name, `is a symlink to ${target}, which ${targetProblem}`);
      }
      this.#place(name, { path, kind: "symlink", target: member.linkname });
    } else {
      this.#place(name, this.#hardLinkCopy(name, path, member.linkname));
    }
  }

  /** A hard link becomes a copy, so it costs its target's size again on disk. */
  #hardLinkCopy(name: string, path: string, linkname: string): CodeFile {
    const target = this.#byPath.get(normaliseArchivePath(linkname, false));
    if (target?.kind !== "file") {
      const shown = JSON.stringify(linkname.slice(0, 200));
      throw archiveError(
        "bad-hardlink",
        name,
        `is a hard link to ${shown}, which is not a file earlier in the archive`,
      );
    }
    this.#countBytes(name, target.content.length);
    return { path, kind: "file", content: target.content, mode: target.mode };
  }

  #countBytes(name: string, bytes: number): void {
    this.#bytes += bytes;
    if (this.#bytes > this.#limits.maxBytes) {
      throw archiveError(
        "too-large",
        name,
        `takes the code past the limit of ${this.#limits.maxBytes} bytes`,
      );
    }
  }

  #place(name: string, entry: CodeEntry): void {
    const { path, kind } = entry;
    if (this.#byPath.has(path)) throw archiveError("duplicate", name, "appears twice in the archive");
    // Deepest parent first, stopping at the first known directory: its own
    // parents were checked when it became known, which keeps this linear.
    for (let end = path.lastIndexOf("/"); end > 0; end = path.lastIndexOf("/", end - 1)) {
      const parent = path.slice(0, end);
      if (this.#dirs.has(parent)) break;
      const existing = this.#byPath.get(parent);
      if (existing?.kind === "symlink") {
        throw archiveError("through-symlink", name, `would be written through the symlink '${parent}'`);
      }
      if (existing) throw archiveError("file-dir-conflict", name, `is inside '${parent}', which is a file`);
      this.#dirs.add(parent);
    }
    if (kind === "dir") {
      this.#dirs.add(path);
    } else if (this.#dirs.has(path)) {
      throw archiveError("file-dir-conflict", name, `is a ${kind}, but entries beneath it came first`);
    }
    this.#byPath.set(path, entry);
    this.#entries.push(entry);
  }
}
