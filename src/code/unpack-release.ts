import { ValidationError } from "../errors/errors.ts";
import type { CodeEntryList } from "./code-entry.ts";
import { CodeEntryBuilder } from "./code-entry-builder.ts";
import { type CodeLimits, checkCodePath } from "./code-files.ts";
import { packedReleaseError } from "./packed-release-error.ts";
import {
  KIND_DIR,
  KIND_FILE,
  KIND_SYMLINK,
  PACKED_HEADER_BYTES,
  PACKED_MAGIC,
  PACKED_VERSION,
} from "./packed-release-format.ts";
import { parentDirs } from "./parent-dirs.ts";
import type { TarEntry } from "./tar-reader.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads packed release bytes back into entries, checked exactly as an upload
 * is (CodeEntryBuilder: paths, symlink targets, the tree's consistency, the
 * limits counted on what is read), and refused unless they are in canonical
 * form — so a packed release has one set of entries and one digest. Bytes
 * from the store are not trusted more than an upload: a database row can be
 * written by whoever holds the database.
 *
 * Every length is checked against what is left before anything is read, and
 * nothing is allocated by a declared size: file contents are views into
 * `bytes`, which must not change afterwards. Refusals are VALIDATION_FAILED
 * (`details: { field: "code.release", reason, entry? }`). The digest is the
 * caller's to check (releaseDigest): these are the bytes it names or not.
 *
 * @example
 *   const bytes = await store.releaseContents.get(digest);
 *   await writeReleaseEntries(dir, unpackRelease(bytes, limits));
 */
export function unpackRelease(bytes: Uint8Array, limits: CodeLimits): CodeEntryList {
  const input = new Cursor(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (bytes.byteLength < PACKED_HEADER_BYTES || !input.take(PACKED_MAGIC.length).equals(PACKED_MAGIC)) {
    throw packedReleaseError("not-a-release", undefined, "does not start with berth's packed release header");
  }
  const version = input.u8();
  if (version !== PACKED_VERSION) {
    throw packedReleaseError("unknown-version", undefined, `is of version ${version}, not ${PACKED_VERSION}`);
  }
  const count = input.u32();
  // Refused before the first entry: a count is a claim, and nothing is sized by it.
  if (count > limits.maxFiles) {
    throw packedReleaseError(
      "too-many-files",
      undefined,
      `declares ${count} entries: at most ${limits.maxFiles} are allowed`,
    );
  }
  const builder = new CodeEntryBuilder(limits);
  let previous: Buffer | undefined;
  for (let i = 0; i < count; i++) {
    const kind = input.u8();
    const rawPath = input.sized("a path");
    const path = decode(rawPath, undefined, "path");
    if (previous && Buffer.compare(previous, rawPath) >= 0) {
      throw packedReleaseError("not-canonical", path, "is out of order or given twice");
    }
    previous = rawPath;
    // Checked here as well as by the builder: the builder tidies a tar name (`./a`, `dir/`) first,
    // and a packed path that would need tidying is not canonical.
    const problem = checkCodePath(path);
    if (problem) throw packedReleaseError("bad-path", path, `has a path that ${problem}`);
    add(builder, readEntry(input, kind, path));
  }
  if (input.left > 0) {
    throw packedReleaseError("trailing-data", undefined, `has ${input.left} bytes after its last entry`);
  }
  const { implied } = parentDirs(builder.entries);
  for (const entry of builder.entries) {
    if (entry.kind === "dir" && implied.has(entry.path)) {
      throw packedReleaseError(
        "not-canonical",
        entry.path,
        "is a directory listed although entries lie beneath it",
      );
    }
  }
  return builder.entries;
}

/** One entry, as the member a tar would give for it (what CodeEntryBuilder checks). */
function readEntry(input: Cursor, kind: number, path: string): TarEntry {
  const none = Buffer.alloc(0);
  switch (kind) {
    case KIND_FILE: {
      const mode = input.u16(path);
      if (mode !== 0o644 && mode !== 0o755) {
        throw packedReleaseError("bad-mode", path, `has the mode 0${mode.toString(8)}, not 0644 or 0755`);
      }
      return { name: path, type: "0", mode, data: input.sized("its data", path), linkname: "" };
    }
    case KIND_DIR:
      return { name: path, type: "5", mode: 0o755, data: none, linkname: "" };
    case KIND_SYMLINK: {
      const target = decode(input.sized("its target", path), path, "link target");
      return { name: path, type: "2", mode: 0o777, data: none, linkname: target };
    }
    default:
      throw packedReleaseError("bad-kind", path, `is of an unknown kind (${kind})`);
  }
}

/** The upload's checks, refusing as a packed release: same reason, same entry, this field. */
function add(builder: CodeEntryBuilder, member: TarEntry): void {
  try {
    builder.add(member);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(`The packed release was refused: ${err.message}`, {
      details: { ...err.details, field: "code.release" },
      cause: err,
    });
  }
}

function decode(raw: Buffer, entry: string | undefined, what: string): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw packedReleaseError("bad-utf8", entry, `has a ${what} that is not UTF-8`);
  }
}

/** Reads forward through the bytes; every read is checked against what is left. */
class Cursor {
  readonly #bytes: Buffer;
  #at = 0;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  get left(): number {
    return this.#bytes.length - this.#at;
  }

  u8(entry?: string): number {
    return this.take(1, entry).readUInt8(0);
  }

  u16(entry?: string): number {
    return this.take(2, entry).readUInt16BE(0);
  }

  u32(entry?: string): number {
    return this.take(4, entry).readUInt32BE(0);
  }

  /** A u32 length, then that many bytes. */
  sized(what: string, entry?: string): Buffer {
    const length = this.u32(entry);
    if (length > this.left) {
      throw packedReleaseError(
        "truncated",
        entry,
        `declares ${length} bytes of ${what}, but only ${this.left} follow`,
      );
    }
    return this.take(length, entry);
  }

  take(length: number, entry?: string): Buffer {
    if (length > this.left) throw packedReleaseError("truncated", entry, "ends in the middle of an entry");
    const view = this.#bytes.subarray(this.#at, this.#at + length);
    this.#at += length;
    return view;
  }
}
