/**
 * One resource-usage sample of a container, as clients receive it from
 * `container:stats` and the pushed `container:resource_usage`. Counters
 * (`net*`, `block*`) are totals since the container started; `cpuPercent`
 * counts the way `docker stats` does: 100 is one full core, so two busy
 * threads read about 200. `ts` is epoch ms.
 */
export interface ResourceUsage {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  ts: number;
}

/** Where a sample came from: the cheap cgroup files, or the engine's stats API (the fallback). */
export type UsageSource = "cgroup" | "engine";

/** A sample with its provenance; only `usage` goes on the wire. */
export interface ResourceSample {
  usage: ResourceUsage;
  source: UsageSource;
}
