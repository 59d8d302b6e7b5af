import type { ResourceUsage } from "#protocol";
/** Where a sample came from: the cheap cgroup files, or the engine's stats API (the fallback). */
export type UsageSource = "cgroup" | "engine";

/** A sample with its provenance; only `usage` goes on the wire. */
export interface ResourceSample {
  usage: ResourceUsage;
  source: UsageSource;
}
