import { randomBytes } from "node:crypto";
import { access, open, readlink, rename, rm, symlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * Which release a container runs is one symlink, `<code>/<id>/current →
 * releases/<n>`. The code directory is mounted read-only at /run/berth-code
 * and the workload starts in /run/berth-code/current (its working directory;
 * berth's images also link /app there), so it always sees one complete,
 * immutable release. A switch writes a new link
 * beside the old one and renames it over: rename is atomic, so a crash leaves
 * either the old pointer or the new one, never neither.
 */
export const POINTER = "current";

export async function switchRelease(codeDir: string, release: number): Promise<void> {
  // A pointer to a release that is not there would start the workload with no code at all (a rollback to a
  // release a node never had): refused, before anything changes.
  await access(join(codeDir, "releases", String(release)));
  const temp = join(codeDir, `.current-${randomBytes(6).toString("hex")}`);
  await symlink(`releases/${release}`, temp);
  try {
    await rename(temp, join(codeDir, POINTER));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // The rename must reach the disk before the container starts on it.
  const dir = await open(codeDir, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The release the pointer names, or undefined when there is none. */
export async function currentRelease(codeDir: string): Promise<number | undefined> {
  try {
    const target = await readlink(join(codeDir, POINTER));
    const m = /^releases\/(\d+)$/.exec(target);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
