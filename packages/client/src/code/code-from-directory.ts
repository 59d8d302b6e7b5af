import { lstat, stat } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { CodeEntry } from "./code-entry.ts";
import { codeError } from "./code-error.ts";
import { type CodeLimits, DEFAULT_CODE_LIMITS } from "./code-limits.ts";
import { IgnoreMatcher } from "./ignore-matcher.ts";
import { fileKind, type RegularFileRead, readRegularFile } from "./read-regular-file.ts";
import { writeTar } from "./tar-writer.ts";
import { walkDirectory } from "./walk-directory.ts";

/** The file at a code folder's root whose lines (`.gitignore` syntax) say what to leave out. */
export const IGNORE_FILE = ".berthignore";

/**
 * Left out of every folder before `.berthignore` is read, so a `!` line
 * there can bring one back. Git's metadata is never part of a program and
 * can be larger than the code. `node_modules/` is NOT left out: berth runs
 * no install step, so a workload's dependencies travel with its code (add
 * `node_modules/` to `.berthignore` when the code needs none). As with
 * docker's `.dockerignore`, `.berthignore` itself is sent unless it lists
 * itself.
 */
export const DEFAULT_IGNORES: readonly string[] = Object.freeze([".git/"]);

/**
 * Room left in a message for the rest of a spec (name, env, secrets,
 * labels) beside the code. Socket.IO sends an archive as a binary
 * attachment and the files as JSON text, both inside one message.
 */
const SPEC_ALLOWANCE = 64 * 1024;

export interface CodeFromDirectoryOptions {
  /** More patterns in `.gitignore` syntax, applied after the folder's `.berthignore` (so they win). */
  ignore?: readonly string[];
  /** The limits `server:info` answered (any left out: berth's defaults). */
  limits?: Partial<CodeLimits>;
}

/** Code ready for `container:create` or `container:update`: text files, or a tar.gz of everything. */
export type DirectoryCode = { files: Record<string, string> } | { archive: Uint8Array<ArrayBuffer> };

/**
 * Reads a folder into code for `container:create` / `container:update`.
 * When every file is UTF-8 text (and nothing needs an archive: symlinks,
 * empty folders, executable files) and the files fit the limits, the answer
 * is `{ files }`, readable in logs and JSON; otherwise it is `{ archive }`,
 * a gzip-compressed ustar archive. Leaves out `.git/` and what the folder's
 * `.berthignore` and `options.ignore` list. Refuses, with an error whose
 * `code` is `VALIDATION_FAILED` and whose `details` name the reason and the
 * path: a symlink leading outside the folder, sockets, FIFOs and devices,
 * paths berth refuses, a `.berthignore` that is not a regular file (a link
 * included), a file the folder swapped while it was read — and with
 * `PAYLOAD_TOO_LARGE`, code over the limits or a `.berthignore` over 1 MiB.
 *
 * @example
 *   import { codeFromDirectory } from "@berth/client/code";
 *   const code = await codeFromDirectory("./my-app", { ignore: ["*.test.js"], limits: berth.info.limits });
 *   await berth.containers.create({ name: "my-app", code });
 */
export async function codeFromDirectory(
  path: string,
  options: CodeFromDirectoryOptions = {},
): Promise<DirectoryCode> {
  const limits: CodeLimits = { ...DEFAULT_CODE_LIMITS, ...definedOnly(options.limits) };
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw codeError(
      `Cannot read the code folder ${JSON.stringify(path)}: ${err.code ?? err.message}.`,
      { reason: "unreadable" },
      err,
    );
  });
  if (!info.isDirectory()) {
    throw codeError(`${JSON.stringify(path)} is not a folder; pass the folder that holds the code.`, {
      reason: "not-a-directory",
    });
  }
  const matcher = new IgnoreMatcher([
    ...DEFAULT_IGNORES,
    ...(await readIgnoreFile(path)),
    ...(options.ignore ?? []),
  ]);
  const { entries, files } = await walkDirectory(path, matcher, limits);
  const asFiles = textFiles(entries, files, limits);
  if (asFiles) return { files: asFiles };
  return { archive: archive(entries, limits) };
}

function definedOnly(limits: Partial<CodeLimits> | undefined): Partial<CodeLimits> {
  return Object.fromEntries(Object.entries(limits ?? {}).filter(([, v]) => v !== undefined));
}

/**
 * The largest `.berthignore` read. Far above any real one; it bounds what a
 * hostile folder can make the reader hold (a file, not a link to /dev/zero).
 */
export const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

/**
 * The lines of the folder's `.berthignore`, read only as a regular file: it
 * is read before the walk's own checks, so it gets them here. lstat first, so
 * a device or FIFO is never even opened; readRegularFile then judges the
 * open handle, so a swap after the lstat is caught too.
 */
async function readIgnoreFile(dir: string): Promise<string[]> {
  const file = join(dir, IGNORE_FILE);
  const unreadable = (err: NodeJS.ErrnoException) =>
    codeError(
      `Cannot read ${IGNORE_FILE}: ${err.code ?? err.message}.`,
      { reason: "unreadable", path: IGNORE_FILE },
      err,
    );
  let read: RegularFileRead;
  try {
    const info = await lstat(file);
    read = info.isFile()
      ? await readRegularFile(file, MAX_IGNORE_FILE_BYTES)
      : { kind: "not-a-file", what: fileKind(info) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw unreadable(err as NodeJS.ErrnoException);
  }
  if (read.kind === "not-a-file") {
    throw codeError(
      `${IGNORE_FILE} is ${read.what}; berth reads it only as a regular file (a link could lead anywhere, a FIFO would never end). Make it a plain file.`,
      { reason: "special-file", path: IGNORE_FILE },
    );
  }
  if (read.kind === "too-large") {
    throw codeError(`${IGNORE_FILE} is larger than ${MAX_IGNORE_FILE_BYTES} bytes, the most berth reads.`, {
      reason: "too-large",
      path: IGNORE_FILE,
      limit: MAX_IGNORE_FILE_BYTES,
    });
  }
  return Buffer.from(read.content).toString("utf8").split("\n");
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The entries as `{ path: text }` when that form carries them exactly and fits, else undefined. */
function textFiles(
  entries: CodeEntry[],
  files: number,
  limits: CodeLimits,
): Record<string, string> | undefined {
  if (files > limits.maxCodeFiles) return undefined;
  const out: Record<string, string> = {};
  let jsonBytes = 2;
  for (const entry of entries) {
    // The files form has no symlinks, no empty folders and no modes: every file is written 0644.
    if (entry.kind !== "file" || entry.executable) return undefined;
    let text: string;
    try {
      text = utf8.decode(entry.content);
    } catch {
      return undefined;
    }
    jsonBytes += byteLength(JSON.stringify(entry.path)) + byteLength(JSON.stringify(text)) + 2;
    out[entry.path] = text;
  }
  return jsonBytes + SPEC_ALLOWANCE <= limits.maxPayloadBytes ? out : undefined;
}

function archive(entries: CodeEntry[], limits: CodeLimits): Uint8Array<ArrayBuffer> {
  if (entries.length > limits.maxCodeFiles) {
    throw codeError(
      `The code has ${entries.length} entries (files, symlinks and empty folders), more than the limit of ${limits.maxCodeFiles}; leave out what the workload does not need with a .berthignore.`,
      { reason: "too-many-files", limit: limits.maxCodeFiles },
    );
  }
  const gz = gzipSync(writeTar(entries));
  if (gz.length + SPEC_ALLOWANCE > limits.maxPayloadBytes) {
    throw codeError(
      `The code compresses to ${gz.length} bytes, too large for the server's message limit of ${limits.maxPayloadBytes} bytes (maxPayloadBytes) with room for the spec; the code limit is ${limits.maxCodeBytes} bytes (maxCodeBytes). Leave out what the workload does not need with a .berthignore.`,
      {
        reason: "too-large",
        limit: limits.maxPayloadBytes,
        maxCodeBytes: limits.maxCodeBytes,
        bytes: gz.length,
      },
    );
  }
  return gz;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
