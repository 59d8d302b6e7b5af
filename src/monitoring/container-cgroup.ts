import type { CgroupFile, CgroupFs } from "./cgroup-fs.ts";
import {
  type ByteTotals,
  parseCount,
  parseMemoryMax,
  statValue,
  sumBlkioV1,
  sumIoStatV2,
  sumNetDev,
} from "./cgroup-parsers.ts";
import { CgroupUnavailableError } from "./cgroup-unavailable-error.ts";

/** The raw counters of one reading; the sampler turns `cpuNs` into a percentage. */
export interface CgroupCounters {
  /** CPU time used by the container since it started, in ns. */
  cpuNs: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  /** What the limits did to the container (not on the wire: the PressureMonitor reads it). */
  pressure: PressureCounters;
}

/**
 * Cumulative counters of the limits at work, each absent where the kernel
 * does not keep it: CPU periods and how many of them were throttled (the
 * quota ran out), time spent throttled, and fork()s the pids limit refused.
 */
export interface PressureCounters {
  cpuPeriods?: number | undefined;
  cpuThrottledPeriods?: number | undefined;
  cpuThrottledUs?: number | undefined;
  pidsLimitHits?: number | undefined;
}

/** The open counter files of one container, by cgroup version. */
export type OpenCgroupFiles =
  | {
      version: 1;
      memoryUsage: CgroupFile;
      memoryStat: CgroupFile;
      /** Read only on kernels whose memory.stat lacks `hierarchical_memory_limit`. */
      memoryLimitPath: string;
      cpuacctUsage: CgroupFile;
      pidsCurrent: CgroupFile;
      blkio: CgroupFile | undefined;
      netDev: CgroupFile;
      cpuStat: CgroupFile | undefined;
      pidsEvents: CgroupFile | undefined;
    }
  | {
      version: 2;
      memoryCurrent: CgroupFile;
      memoryStat: CgroupFile;
      memoryMax: CgroupFile;
      cpuStat: CgroupFile;
      pidsCurrent: CgroupFile;
      ioStat: CgroupFile;
      netDev: CgroupFile;
      pidsEvents: CgroupFile | undefined;
    };

/**
 * One container's cgroup, opened by `CgroupReader.open`: a handful of small
 * reads per sample. Holds open files — and through `/proc/<pid>/net/dev` the
 * container's network namespace — so whoever opened it closes it, at the
 * latest when a read fails: a file of a removed cgroup reads ENODEV, and the
 * net/dev file would go on reading the old namespace.
 */
export class ContainerCgroup {
  readonly #files: OpenCgroupFiles;
  readonly #fs: CgroupFs;
  readonly #hostMemoryBytes: number;

  constructor(files: OpenCgroupFiles, fs: CgroupFs, hostMemoryBytes: number) {
    this.#files = files;
    this.#fs = fs;
    this.#hostMemoryBytes = hostMemoryBytes;
  }

  get version(): 1 | 2 {
    return this.#files.version;
  }

  /** CPU time alone, for the baseline of a first sample. */
  async readCpuNs(): Promise<number> {
    const files = this.#files;
    if (files.version === 1) return parseCount(await files.cpuacctUsage.read(), "cpuacct.usage");
    return cpuNsOfCpuStat(await files.cpuStat.read());
  }

  read(): Promise<CgroupCounters> {
    const files = this.#files;
    return files.version === 1 ? this.#readV1(files) : this.#readV2(files);
  }

  close(): void {
    for (const file of Object.values(this.#files))
      if (typeof file === "object" && file !== null) (file as CgroupFile).close();
  }

  async #readV1(files: Extract<OpenCgroupFiles, { version: 1 }>): Promise<CgroupCounters> {
    const [usage, stat, cpu, pids, blkio, net, cpuStat, pidsEvents] = await Promise.all([
      files.memoryUsage.read(),
      files.memoryStat.read(),
      files.cpuacctUsage.read(),
      files.pidsCurrent.read(),
      files.blkio?.read(),
      files.netDev.read(),
      files.cpuStat?.read(),
      files.pidsEvents?.read(),
    ]);
    // hierarchical_memory_limit is the effective limit (the smallest up the tree)
    // and comes with memory.stat, which is read anyway; old kernels lack it.
    const limit =
      statValue(stat, "hierarchical_memory_limit") ??
      parseCount(await this.#fs.readFile(files.memoryLimitPath), "memory.limit_in_bytes");
    const io = blkio === undefined ? NO_IO : sumBlkioV1(blkio);
    const netTotals = sumNetDev(net);
    return {
      cpuNs: parseCount(cpu, "cpuacct.usage"),
      memoryBytes: withoutInactiveFile(
        parseCount(usage, "memory.usage_in_bytes"),
        statValue(stat, "total_inactive_file"),
      ),
      memoryLimitBytes: this.#capToHost(limit),
      pids: parseCount(pids, "pids.current"),
      netRxBytes: netTotals.rx,
      netTxBytes: netTotals.tx,
      blockReadBytes: io.read,
      blockWriteBytes: io.write,
      pressure: {
        cpuPeriods: cpuStat === undefined ? undefined : statValue(cpuStat, "nr_periods"),
        cpuThrottledPeriods: cpuStat === undefined ? undefined : statValue(cpuStat, "nr_throttled"),
        // v1 counts throttled time in ns.
        cpuThrottledUs: nsToUs(cpuStat === undefined ? undefined : statValue(cpuStat, "throttled_time")),
        pidsLimitHits: pidsEvents === undefined ? undefined : statValue(pidsEvents, "max"),
      },
    };
  }

  async #readV2(files: Extract<OpenCgroupFiles, { version: 2 }>): Promise<CgroupCounters> {
    const [current, stat, max, cpu, pids, io, net, pidsEvents] = await Promise.all([
      files.memoryCurrent.read(),
      files.memoryStat.read(),
      files.memoryMax.read(),
      files.cpuStat.read(),
      files.pidsCurrent.read(),
      files.ioStat.read(),
      files.netDev.read(),
      files.pidsEvents?.read(),
    ]);
    const ioTotals = sumIoStatV2(io);
    const netTotals = sumNetDev(net);
    return {
      cpuNs: cpuNsOfCpuStat(cpu),
      memoryBytes: withoutInactiveFile(
        parseCount(current, "memory.current"),
        statValue(stat, "inactive_file"),
      ),
      memoryLimitBytes: this.#capToHost(parseMemoryMax(max)),
      pids: parseCount(pids, "pids.current"),
      netRxBytes: netTotals.rx,
      netTxBytes: netTotals.tx,
      blockReadBytes: ioTotals.read,
      blockWriteBytes: ioTotals.write,
      pressure: {
        cpuPeriods: statValue(cpu, "nr_periods"),
        cpuThrottledPeriods: statValue(cpu, "nr_throttled"),
        cpuThrottledUs: statValue(cpu, "throttled_usec"),
        pidsLimitHits: pidsEvents === undefined ? undefined : statValue(pidsEvents, "max"),
      },
    };
  }

  /**
   * No limit reads as "max" (v2) or as a page-aligned 2^63 (v1); either way,
   * like the engine, report the host's memory — the most the container can get.
   */
  #capToHost(limit: number | undefined): number {
    return limit === undefined || limit > this.#hostMemoryBytes ? this.#hostMemoryBytes : limit;
  }
}

const NO_IO: ByteTotals = { read: 0, write: 0 };

function nsToUs(ns: number | undefined): number | undefined {
  return ns === undefined ? undefined : Math.round(ns / 1000);
}

function cpuNsOfCpuStat(text: string): number {
  const usec = statValue(text, "usage_usec");
  if (usec === undefined) throw new CgroupUnavailableError("cpu.stat has no usage_usec");
  return usec * 1000;
}

/**
 * Page cache the kernel can drop at once is not what a user means by "memory
 * used"; `docker stats` subtracts inactive file pages the same way.
 */
function withoutInactiveFile(usage: number, inactiveFile: number | undefined): number {
  return inactiveFile !== undefined && inactiveFile < usage ? usage - inactiveFile : usage;
}
