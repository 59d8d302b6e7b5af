import type { CodeEntryList } from "./code-entry.ts";
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
import { releaseDigest } from "./release-digest.ts";

/** A release in its canonical form (packed-release-format.ts), and the digest that names it. */
export interface PackedRelease {
  bytes: Buffer;
  /** `sha256:<hex>` of `bytes`. */
  digest: string;
}

interface Packable {
  path: Buffer;
  kind: number;
  mode: number;
  /** A file's content, a symlink's target; empty for a directory. */
  body: Buffer;
}

/**
 * Packs checked entries (from readCode: an upload's archive or files map)
 * into their canonical form: the same tree in any order gives the same bytes,
 * and so the same digest. Implied directories are left out (see the format).
 * File contents are copied into the result, which shares nothing with the
 * entries.
 *
 * The entries are trusted to be checked already; only a path given twice is
 * refused here (VALIDATION_FAILED), since the sorted list shows it for free.
 * unpackRelease checks everything on the way back.
 *
 * @example
 *   const { bytes, digest } = packRelease(readCode(code, limits));
 *   await store.releaseContents.put(digest, bytes);
 */
export function packRelease(entries: CodeEntryList): PackedRelease {
  const { implied } = parentDirs(entries);
  const packables: Packable[] = [];
  for (const entry of entries) {
    const path = Buffer.from(entry.path, "utf8");
    if (entry.kind === "file") {
      packables.push({ path, kind: KIND_FILE, mode: entry.mode, body: entry.content });
    } else if (entry.kind === "symlink") {
      packables.push({ path, kind: KIND_SYMLINK, mode: 0, body: Buffer.from(entry.target, "utf8") });
    } else if (!implied.has(entry.path)) {
      packables.push({ path, kind: KIND_DIR, mode: 0, body: Buffer.alloc(0) });
    }
  }
  // By bytes, not by JavaScript's UTF-16 order: the format is defined on bytes, for any reader.
  packables.sort((a, b) => Buffer.compare(a.path, b.path));

  let size = PACKED_HEADER_BYTES;
  for (const [i, p] of packables.entries()) {
    if (i > 0 && p.path.equals(packables[i - 1]!.path)) {
      throw packedReleaseError("not-canonical", p.path.toString("utf8"), "is given twice");
    }
    size += 1 + 4 + p.path.length;
    if (p.kind === KIND_FILE) size += 2 + 4 + p.body.length;
    else if (p.kind === KIND_SYMLINK) size += 4 + p.body.length;
  }

  const bytes = Buffer.allocUnsafe(size);
  let at = PACKED_MAGIC.copy(bytes, 0);
  at = bytes.writeUInt8(PACKED_VERSION, at);
  at = bytes.writeUInt32BE(packables.length, at);
  for (const p of packables) {
    at = bytes.writeUInt8(p.kind, at);
    at = bytes.writeUInt32BE(p.path.length, at);
    at += p.path.copy(bytes, at);
    if (p.kind === KIND_FILE) at = bytes.writeUInt16BE(p.mode, at);
    if (p.kind !== KIND_DIR) {
      at = bytes.writeUInt32BE(p.body.length, at);
      at += p.body.copy(bytes, at);
    }
  }
  return { bytes, digest: releaseDigest(bytes) };
}
