import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { CodeEntry } from "./code-entry.ts";
import { codeError } from "./code-error.ts";
import { type CodeLimits, DEFAULT_CODE_LIMITS } from "./code-limits.ts";
import { IgnoreMatcher } from "./ignore-matcher.ts";
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
 * paths berth refuses, and code over the limits.
 *
 * @example
 *   import { codeFromDirectory } from "@berth/client/code";
 *   const info = await berth.serverInfo();
 *   const code = await codeFromDirectory("./my-app", { ignore: ["*.test.js"], limits: info.limits });
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

async function readIgnoreFile(dir: string): Promise<string[]> {
  try {
    return (await readFile(join(dir, IGNORE_FILE), "utf8")).split("\n");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw codeError(
      `Cannot read ${IGNORE_FILE}: ${(err as Error).message}.`,
      { reason: "unreadable", path: IGNORE_FILE },
      err,
    );
  }
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
