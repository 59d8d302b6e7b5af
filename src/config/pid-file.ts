import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * `<data>/berth.pid`: which process serves this data directory now. Written
 * when berth starts listening and removed when it closes, so that tools which
 * must not run beside it (the secret-key rotation) can refuse to.
 */
export function pidFilePath(dataDir: string): string {
  return join(dataDir, "berth.pid");
}

export function writePidFile(dataDir: string): void {
  writeFileSync(pidFilePath(dataDir), `${process.pid}\n`, { mode: 0o600 });
}

/** Best effort: a data directory gone read-only must not turn a clean shutdown into a failed one. */
export function removePidFile(dataDir: string): void {
  try {
    rmSync(pidFilePath(dataDir), { force: true });
  } catch {
    // A stale file names a dead process, which runningBerthPid tells apart.
  }
}

/** The pid of a berth that serves this data directory, if its process still lives. */
export function runningBerthPid(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFilePath(dataDir), "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: it lives, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM" ? pid : undefined;
  }
}

/**
 * This berth's pid file: written once it listens; removed at close only when
 * this berth wrote it, so that a berth that never started (a refused start,
 * a second one built on the same directory) leaves another's file alone.
 */
export class PidFile {
  readonly #dataDir: string;
  #written = false;

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  write(): void {
    writePidFile(this.#dataDir);
    this.#written = true;
  }

  /** Best effort (see removePidFile). Safe to call twice. */
  remove(): void {
    if (!this.#written) return;
    this.#written = false;
    removePidFile(this.#dataDir);
  }
}
