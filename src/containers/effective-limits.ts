import type { Config } from "../config/config.ts";
import type { StoredSpec } from "./container-spec.ts";

/** A container's limits as the engine takes them: its spec's, or berth's defaults. */
export interface EffectiveLimits {
  /** docker run --cpus, in billionths of a CPU. */
  nanoCpus: number;
  memoryBytes: number;
  pids: number;
}

/**
 * The limits a container runs with — the one place a spec's `resources` meet the defaults, so that
 * creating a container, backfilling a limit and giving one back after a hold agree.
 */
export function effectiveLimits(
  spec: Pick<StoredSpec, "resources">,
  config: Pick<Config, "defaultCpus" | "defaultMemoryMb" | "defaultPids">,
): EffectiveLimits {
  return {
    nanoCpus: Math.round((spec.resources?.cpus ?? config.defaultCpus) * 1e9),
    memoryBytes: (spec.resources?.memoryMb ?? config.defaultMemoryMb) * 1024 * 1024,
    pids: spec.resources?.pids ?? config.defaultPids,
  };
}
