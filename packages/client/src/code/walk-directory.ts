import { lstat, readdir, readlink, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, parse, posix, relative, sep } from "node:path";
import type { CodeEntry } from "./code-entry.ts";
import { codeError } from "./code-error.ts";
import type { CodeLimits } from "./code-limits.ts";
import { checkCodePath } from "./code-path.ts";
import type { IgnoreMatcher } from "./ignore-matcher.ts";
import { fileKind, readRegularFile } from "./read-regular-file.ts";

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
 * FIFOs and devices are refused, and so is any path berth would refuse.
 * Files are read through an open handle that never follows a link and is
 * checked to be where the walk expected it, so a folder changed during the
 * walk cannot slip in a file from outside. Stops as soon as the files'
 * bytes pass `maxCodeBytes` or their number passes `maxCodeFiles`; symlinks
 * and empty folders, which only an archive counts, are checked against
 * `maxCodeFiles` once the form is known (codeFromDirectory's archive step).
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
      const tooLarge = () =>
        codeError(
          `The code is larger than the limit of ${limits.maxCodeBytes} bytes (at ${JSON.stringify(path)}); leave out what the workload does not need with a .berthignore.`,
          { reason: "too-large", path, limit: limits.maxCodeBytes },
        );
      if (result.bytes + info.size > limits.maxCodeBytes) throw tooLarge();
      // Read by the open handle, not by the path lstat saw: the folder may have
      // changed since (a file swapped for a link to ~/.ssh/id_rsa, or a FIFO).
      const read = await readRegularFile(full, limits.maxCodeBytes - result.bytes).catch(
        (err: NodeJS.ErrnoException) => {
          throw codeError(
            `Cannot read code path ${JSON.stringify(path)}: ${err.code ?? err.message}.`,
            { reason: "unreadable", path },
            err,
          );
        },
      );
      if (read.kind === "too-large") throw tooLarge();
      if (
        read.kind === "not-a-file" ||
        read.dev !== info.dev ||
        read.ino !== info.ino ||
        (await openedElsewhere(full, read.openedAt))
      ) {
        throw codeError(
          `Code path ${JSON.stringify(path)} changed while the folder was read (it is now ${read.kind === "file" ? "another file, or reached through a link" : read.what}); read it again when it is still.`,
          { reason: "unreadable", path },
        );
      }
      // Count what was read, not what lstat said: the file may have changed size.
      result.bytes += read.content.length;
      result.entries.push({
        kind: "file",
        path,
        content: read.content,
        executable: (read.mode & 0o111) !== 0,
      });
      result.files++;
      countEntry(result, limits, path);
    } else {
      throw codeError(
        `Code path ${JSON.stringify(path)} is ${fileKind(info)}; only files, folders and symlinks can be code (list it in .berthignore to leave it out).`,
        { reason: "special-file", path },
      );
    }
    kept++;
  }
  return kept;
}

/**
 * Whether the file opened for `full` is really somewhere else: a folder on
 * its way was swapped for a link after the walk looked at it (O_NOFOLLOW
 * guards the last name only). The kernel's own answer where there is one;
 * elsewhere the folder's real path now, which leaves a narrower window (a
 * link swapped in and out again between the read and this check).
 */
async function openedElsewhere(full: string, openedAt: string | undefined): Promise<boolean> {
  if (openedAt !== undefined) return openedAt !== full;
  const realDir = await realpath(dirname(full)).catch(() => undefined);
  return realDir !== dirname(full);
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
 * the folder — by its own path, or through other links on the way. The
 * target is resolved as the kernel does, one step at a time through the
 * links it meets (`a -> c/../x` with `c -> sub/deep` is `sub/x`, not `x`),
 * so the archive's link leads where the folder's did.
 */
async function symlinkTarget(realRoot: string, full: string, path: string): Promise<string> {
  const raw = await readlink(full);
  const real = await resolveTarget(dirname(full), raw);
  const rel = relative(realRoot, real);
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw codeError(
      `Code path ${JSON.stringify(path)} is a symlink to ${JSON.stringify(raw)}, which is outside the folder; berth accepts only links that stay inside the code.`,
      { reason: "symlink-escapes", path },
    );
  }
  const target = posix.relative(posix.dirname(path), rel.split(sep).join("/"));
  return target === "" ? "." : target;
}

/**
 * Where `target`, read from a link in the real folder `from`, leads: each
 * step that exists is replaced by its real path (so `..` climbs out of where
 * a link really led); from the first step that does not exist on, the rest
 * is taken as written, as it will be on berth's side.
 */
async function resolveTarget(from: string, target: string): Promise<string> {
  let at = isAbsolute(target) ? parse(target).root : from;
  let exists = true;
  for (const step of target.split(sep)) {
    if (step === "" || step === ".") continue;
    if (step === "..") {
      // `at` is a real path while every step so far exists, so its parent is the real parent.
      at = dirname(at);
      continue;
    }
    at = join(at, step);
    if (exists) {
      const real = await realpath(at).catch(() => undefined);
      if (real === undefined) exists = false;
      else at = real;
    }
  }
  return at;
}
