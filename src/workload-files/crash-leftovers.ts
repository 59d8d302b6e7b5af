import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * Removes what a crash of berth can leave half-written in a container's code
 * directory: a release's staging directory (`releases/<n>.staging-…`, see
 * writeReleaseEntries) and a pointer's temporary link (`.current-…`, see
 * switchRelease). Neither is ever read; left, they would hold disk space
 * that no release row counts. Only to be called with no write under way.
 */
export async function removeCrashLeftovers(codeDir: string): Promise<string[]> {
  const removed: string[] = [];
  const sweep = async (dir: string, isLeftover: (name: string) => boolean) => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!isLeftover(name)) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
  };
  await sweep(codeDir, (name) => name.startsWith(".current-"));
  await sweep(join(codeDir, "releases"), (name) => name.includes(".staging-"));
  return removed;
}
