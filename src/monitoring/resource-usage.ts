import type { ResourceUsage } from "#protocol";
import type { PressureCounters } from "./container-cgroup.ts";
/** Where a sample came from: the cheap cgroup files, or the engine's stats API (the fallback). */
export type UsageSource = "cgroup" | "engine";

/** A sample with its provenance; only `usage` goes on the wire. */
export interface ResourceSample {
  usage: ResourceUsage;
  source: UsageSource;
  /**
   * What the limits did and what the workload wrote, for the PressureMonitor:
   * cgroup samples only (the engine's stats API has no throttling or pids events).
   */
  pressure?: PressureReading | undefined;
}

/** The cumulative counters of one sample, with the limits they are measured against. */
export interface PressureReading extends PressureCounters {
  /** The engine id the counters were read from (whose CPU limit a hold would change). */
  dockerId: string;
  /** The size of the engine's log file of the container: everything it wrote (absent without one). */
  outputBytes?: number | undefined;
  /** The log file's inode: a new one is a rotation, whatever the sizes say. */
  outputInode?: number | undefined;
  /** The limits as the engine had them when the container was found (inspect). */
  nanoCpus?: number | undefined;
  pidsLimit?: number | undefined;
  /** Processes in the container now: well under its limit, a parent cgroup's limit refused the forks. */
  pidsCurrent?: number | undefined;
  /** What the workload sent over its channel so far (bytes read by berth, frames refused). */
  channelBytes?: number | undefined;
  channelRefused?: number | undefined;
  /** Times berth stopped reading the channel (the workload was over its budget of frames sent unasked), and for how long in all. */
  channelHolds?: number | undefined;
  channelHeldMs?: number | undefined;
  /** Monotonic ms of the reading. */
  atMs: number;
}
