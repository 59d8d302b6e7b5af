import type { Clock } from "../util/clock.ts";
import { isMissingFile } from "./cgroup-fs.ts";
import type { CgroupReader } from "./cgroup-reader.ts";
import type { ContainerCgroup } from "./container-cgroup.ts";
import type { ContainerLocation, ContainerTarget } from "./container-target.ts";
import type { EngineStats } from "./engine-stats.ts";
import { usageFromEngineStats } from "./engine-stats-usage.ts";
import type { LogFileStat } from "./log-byte-counter.ts";
import type { ResourceSample } from "./resource-usage.ts";
import type { UsageProbe } from "./usage-probe.ts";

export interface ProbeContext {
  reader: CgroupReader;
  engine: EngineStats;
  /** `now()` stamps samples; `sleep()` spaces the two readings of a first sample. */
  clock: Clock;
  /** A monotonic clock in ms (performance.now): CPU percentages must not jump with the wall clock. */
  monotonicMs: () => number;
  /** The gap between the two CPU readings of a first sample. */
  baselineMs: number;
  /** How long to stay on the engine after the cgroup path failed for a reason that will not pass by itself. */
  cgroupRetryMs: number;
  onFallback: (cause: unknown) => void;
  /**
   * The size and inode of a file, for the engine's log file of the container: one stat() a sample,
   * far cheaper than following the engine's log stream (which would have the engine read and encode
   * every byte again). undefined when the file is gone; undefined here when output is not measured.
   */
  fileSize: ((path: string) => Promise<LogFileStat | undefined>) | undefined;
}

/**
 * Samples one container: from its cgroup files when it can, from the engine's
 * stats API when it cannot. Keeps what makes the next sample cheap — the
 * open counter files and the previous CPU reading — so it owns those files:
 * `close()` it when done.
 *
 * A first sample takes two CPU readings `baselineMs` apart rather than
 * reporting 0: `container:stats` is usually a one-off question, and a
 * truthful answer 100 ms later beats an immediate 0 that every client would
 * have to know to ignore. Later samples measure since the previous one.
 *
 * Not safe for concurrent calls; the sampler never overlaps them.
 */
export class ContainerProbe implements UsageProbe {
  readonly #target: ContainerTarget;
  readonly #ctx: ProbeContext;
  #dockerId: string | undefined;
  #location: ContainerLocation | undefined;
  #cgroup: ContainerCgroup | undefined;
  #previousCpu: { ns: number; atMs: number } | undefined;
  #cgroupBlockedUntil = Number.NEGATIVE_INFINITY;
  #stale = false;
  /**
   * The log file could not be stat()ed (EACCES: a berth not run as root cannot see into the
   * engine's 0710 data directory): the container's output goes unmeasured, and is not asked again.
   */
  #logUnreadable = false;

  constructor(target: ContainerTarget, ctx: ProbeContext) {
    this.#target = target;
    this.#ctx = ctx;
  }

  /**
   * Forgets the pid, the open files and the CPU baseline before the next
   * sample, e.g. after the container restarted. Deferred so that a sample
   * under way is not left reading closed files.
   */
  invalidate(): void {
    this.#stale = true;
  }

  /** Closes the open files; the sampler calls it when no sample is under way. Idempotent. */
  close(): void {
    this.#reset();
  }

  async sample(): Promise<ResourceSample> {
    if (this.#stale) this.#reset();
    if (this.#ctx.monotonicMs() >= this.#cgroupBlockedUntil) {
      try {
        const sample = await this.#sampleCgroup();
        if (sample !== undefined) return sample;
      } catch (err) {
        this.#reset();
        // A permission problem or a layout berth does not know will not fix itself
        // within a second; don't pay for a failing read on every sample meanwhile.
        this.#cgroupBlockedUntil = this.#ctx.monotonicMs() + this.#ctx.cgroupRetryMs;
        this.#ctx.onFallback(err);
      }
    }
    return this.#sampleEngine();
  }

  #reset(): void {
    this.#stale = false;
    this.#location = undefined;
    this.#cgroup?.close();
    this.#cgroup = undefined;
    this.#previousCpu = undefined;
    this.#cgroupBlockedUntil = Number.NEGATIVE_INFINITY;
  }

  /** undefined when the container has no process to read right now (stopped, or stopping under us). */
  async #sampleCgroup(): Promise<ResourceSample | undefined> {
    // A second attempt after a stale cache: the container may have restarted with a new pid.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const cgroup = this.#cgroup ?? (await this.#open());
        if (cgroup === undefined) return undefined;
        const previous = this.#previousCpu ?? (await this.#baseline(cgroup));
        const counters = await cgroup.read();
        const atMs = this.#ctx.monotonicMs();
        const cpuDeltaNs = counters.cpuNs - previous.ns;
        if (cpuDeltaNs < 0) {
          // The counter restarted: a new cgroup under the same path, so a new process too.
          this.#reset();
          continue;
        }
        const elapsedMs = atMs - previous.atMs;
        this.#previousCpu = { ns: counters.cpuNs, atMs };
        const { cpuNs: _, pressure, ...rest } = counters;
        const location = this.#location;
        return {
          source: "cgroup",
          pressure: location && {
            ...pressure,
            dockerId: location.dockerId,
            ...(await this.#logFile(location.logPath)),
            nanoCpus: location.nanoCpus,
            pidsLimit: location.pidsLimit,
            pidsCurrent: rest.pids,
            atMs,
          },
          usage: {
            cpuPercent: elapsedMs > 0 ? cpuDeltaNs / elapsedMs / 1e4 : 0,
            ...rest,
            ts: this.#ctx.clock.now(),
          },
        };
      } catch (err) {
        if (!isMissingFile(err)) throw err;
        this.#reset();
      }
    }
    return undefined;
  }

  /** The log file's size and inode; nothing when there is none to read. Never throws: output is a side matter. */
  async #logFile(path: string | undefined): Promise<{ outputBytes?: number; outputInode?: number }> {
    if (path === undefined || this.#ctx.fileSize === undefined || this.#logUnreadable) return {};
    try {
      const stat = await this.#ctx.fileSize(path);
      return stat === undefined ? {} : { outputBytes: stat.size, outputInode: stat.ino };
    } catch {
      this.#logUnreadable = true;
      return {};
    }
  }

  async #open(): Promise<ContainerCgroup | undefined> {
    const location = this.#location ?? (await this.#target.resolve());
    this.#dockerId = location.dockerId;
    if (location.pid <= 0) return undefined;
    this.#location = location;
    this.#cgroup = await this.#ctx.reader.open(location.pid);
    return this.#cgroup;
  }

  async #baseline(cgroup: ContainerCgroup): Promise<{ ns: number; atMs: number }> {
    const ns = await cgroup.readCpuNs();
    const atMs = this.#ctx.monotonicMs();
    await this.#ctx.clock.sleep(this.#ctx.baselineMs);
    return { ns, atMs };
  }

  async #sampleEngine(): Promise<ResourceSample> {
    this.#dockerId ??= (await this.#target.resolve()).dockerId;
    const raw = await this.#ctx.engine.stats(this.#dockerId);
    return { source: "engine", usage: usageFromEngineStats(raw, this.#ctx.clock.now()) };
  }
}
