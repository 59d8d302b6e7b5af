/**
 * The slice of the file system the cgroup reader needs: `/proc` and `/sys`.
 * `NodeCgroupFs` is the real adapter; unit tests use `MemoryCgroupFs`, loaded
 * from recorded fixture trees.
 *
 * The counters a sample reads are opened once and read again on every sample
 * (`open`): with the paths already resolved, opening is most of the cost of a
 * read (measured here: six reads cost ~120 µs by path, ~23 µs on open files).
 */
export interface CgroupFs {
  /** A one-off read: mountinfo, `/proc/<pid>/cgroup`. */
  readFile(path: string): Promise<string>;
  /** Opens a file to read again and again; every `read` returns the whole file as it is now. */
  open(path: string): Promise<CgroupFile>;
}

export interface CgroupFile {
  read(): Promise<string>;
  /** Idempotent. */
  close(): void;
}

/**
 * The file, its cgroup or its process is gone: ENOENT when opening, ENODEV
 * when reading a file of a cgroup removed since (the container stopped or
 * restarted), ESRCH for a process that exited. All mean "find the container
 * again", never "the cgroup files do not work here".
 */
export function isMissingFile(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENODEV" || code === "ESRCH";
}
