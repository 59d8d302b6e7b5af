import { totalmem } from "node:os";
import type { DockerClient } from "../docker/docker-client.ts";
import { NotFoundError, ShuttingDownError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { CgroupFs } from "../monitoring/cgroup-fs.ts";
import { CgroupReader } from "../monitoring/cgroup-reader.ts";
import { ContainerProbe, type ProbeContext } from "../monitoring/container-probe.ts";
import type { ContainerTarget } from "../monitoring/container-target.ts";
import { engineTarget } from "../monitoring/engine-target.ts";
import type { LogFileStat } from "../monitoring/log-byte-counter.ts";
import { NodeCgroupFs } from "../monitoring/node-cgroup-fs.ts";
import type { ResourceSample } from "../monitoring/resource-usage.ts";
import { statFile } from "../monitoring/stat-file.ts";
import { type Clock, systemClock } from "../util/clock.ts";

export interface NodeUsageOptions {
  /** This node's engine, berth's workloads only (WorkloadsOnlyEngine): where a container and its pid are found. */
  docker: Pick<DockerClient, "inspectContainer" | "containerStats">;
  log: SystemLogger;
  /** `/proc` and `/sys` of this node (default: the real ones). */
  fs?: CgroupFs;
  clock?: Clock;
  monotonicMs?: () => number;
  /** The gap between the two CPU readings of a container's first sample (default 100 ms, as the API side's). */
  baselineMs?: number;
  /**
   * How long what is kept of a container nobody samples any more stays (default 2 minutes: longer than the
   * longest interval a watch may ask, 60 s, so a steady watcher never pays for a new baseline).
   */
  idleMs?: number;
  /** The size and inode of the engine's log file of a container (default: stat()). */
  fileSize?: (path: string) => Promise<LogFileStat | undefined>;
}

interface Kept {
  probe: ContainerProbe;
  inFlight: Promise<ResourceSample> | undefined;
  usedAt: number;
}

/**
 * The resource usage of this node's workloads, sampled as single-host berth
 * samples its own (ContainerProbe: the container's cgroup files, found from
 * the pid this node's engine reports; the engine's stats API as the
 * fallback), for whichever API server asks. What makes the next sample cheap
 * — the open counter files, the CPU baseline — is kept per engine container
 * between samples, shared by every server that samples it, and let go once
 * nobody has asked for `idleMs`. Samples of one container never overlap: a
 * second caller joins the one under way.
 *
 * Only berth's containers of this node are sampled: the engine it is given
 * sees no other (NOT_FOUND), and a container that fails is forgotten at once,
 * so what is kept is bounded by the node's workloads.
 *
 * ```ts
 * const usage = new NodeUsage({ docker: workloadsOnly, log });
 * const { usage: now } = await usage.sample(engineId, false);
 * usage.close();
 * ```
 */
export class NodeUsage {
  readonly #docker: NodeUsageOptions["docker"];
  readonly #ctx: ProbeContext;
  readonly #monotonicMs: () => number;
  readonly #idleMs: number;
  readonly #kept = new Map<string, Kept>();
  readonly #sweep: NodeJS.Timeout;
  #closed = false;

  constructor(options: NodeUsageOptions) {
    this.#docker = options.docker;
    this.#monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.#idleMs = options.idleMs ?? 120_000;
    const log = options.log.child({ component: "NodeUsage" });
    this.#ctx = {
      reader: new CgroupReader(options.fs ?? new NodeCgroupFs(), totalmem()),
      engine: { stats: (dockerId) => options.docker.containerStats(dockerId) },
      clock: options.clock ?? systemClock,
      monotonicMs: this.#monotonicMs,
      baselineMs: options.baselineMs ?? 100,
      cgroupRetryMs: 60_000,
      onFallback: (cause) => log.debug({ err: cause }, "sampling through the engine"),
      fileSize: options.fileSize ?? statFile,
    };
    this.#sweep = setInterval(() => this.#forgetIdle(), this.#idleMs / 2);
    this.#sweep.unref();
  }

  /** How many containers' probes are kept now. */
  get size(): number {
    return this.#kept.size;
  }

  /**
   * One sample of engine container `engineId` (a whole id); `fresh` forgets what was kept of it first (it
   * restarted). Rejects with NOT_FOUND for anything but a container of berth's on this node.
   */
  async sample(engineId: string, fresh: boolean): Promise<ResourceSample> {
    if (this.#closed) throw new ShuttingDownError();
    let kept = this.#kept.get(engineId);
    if (kept === undefined) {
      kept = { probe: new ContainerProbe(this.#target(engineId), this.#ctx), inFlight: undefined, usedAt: 0 };
      this.#kept.set(engineId, kept);
    }
    kept.usedAt = this.#monotonicMs();
    if (kept.inFlight !== undefined) return kept.inFlight;
    if (fresh) kept.probe.invalidate();
    const entry = kept;
    entry.inFlight = entry.probe.sample().finally(() => {
      entry.inFlight = undefined;
      if (this.#closed) entry.probe.close();
    });
    try {
      return await entry.inFlight;
    } catch (err) {
      // Gone, not berth's, or unreadable: nothing is kept of it.
      if (this.#kept.get(engineId) === entry) this.#kept.delete(engineId);
      entry.probe.close();
      throw err;
    }
  }

  /** Lets go of every open file; samples under way finish, and close theirs. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const kept of this.#kept.values()) if (kept.inFlight === undefined) kept.probe.close();
    this.#kept.clear();
  }

  /** Where the engine container is, as this node's engine says: itself, exactly, never a name or a prefix. */
  #target(engineId: string): ContainerTarget {
    const target = engineTarget(this.#docker, async () => engineId);
    return {
      resolve: async () => {
        const location = await target.resolve();
        if (location.dockerId !== engineId) throw new NotFoundError();
        return location;
      },
    };
  }

  #forgetIdle(): void {
    const before = this.#monotonicMs() - this.#idleMs;
    for (const [engineId, kept] of this.#kept) {
      if (kept.inFlight !== undefined || kept.usedAt > before) continue;
      this.#kept.delete(engineId);
      kept.probe.close();
    }
  }
}
