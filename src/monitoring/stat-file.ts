import { statSync } from "node:fs";
import type { LogFileStat } from "./log-byte-counter.ts";

/**
 * A file's size and inode, or undefined when it is gone (the engine removed the container's log).
 * A stat() of a local file takes a few µs, less than the trip to the thread pool an asynchronous one
 * costs (as with the cgroup files, read synchronously for the same reason: node-cgroup-fs.ts).
 */
export async function statFile(path: string): Promise<LogFileStat | undefined> {
  try {
    const { size, ino } = statSync(path);
    return { size, ino };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
