import { type CgroupFiles, locateCgroupFiles } from "./cgroup-files.ts";
import type { CgroupFile, CgroupFs } from "./cgroup-fs.ts";
import { type CgroupMount, parseCgroupMounts } from "./cgroup-mounts.ts";
import { CgroupUnavailableError } from "./cgroup-unavailable-error.ts";
import { ContainerCgroup, type OpenCgroupFiles } from "./container-cgroup.ts";
import { parseProcCgroup } from "./proc-cgroup.ts";

/**
 * Finds and opens a container's cgroup counters from its main process — the
 * cheap alternative to the engine's stats API, which costs dockerd far more.
 * Opening is the expensive half (three reads and six or seven opens); callers
 * keep the ContainerCgroup and open again only when a read says the cgroup
 * is gone (isMissingFile). The cgroup mounts are read once and cached.
 *
 * ```ts
 * const reader = new CgroupReader(new NodeCgroupFs(), os.totalmem());
 * const cgroup = await reader.open(inspect.State.Pid);
 * try { const { cpuNs, memoryBytes } = await cgroup.read(); } finally { cgroup.close(); }
 * ```
 */
export class CgroupReader {
  readonly #fs: CgroupFs;
  readonly #hostMemoryBytes: number;
  #mounts: CgroupMount[] | undefined;

  constructor(fs: CgroupFs, hostMemoryBytes: number) {
    this.#fs = fs;
    this.#hostMemoryBytes = hostMemoryBytes;
  }

  /** Opens the counters of the cgroup of process `pid` (the container's main process, seen from the host). */
  async open(pid: number): Promise<ContainerCgroup> {
    const files = await this.locate(pid);
    const opened: CgroupFile[] = [];
    const open = async (path: string) => {
      const file = await this.#fs.open(path);
      opened.push(file);
      return file;
    };
    try {
      const handles: OpenCgroupFiles =
        files.version === 1
          ? {
              version: 1,
              memoryUsage: await open(files.memoryUsage),
              memoryStat: await open(files.memoryStat),
              memoryLimitPath: files.memoryLimit,
              cpuacctUsage: await open(files.cpuacctUsage),
              pidsCurrent: await open(files.pidsCurrent),
              blkio: await this.#openFirstExisting(files.blkio, open),
              netDev: await open(files.netDev),
              cpuStat:
                files.cpuStat === undefined
                  ? undefined
                  : await this.#openFirstExisting([files.cpuStat], open),
              pidsEvents: await this.#openFirstExisting([files.pidsEvents], open),
            }
          : {
              version: 2,
              memoryCurrent: await open(files.memoryCurrent),
              memoryStat: await open(files.memoryStat),
              memoryMax: await open(files.memoryMax),
              cpuStat: await open(files.cpuStat),
              pidsCurrent: await open(files.pidsCurrent),
              ioStat: await open(files.ioStat),
              netDev: await open(files.netDev),
              pidsEvents: await this.#openFirstExisting([files.pidsEvents], open),
            };
      return new ContainerCgroup(handles, this.#fs, this.#hostMemoryBytes);
    } catch (err) {
      for (const file of opened) file.close();
      throw err;
    }
  }

  /** The paths of the counters of process `pid`'s cgroup, without opening them. */
  async locate(pid: number): Promise<CgroupFiles> {
    if (!Number.isInteger(pid) || pid <= 0)
      throw new CgroupUnavailableError(`no process to read (pid ${pid})`);
    const memberships = parseProcCgroup(await this.#fs.readFile(`/proc/${pid}/cgroup`));
    try {
      return locateCgroupFiles(pid, memberships, await this.#cgroupMounts(false));
    } catch (err) {
      // Mounts rarely change, so they are cached; a miss is the moment to look again.
      if (!(err instanceof CgroupUnavailableError)) throw err;
      return locateCgroupFiles(pid, memberships, await this.#cgroupMounts(true));
    }
  }

  async #cgroupMounts(refresh: boolean): Promise<CgroupMount[]> {
    if (refresh || this.#mounts === undefined)
      this.#mounts = parseCgroupMounts(await this.#fs.readFile("/proc/self/mountinfo"));
    return this.#mounts;
  }

  /**
   * Kernels without blk-throttle lack the preferred file; none at all means no block I/O figures.
   * The same for the pressure counters: a controller that is not enabled has no files, and no pressure to report.
   */
  async #openFirstExisting(
    paths: readonly string[],
    open: (path: string) => Promise<CgroupFile>,
  ): Promise<CgroupFile | undefined> {
    for (const path of paths) {
      try {
        return await open(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    return undefined;
  }
}
