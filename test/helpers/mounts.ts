import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";

/**
 * Real storage faults for system tests: tmpfs file systems and read-only
 * binds, made with mount(8) — so these tests need root (see NEEDS_ROOT).
 * Whoever mounts unmounts, in `afterAll`, with `unmountAllUnder`.
 */
const run = promisify(execFile);

/** A tmpfs of `size` (e.g. "2m") at `dir`; with `inodes`, at most that many files and directories. */
export async function mountTmpfs(dir: string, size: string, inodes?: number): Promise<void> {
  const options = [`size=${size}`, "mode=0700", ...(inodes ? [`nr_inodes=${inodes}`] : [])];
  await run("mount", ["-t", "tmpfs", "-o", options.join(","), "tmpfs", dir]);
}

/**
 * Makes `dir` read-only for every new open, mkdir, rename or socket bind by
 * stacking a read-only bind of it over itself; `unmount(dir)` makes it
 * writable again. Remounting a mount read-only in place is not possible
 * while a process holds a file open for writing there (the kernel answers
 * EBUSY), and berth always holds its store open — so this is how a disk that
 * turned read-only under a running berth can be had. Files already open
 * before stay writable.
 */
export async function stackReadOnlyBind(dir: string): Promise<void> {
  await run("mount", ["--bind", dir, dir]);
  try {
    await run("mount", ["-o", "remount,bind,ro", dir]);
  } catch (err) {
    await unmount(dir);
    throw err;
  }
}

/** Unmounts the topmost mount at `dir`. */
export async function unmount(dir: string): Promise<void> {
  await run("umount", [dir]);
}

/** Mount points at or under `dir`, deepest (and latest) first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const points = info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined)
    .map((p) =>
      p.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))),
    )
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return points.reverse();
}

/** Unmounts everything at or under `dir` (lazily, so that a busy mount cannot stop a clean-up). */
export async function unmountAllUnder(dir: string): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    for (const point of points) await run("umount", ["-l", point]).catch(() => {});
  }
}
