import type { CodeUpload, ServerInfo } from "@berth/client";
import { formatBytes } from "../format.ts";
import { CodeInputError } from "./code-input-error.ts";

/** What the page needs of a picked file: a `File` from `<input type=file webkitdirectory>` (or a test's stand-in). */
export interface PickedFile {
  name: string;
  /** The path under the picked folder, the folder's own name first (`bot/lib/a.js`); empty for a lone file. */
  webkitRelativePath: string;
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type CodeLimits = Pick<ServerInfo["limits"], "maxCodeBytes" | "maxCodeFiles" | "maxPayloadBytes">;

/** Left out of a picked folder, as the `berth` command leaves them out (DEFAULT_IGNORES): a repository's history is not code. */
const IGNORED_FOLDERS = [".git"];

/** Room in one message for the rest of a spec beside the code (name, env, secrets, labels), as the SDK counts it. */
export const SPEC_ALLOWANCE = 64 * 1024;

/**
 * The files of a folder picked in the page as berth's `code.files` (paths
 * relative to the folder, text as strings, anything else as bytes). Refuses
 * — before reading a byte — a folder over berth's `maxCodeFiles` or
 * `maxCodeBytes`, or one the transport would not carry, with a message that
 * names the size, the limit and what to do.
 *
 * @example
 *   const code = await codeFromFolder([...input.files], client.info.limits);
 */
export async function codeFromFolder(picked: readonly PickedFile[], limits: CodeLimits): Promise<CodeUpload> {
  const entries = picked
    .map((file) => ({ file, path: relativePath(file) }))
    .filter(({ path }) => !IGNORED_FOLDERS.some((dir) => path === dir || path.startsWith(`${dir}/`)));
  if (entries.length === 0) throw new CodeInputError("empty", "The folder has no files to send.");
  if (entries.length > limits.maxCodeFiles) {
    throw new CodeInputError(
      "too-many-files",
      `The folder has ${entries.length} files; berth takes at most ${limits.maxCodeFiles} (maxCodeFiles). Leave some out, or send an archive of fewer files.`,
    );
  }
  const bytes = entries.reduce((n, { file }) => n + file.size, 0);
  if (bytes > limits.maxCodeBytes) {
    throw new CodeInputError(
      "too-large",
      `The folder holds ${formatBytes(bytes)}; berth takes at most ${formatBytes(limits.maxCodeBytes)} of code (maxCodeBytes). Leave out what the workload does not need.`,
    );
  }
  if (bytes + SPEC_ALLOWANCE > limits.maxPayloadBytes) {
    throw new CodeInputError(
      "too-large",
      `The folder holds ${formatBytes(bytes)}; one message to berth carries at most ${formatBytes(limits.maxPayloadBytes)} (maxPayloadBytes). Send an archive (.tar.gz), which is smaller.`,
    );
  }
  for (const { path } of entries) {
    const problem = pathProblem(path);
    if (problem)
      throw new CodeInputError("bad-path", `The file “${path}” ${problem}; rename it or leave it out.`);
  }
  const files: Record<string, string | Uint8Array> = {};
  for (const { file, path } of entries) files[path] = asTextOrBytes(new Uint8Array(await file.arrayBuffer()));
  return { files };
}

/**
 * A tar or tar.gz picked in the page as berth's `code.archive`. Only its
 * size can be checked here (berth checks what it unpacks to against
 * `maxCodeBytes` and `maxCodeFiles`): one message must carry it.
 */
export async function codeFromArchive(file: PickedFile, limits: CodeLimits): Promise<CodeUpload> {
  if (!/\.(tar|tar\.gz|tgz)$/i.test(file.name)) {
    throw new CodeInputError("not-an-archive", `“${file.name}” is not a .tar, .tar.gz or .tgz archive.`);
  }
  if (file.size === 0) throw new CodeInputError("empty", `“${file.name}” is empty.`);
  if (file.size + SPEC_ALLOWANCE > limits.maxPayloadBytes) {
    throw new CodeInputError(
      "too-large",
      `“${file.name}” is ${formatBytes(file.size)}; one message to berth carries at most ${formatBytes(limits.maxPayloadBytes)} (maxPayloadBytes). Leave out what the workload does not need.`,
    );
  }
  return { archive: new Uint8Array(await file.arrayBuffer()) };
}

/** The path under the picked folder: its first segment is the folder's own name, which is not part of the code. */
function relativePath(file: PickedFile): string {
  const full = file.webkitRelativePath || file.name;
  const slash = full.indexOf("/");
  return slash < 0 ? full : full.slice(slash + 1);
}

/** The server's rules for a code path (the SDK's checkCodePath), so that a folder is refused naming the file. */
function pathProblem(path: string): string | undefined {
  if (path.length > 1024) return "has a path longer than 1024 characters";
  if (path.includes("\\")) return "has a backslash in its path";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return "has a control character in its name";
  for (const segment of path.split("/")) {
    if (segment === "" || segment === "." || segment === "..")
      return "has an empty, '.' or '..' part in its path";
    if (new TextEncoder().encode(segment).length > 255) return "has a name longer than 255 bytes";
  }
  return undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Text as a string (readable in berth's answers and logs of sizes), anything else as bytes. */
function asTextOrBytes(bytes: Uint8Array): string | Uint8Array {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes;
  }
}
