/**
 * berth reads tar by hand, not with tar-stream's `extract`. tar-stream 3.2.2
 * was tried in this reader's place, with every check berth could still make on
 * what it hands over (bench/tar-stream-code-reader.ts): 29 of the 85 cases of
 * read-code-archive.test.ts and read-code-archive.framing.test.ts then fail.
 * A reader lenient about framing reads other names or other members than
 * `tar` does, and extract is lenient where its caller cannot see:
 * - It skips zero blocks and reads on, so the end-of-archive marker is
 *   invisible: members hidden after it (in the tar, or in a second gzip
 *   member) are read as if they belonged, and an archive without a marker, an
 *   empty upload, or pax headers with no member after them read as whole.
 * - A directory that declares data gets a stream that never ends, so reading
 *   it hangs; pax global headers are applied only to members with a pax
 *   header of their own (GNU tar applies them to every member).
 * - Header fields never reach the caller raw, and are read leniently: octal
 *   through parseInt (the mode "0009999" reads as 0, and the base-256 size -1,
 *   all 0xff, as 0); names cut at their first NUL (a second name hidden after
 *   it in the name, link or prefix field goes unseen); the checksum summed
 *   unsigned only (the signed sum old tars wrote is refused); and a bad
 *   checksum is a plain Error that cannot name its entry.
 * - Extended headers are consumed inside it: a malformed pax record is skipped
 *   or read in part ("99 path=a\n" gives the path "a\n"), pax values are
 *   decoded as UTF-8 leniently (invalid bytes become U+FFFD, so the path
 *   checked is not the path another tool sees), an empty pax path or link
 *   target gives way to the header's (GNU tar reads it as empty), an invalid
 *   pax size is taken, a second pax or GNU long-name header silently replaces
 *   the first, and pax and long-name data are buffered up to 4 MiB before
 *   their size could be refused (here: 1 MiB and 4 KiB, refused at the header).
 * - Its errors are plain Errors told apart by message text only, and it is
 *   asynchronous, which would make readCode and every caller async.
 * What it would give is a streamed inflate, which berth does not need: an
 * archive arrives whole in one Socket.IO message, and every file stays in
 * memory until the release is written. On a 54 MB archive of 5,000 files
 * (limits raised; bench/archive-read.ts) this reader took 0.4 times
 * tar-stream's time for a tar and 0.6 for a tar.gz, and peaked at 6 MB
 * against 11 (tar) and 59 MB against 68 (tar.gz).
 */
import { BerthError } from "../errors/berth-error.ts";
import { archiveError } from "./archive-error.ts";
import { parsePaxRecords } from "./pax-records.ts";
import { decodeName, isZeroBlock, parseTarHeader, TAR_BLOCK, type TarHeader } from "./tar-header.ts";

/** One member of a tar archive, with GNU long names and pax overrides applied; nothing checked but structure. */
export interface TarEntry {
  name: string;
  linkname: string;
  /** The typeflag character: "0" file, "1" hard link, "2" symlink, "5" directory, anything else. */
  type: string;
  mode: number;
  /** A view into the archive holding the data actually present (never more than what remains). */
  data: Buffer;
}

// A longer name could never pass checkCodePath (1024 characters), so there is no reason to read one.
const MAX_LONG_NAME = 4096;
// pax headers also carry timestamps and extended attributes (macOS tar adds several); this is generous.
const MAX_PAX_HEADER = 1024 * 1024;

/** What metadata headers say about the next real entry. */
interface Pending {
  path?: string | undefined;
  linkpath?: string | undefined;
  size?: number | undefined;
  longName?: string | undefined;
  longLink?: string | undefined;
  pax?: boolean;
  sparse?: boolean;
}

/**
 * Walks a tar archive (ustar, GNU long names `L`/`K`, pax `x`; pax `g` checked, then ignored)
 * one header at a time, yielding each member as it is reached so the caller can
 * count and refuse before the rest is looked at. Declared sizes are never
 * trusted: data is a view of what is actually there, and a header that claims
 * more than remains refuses the archive. The archive must end with its
 * end-of-archive marker followed only by zero padding.
 */
export function* readTarEntries(tar: Buffer): Generator<TarEntry, void, undefined> {
  let offset = 0;
  let pending: Pending = {};
  for (;;) {
    if (tar.length - offset < TAR_BLOCK) {
      throw archiveError("truncated", undefined, "ends without an end-of-archive marker (it is truncated)");
    }
    const block = tar.subarray(offset, offset + TAR_BLOCK);
    if (isZeroBlock(block)) {
      if (Object.keys(pending).length > 0) {
        throw archiveError(
          "truncated",
          pending.path ?? pending.longName,
          "has extended headers but no entry after them",
        );
      }
      if (!isAllZero(tar.subarray(offset))) {
        // Data hidden after the end is what some readers (tar -i) would extract and berth would not.
        throw archiveError("trailing-data", undefined, "has data after its end-of-archive marker");
      }
      return;
    }
    const header = offset === 0 ? parseFirstHeader(block) : parseTarHeader(block);
    const isMetadata =
      header.type === "x" || header.type === "g" || header.type === "L" || header.type === "K";
    const name = pending.path ?? pending.longName ?? header.name;
    const size = isMetadata ? header.size : (pending.size ?? header.size);
    const start = offset + TAR_BLOCK;
    const remaining = tar.length - start;
    if (size > remaining) {
      throw archiveError("truncated", name, `declares ${size} bytes of data but only ${remaining} remain`);
    }
    const data = tar.subarray(start, start + size);
    offset = start + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;

    switch (header.type) {
      case "x":
        if (pending.pax) throw archiveError("bad-header", name, "has two pax headers in a row");
        if (size > MAX_PAX_HEADER) throw archiveError("bad-header", name, "has an oversized pax header");
        applyPax(pending, parsePaxRecords(data, name), name);
        break;
      case "g":
        if (size > MAX_PAX_HEADER) throw archiveError("bad-header", name, "has an oversized pax header");
        checkGlobalPax(parsePaxRecords(data, name), name);
        break;
      case "L":
        if (pending.longName !== undefined)
          throw archiveError("bad-header", name, "has two long-name headers");
        pending.longName = longName(data, name);
        break;
      case "K":
        if (pending.longLink !== undefined)
          throw archiveError("bad-header", name, "has two long-link headers");
        pending.longLink = longName(data, name);
        break;
      default:
        // A sparse file's data is a map plus fragments, not the file's content.
        if (pending.sparse) throw archiveError("unsupported-type", name, "is a sparse file");
        // GNU tar and tar-stream skip no data after a directory, whatever its size says; skipping it
        // here would hide from berth members that tar lists (or the other way round).
        if (header.type === "5" && size > 0) {
          throw archiveError("bad-header", name, "is a directory that declares data");
        }
        yield {
          name,
          linkname: pending.linkpath ?? pending.longLink ?? header.linkname,
          type: header.type,
          mode: header.mode,
          data,
        };
        pending = {};
    }
  }
}

/** A first header that fails its checksum means this is not a tar at all (a zip, say), not a damaged entry. */
function parseFirstHeader(block: Buffer): TarHeader {
  try {
    return parseTarHeader(block);
  } catch (err) {
    if (err instanceof BerthError && err.details?.reason === "bad-checksum") {
      throw archiveError(
        "not-an-archive",
        undefined,
        "is neither a tar nor a gzip-compressed tar archive",
        err,
      );
    }
    throw err;
  }
}

/** The pax keys that change what berth reads; an empty value for one is refused (see applyPax). */
const READ_KEYS = new Set(["path", "linkpath", "size"]);

function applyPax(pending: Pending, records: Map<string, string>, entry: string): void {
  pending.pax = true;
  for (const [key, value] of records) {
    // POSIX says an empty value deletes the field, and readers disagree on what
    // is left: GNU tar reads an empty name (extracting it as '.') and an empty
    // link target, where the header's own field is another reading. Refusing is
    // the only reading no tool disagrees with.
    if (value.length === 0 && READ_KEYS.has(key)) {
      throw archiveError("bad-header", entry, `has a pax header with an empty ${key}`);
    }
    if (key === "path") pending.path = value;
    else if (key === "linkpath") pending.linkpath = value;
    else if (key === "size") {
      if (!/^[0-9]{1,20}$/.test(value)) {
        throw archiveError("bad-header", entry, "has a pax header with an invalid size");
      }
      pending.size = Number(value);
    } else if (key.startsWith("GNU.sparse.")) {
      pending.sparse = true;
    }
  }
}

/**
 * GNU tar applies a global header's records to every member after it, so a
 * global `path` renames them all and a global `size` moves every member
 * boundary: tar would list other members than berth read. Nothing writes those
 * keys globally (git archive writes a `comment`), so they are refused; every
 * other key changes nothing berth reads.
 */
function checkGlobalPax(records: Map<string, string>, entry: string): void {
  for (const key of records.keys()) {
    if (READ_KEYS.has(key) || key.startsWith("GNU.sparse.")) {
      throw archiveError("bad-header", entry, `has a pax global header that sets ${key} for every entry`);
    }
  }
}

/** GNU long names are NUL-terminated; a NUL before the end is kept so the path check refuses it. */
function longName(data: Buffer, entry: string): string {
  if (data.length > MAX_LONG_NAME) throw archiveError("bad-path", entry, "has a name that is too long");
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return decodeName(data.subarray(0, end), entry);
}

const ZEROS = Buffer.alloc(64 * 1024);

function isAllZero(data: Buffer): boolean {
  for (let i = 0; i < data.length; i += ZEROS.length) {
    const chunk = data.subarray(i, i + ZEROS.length);
    if (!ZEROS.subarray(0, chunk.length).equals(chunk)) return false;
  }
  return true;
}
