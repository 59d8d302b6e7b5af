import { lstat, readdir, readFile, readlink, realpath, type stat } from "node:fs/promises";
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from "node:path";
import type { CodeEntry } from "./code-entry.ts";
import { codeError } from "./code-error.ts";
import type { CodeLimits } from "./code-limits.ts";
import { checkCodePath } from "./code-path.ts";
import type { IgnoreMatcher } from "./ignore-matcher.ts";

/** What a walk found, in a stable order (by path, folders before what is inside them). */
export interface WalkResult {
  entries: CodeEntry[];
  files: number;
  bytes: number;
}

/**
 * Collects what a code folder holds, leaving out what `matcher` ignores and
 * never looking inside an ignored folder. Folders are listed only when empty
 * (berth creates a file's folders itself); symlinks are kept as symlinks and
 * never followed, and one that leads outside the folder is refused. Sockets,
 * FIFOs and devices are refused, and so is any path berth would refuse. Stops
 * as soon as the code passes `maxCodeBytes` or `maxCodeFiles`.
 */
export async function walkDirectory(
  root: string,
  matcher: IgnoreMatcher,
  limits: CodeLimits,
): Promise<WalkResult> {
  const realRoot = await realpath(root);
  const result: WalkResult = { entries: [], files: 0, bytes: 0 };
  await walk(realRoot, "", matcher, limits, result);
  return result;
}

async function walk(
  realRoot: string,
  dir: string,
  matcher: IgnoreMatcher,
  limits: CodeLimits,
  result: WalkResult,
): Promise<number> {
  const abs = dir === "" ? realRoot : join(realRoot, ...dir.split("/"));
  const names = (await readdir(abs)).sort();
  let kept = 0;
  for (const name of names) {
    const path = dir === "" ? name : `${dir}/${name}`;
    const full = join(abs, name);
    const info = await lstat(full);
    if (matcher.matches(path, info.isDirectory())) continue;
    const problem = checkCodePath(path);
    if (problem) {
      throw codeError(`Code path ${JSON.stringify(path.slice(0, 200))} ${problem}, which berth refuses.`, {
        reason: "bad-path",
        path: path.slice(0, 200),
      });
    }
    if (info.isDirectory()) {
      const at = result.entries.length;
      const inside = await walk(realRoot, path, matcher, limits, result);
      // An empty folder has to be sent as itself; a non-empty one comes with its contents.
      if (inside === 0) {
        result.entries.splice(at, 0, { kind: "dir", path });
        countEntry(result, limits, path);
      }
    } else if (info.isSymbolicLink()) {
      const target = await symlinkTarget(realRoot, full, path);
      result.entries.push({ kind: "symlink", path, target });
      countEntry(result, limits, path);
    } else if (info.isFile()) {
      result.bytes += info.size;
      if (result.bytes > limits.maxCodeBytes) {
        throw codeError(
          `The code is larger than the limit of ${limits.maxCodeBytes} bytes (at ${JSON.stringify(path)}); leave out what the workload does not need with a .berthignore.`,
          { reason: "too-large", path, limit: limits.maxCodeBytes },
        );
      }
      const content = await readFile(full);
      result.entries.push({ kind: "file", path, content, executable: (info.mode & 0o111) !== 0 });
      result.files++;
      countEntry(result, limits, path);
    } else {
      throw codeError(
        `Code path ${JSON.stringify(path)} is ${specialKind(info)}; only files, folders and symlinks can be code (list it in .berthignore to leave it out).`,
        { reason: "special-file", path },
      );
    }
    kept++;
  }
  return kept;
}

/** Every archive entry counts against `maxCodeFiles` on the server; the files form counts files only, checked later. */
function countEntry(result: WalkResult, limits: CodeLimits, path: string): void {
  if (result.files > limits.maxCodeFiles) {
    throw codeError(
      `The code has more than ${limits.maxCodeFiles} files (at ${JSON.stringify(path)}); leave out what the workload does not need with a .berthignore.`,
      { reason: "too-many-files", path, limit: limits.maxCodeFiles },
    );
  }
}

/**
 * The link's target, rewritten relative to the link with `..` only at its
 * front (the only form berth accepts), or a refusal when it leads outside
 * the folder — by its own path, or through other links on the way.
 */
async function symlinkTarget(realRoot: string, full: string, path: string): Promise<string> {
  const raw = await readlink(full);
  const resolved = resolve(dirname(full), raw);
  const escapes = (p: string) => {
    const rel = relative(realRoot, p);
    return rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  };
  let outside = escapes(resolved);
  if (!outside) {
    // A target that exists is judged where it really is: `a -> b/x` with `b -> /etc` leads out.
    const real = await realpath(full).catch(() => undefined);
    if (real !== undefined && escapes(real)) outside = true;
  }
  if (outside) {
    throw codeError(
      `Code path ${JSON.stringify(path)} is a symlink to ${JSON.stringify(raw)}, which is outside the folder; berth accepts only links that stay inside the code.`,
      { reason: "symlink-escapes", path },
    );
  }
  const inside = relative(realRoot, resolved).split(sep).join("/");
  const target = posix.relative(posix.dirname(path), inside);
  return target === "" ? "." : target;
}

function specialKind(info: Awaited<ReturnType<typeof stat>>): string {
  if (info.isSocket()) return "a socket";
  if (info.isFIFO()) return "a FIFO";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  return "not a regular file";
}
