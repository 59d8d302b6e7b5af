/**
 * The canonical form of a release (packRelease, unpackRelease): the bytes
 * that are stored and named by their sha256, so the same tree must always
 * give the same bytes.
 *
 * A length-prefixed binary format of berth's own, not tar: a tar of the same
 * tree differs with the tool, its format (ustar, pax, GNU), how a long name is
 * split, mtimes, owners and padding, so a deterministic tar would mean
 * pinning every one of those fields — and reading one back means trusting a
 * tar reader with bytes from a database. This format has only what a release
 * is made of (path, kind, mode, link target, data), one way to write each,
 * and nothing to skip; a reader is a cursor that checks each length against
 * what is left. Nothing here needs to be read by another tool: the agent
 * writes a release from the entries (writeReleaseEntries).
 *
 * ```
 * magic    8 bytes  "berthrel"
 * version  u8       1
 * count    u32      entries that follow
 * entry    kind u8 (1 file, 2 directory, 3 symlink)
 *          path: u32 length, UTF-8 bytes
 *          file:    mode u16 (0o644 or 0o755), data: u32 length, bytes
 *          symlink: target: u32 length, UTF-8 bytes
 * ```
 * Integers are big-endian. Entries are sorted by the bytes of their paths,
 * each path once; a directory is listed only when nothing lies beneath it
 * (a parent is implied by its children and made by whoever writes the tree,
 * so an archive that lists `lib/` packs like a files map that does not).
 * Not compressed: compression is not deterministic across zlib versions,
 * and PostgreSQL already compresses large values it stores (TOAST).
 */
export const PACKED_MAGIC = Buffer.from("berthrel", "latin1");
export const PACKED_VERSION = 1;
/** Magic, version, count. */
export const PACKED_HEADER_BYTES = PACKED_MAGIC.length + 1 + 4;

export const KIND_FILE = 1;
export const KIND_DIR = 2;
export const KIND_SYMLINK = 3;
