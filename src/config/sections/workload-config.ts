import { z } from "zod";
import { ConfigError } from "../config-error.ts";
import { type EnvOf, envInt } from "../env-values.ts";

/** Docker's own floor for a CPU limit (`--cpus`): below it the engine refuses the create. */
export const MIN_CPUS = 0.01;

/** What each workload's container runs under: its user, its resources, its timeouts and restarts. */
export const WorkloadEnv = {
  BERTH_UID_RANGE: z
    .string()
    .regex(/^\d+-\d+$/, "expected FIRST-LAST, e.g. 200000-299999")
    .default("200000-299999"),
  BERTH_DEFAULT_MEMORY_MB: envInt(256, 6),
  BERTH_MAX_MEMORY_MB: envInt(4096, 6),
  BERTH_DEFAULT_PIDS: envInt(256, 8),
  BERTH_MAX_PIDS: envInt(4096, 8),
  BERTH_MAX_CPUS: z.coerce.number().min(MIN_CPUS).max(1024).default(2),
  BERTH_DEFAULT_CPUS: z.coerce.number().min(MIN_CPUS).max(1024).default(1),
  BERTH_STOP_TIMEOUT_SEC: envInt(10, 0, 600),
  BERTH_READY_TIMEOUT_MS: envInt(30_000, 100, 600_000),
  BERTH_MAX_RESTARTS: envInt(5, 0, 1000),
  BERTH_RESTART_RESET_MS: envInt(60_000, 1000),
  BERTH_RESTART_BASE_DELAY_MS: envInt(1_000, 10, 600_000),
};

export interface WorkloadConfig {
  readonly uidRange: { readonly first: number; readonly last: number };
  readonly defaultMemoryMb: number;
  readonly maxMemoryMb: number;
  readonly defaultPids: number;
  readonly maxPids: number;
  readonly maxCpus: number;
  /** The CPU limit of a container whose spec names none: no container runs without one. */
  readonly defaultCpus: number;
  readonly stopTimeoutSec: number;
  readonly readyTimeoutMs: number;
  readonly maxRestarts: number;
  readonly restartResetMs: number;
  readonly restartBaseDelayMs: number;
}

export function workloadConfig(e: EnvOf<typeof WorkloadEnv>): WorkloadConfig {
  const [first, last] = e.BERTH_UID_RANGE.split("-").map(Number) as [number, number];
  if (first < 1000 || last < first)
    throw ConfigError.invalid("BERTH_UID_RANGE: FIRST must be ≥ 1000 and ≤ LAST");
  if (e.BERTH_DEFAULT_CPUS > e.BERTH_MAX_CPUS) {
    throw ConfigError.invalid("BERTH_DEFAULT_CPUS must be at most BERTH_MAX_CPUS");
  }
  return {
    uidRange: Object.freeze({ first, last }),
    defaultMemoryMb: e.BERTH_DEFAULT_MEMORY_MB,
    maxMemoryMb: e.BERTH_MAX_MEMORY_MB,
    defaultPids: e.BERTH_DEFAULT_PIDS,
    maxPids: e.BERTH_MAX_PIDS,
    maxCpus: e.BERTH_MAX_CPUS,
    defaultCpus: e.BERTH_DEFAULT_CPUS,
    stopTimeoutSec: e.BERTH_STOP_TIMEOUT_SEC,
    readyTimeoutMs: e.BERTH_READY_TIMEOUT_MS,
    maxRestarts: e.BERTH_MAX_RESTARTS,
    restartResetMs: e.BERTH_RESTART_RESET_MS,
    restartBaseDelayMs: e.BERTH_RESTART_BASE_DELAY_MS,
  };
}
