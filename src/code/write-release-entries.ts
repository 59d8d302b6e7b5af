import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ValidationError } from "../errors/errors.ts";
import type { CodeEntryList } from "./code-entry.ts";
import { checkCodePath } from "./code-files.ts";
import { parentDirs } from "./parent-dirs.ts";
import { checkSymlinkTarget } from "./symlink-target.ts";

/**
 * Writes checked entries as a release in `dir` all at once: into a sibling
 * staging directory, then one rename, so `dir` either does not exist or is
 * complete; on any failure the staging directory is removed and the error
 * rethrown. Directories are 0755, files 0644 or 0755 whatever the umask, all
 * owned by berth (root in production).
 *
 * Nothing is ever written through a symlink: directories come first, then
 * files opened with O_EXCL (which refuses an existing path, links included),
 * and symlinks last, when nothing else remains to be written.
 *
 * @example
 *   await writeReleaseEntries(paths.releaseDir(id, 2), readCodeArchive(archive, limits));
 */
export async function writeReleaseEntries(dir: string, entries: CodeEntryList): Promise<void> {
  checkEntries(entries);
  const staging = `${dir}.staging-${process.pid}-${randomBytes(6).toString("hex")}`;
  await mkdir(dirname(dir), { recursive: true, mode: 0o755 });
  // `releases/`, which the workload passes through to its release: 0755 whatever the umask, as the rest.
  await chmod(dirname(dir), 0o755);
  await mkdir(staging, { mode: 0o755 });
  try {
    await chmod(staging, 0o755);
    for (const path of parentDirs(entries).all) {
      const target = join(staging, path);
      await mkdir(target, { mode: 0o755 });
      await chmod(target, 0o755);
    }
    for (const entry of entries) {
      if (entry.kind !== "file") continue;
      const file = await open(join(staging, entry.path), "wx", entry.mode);
      try {
        await file.writeFile(entry.content);
        await file.chmod(entry.mode);
      } finally {
        await file.close();
      }
    }
    for (const entry of entries) {
      if (entry.kind === "symlink") await symlink(entry.target, join(staging, entry.path));
    }
    await rename(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A backstop: entries normally come from readCodeArchive or codeFromFiles,
 * which check far more, but a path that climbs out of the staging directory
 * must never reach the file system whoever built the list.
 */
function checkEntries(entries: CodeEntryList): void {
  for (const entry of entries) {
    const problem =
      checkCodePath(entry.path) ??
      (entry.kind === "symlink" ? checkSymlinkTarget(entry.path, entry.target) : undefined);
    if (problem) {
      throw new ValidationError(`Code path '${entry.path.slice(0, 200)}' ${problem}.`, {
        details: { field: "code", path: entry.path.slice(0, 200) },
      });
    }
  }
}
