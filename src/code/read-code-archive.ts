import { archiveError } from "./archive-error.ts";
import type { CodeEntryList } from "./code-entry.ts";
import { CodeEntryBuilder } from "./code-entry-builder.ts";
import type { CodeLimits } from "./code-files.ts";
import { gunzipBounded, isGzip } from "./gunzip-bounded.ts";
import { readTarEntries } from "./tar-reader.ts";

// What a tar adds around each member: its header, the padding of its data to
// 512 bytes, and room for a GNU long-name or pax header with its data.
const ENTRY_OVERHEAD = 2048;
// The end-of-archive marker and the padding to a record (10 KiB for GNU tar's
// default blocking factor, more for larger ones).
const END_ALLOWANCE = 64 * 1024;

/**
 * The most bytes an unpacked archive within `limits` can honestly take; a
 * gzip stream is inflated no further than this. About 28 MB at the defaults
 * (8 MiB, 10,000 entries).
 */
export function archiveByteBudget(limits: CodeLimits): number {
  return limits.maxBytes + limits.maxFiles * ENTRY_OVERHEAD + END_ALLOWANCE;
}

/**
 * Reads a tar or tar.gz code archive (gzip is detected by its magic bytes) into
 * checked entries, without writing anything. The whole archive is refused with
 * a ValidationError (`details: { field: "code.archive", entry?, reason }`) at
 * the first problem: unsafe paths or links, unsupported entry types, limits
 * passed (counted as read: `maxFiles` counts every file, directory and link),
 * or a corrupt, truncated or oversized stream.
 *
 * File contents are views into the (unpacked) archive, which must not change
 * afterwards.
 *
 * @example
 *   const entries = readCodeArchive(code.archive, { maxBytes: config.maxCodeBytes, maxFiles: config.maxCodeFiles });
 *   await writeReleaseEntries(paths.releaseDir(id, release), entries);
 */
export function readCodeArchive(archive: Uint8Array, limits: CodeLimits): CodeEntryList {
  const budget = archiveByteBudget(limits);
  const tar = isGzip(archive)
    ? gunzipBounded(archive, budget)
    : Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  if (tar.length > budget) {
    throw archiveError("too-large", undefined, `is larger than ${budget} bytes unpacked`);
  }
  const builder = new CodeEntryBuilder(limits);
  for (const member of readTarEntries(tar)) builder.add(member);
  return builder.entries;
}
