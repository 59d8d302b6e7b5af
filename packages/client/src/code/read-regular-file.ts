import { constants, type Stats } from "node:fs";
import { open, readlink } from "node:fs/promises";

/** What `readRegularFile` found at a path. */
export type RegularFileRead =
  | {
      kind: "file";
      content: Uint8Array;
      mode: number;
      dev: number;
      ino: number;
      /** Where the opened file really is, as the kernel says (Linux's /proc); undefined where it cannot say. */
      openedAt: string | undefined;
    }
  /** Not a regular file when opened: `what` names it ("a symlink", "a FIFO", …). */
  | { kind: "not-a-file"; what: string }
  /** Larger than `maxBytes` bytes when opened. */
  | { kind: "too-large" };

// O_NOFOLLOW: a file swapped for a link after the walk looked at it (to
// ~/.ssh/id_rsa, say) is refused, not read. O_NONBLOCK: a file swapped for a
// FIFO opens at once instead of waiting forever for a writer; fstat then
// refuses it. Neither changes how a regular file reads.
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Reads the regular file at `path`, never following a link at its last
 * component, never blocking on a FIFO or device, and never holding more
 * than `maxBytes` bytes: what is read is judged by the open handle (fstat),
 * not by an earlier look at the path, so a folder that changes while it is
 * read cannot make the reader follow a link or read without end.
 * Other errors (ENOENT, EACCES) are thrown as they are.
 *
 * @example
 *   const read = await readRegularFile("app/.berthignore", 1024 * 1024);
 *   if (read.kind === "file") lines = Buffer.from(read.content).toString("utf8").split("\n");
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<RegularFileRead> {
  const handle = await open(path, FLAGS).catch((err: NodeJS.ErrnoException) => {
    // ELOOP is O_NOFOLLOW's answer for a link.
    if (err.code === "ELOOP") return undefined;
    throw err;
  });
  if (handle === undefined) return { kind: "not-a-file", what: "a symlink" };
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { kind: "not-a-file", what: fileKind(info) };
    if (info.size > maxBytes) return { kind: "too-large" };
    // Read what fstat promised and no more: a file that grows meanwhile is
    // taken as it was, one that shrinks as what is left; either way at most
    // maxBytes bytes, however the file changes.
    const buffer = Buffer.alloc(info.size);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    const content = new Uint8Array(buffer.buffer, buffer.byteOffset, length);
    const openedAt = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    return { kind: "file", content, mode: info.mode, dev: info.dev, ino: info.ino, openedAt };
  } finally {
    await handle.close();
  }
}

/** What a non-regular file is, for a message. */
export function fileKind(info: Stats): string {
  if (info.isDirectory()) return "a folder";
  if (info.isSymbolicLink()) return "a symlink";
  if (info.isSocket()) return "a socket";
  if (info.isFIFO()) return "a FIFO";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  return "not a regular file";
}
