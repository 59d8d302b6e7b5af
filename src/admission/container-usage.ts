import type { ContainerState } from "#protocol";

/** What one container counts against its owner's quotas. Code is counted in bytes, converted only for the limit. */
export interface Usage {
  containers: number;
  running: number;
  memoryMb: number;
  cpus: number;
  codeBytes: number;
}

export const NO_USAGE: Readonly<Usage> = Object.freeze({
  containers: 0,
  running: 0,
  memoryMb: 0,
  cpus: 0,
  codeBytes: 0,
});

/**
 * The states in which a container holds memory and CPU: up, on its way up,
 * or not yet down. `stopped`, `exited`, `created`, `missing`, `removing`
 * and `failed` (berth could not start it) hold none — a stopped container
 * is started again through a start, which checks the quota then.
 */
export const IN_USE_STATES: ReadonlySet<ContainerState> = new Set([
  "starting",
  "running",
  "restarting",
  "updating",
  "stopping",
  "paused",
]);

/**
 * The states in which a container placed on a cluster node reserves its
 * memory and CPUs there (PlacementStore.loads): the quotas' IN_USE_STATES,
 * and `created` besides: a create records `created` from its row until its
 * start is written (the quotas cover that gap with an in-memory reservation,
 * which another API server cannot see), so a placement made meanwhile must
 * already count the room it takes. A stopped or exited container holds
 * nothing; starting it again needs room then.
 */
export const RESERVING_STATES: ReadonlySet<ContainerState> = new Set([...IN_USE_STATES, "created"]);

/** One container as the store knows it, with what its spec leaves to the server's defaults still unset. */
export interface StoredUsage {
  id: string;
  state: ContainerState;
  memoryMb: number | null;
  cpus: number | null;
  /** Every release of the container kept on disk (any status). */
  codeBytes: number;
}

export interface ResourceDefaults {
  memoryMb: number;
  /** What a container without a CPU limit counts as. */
  cpus: number;
}

/** What the container needs while it runs: its own limits, or the server's defaults. */
export function runningUsage(
  resources: { memoryMb?: number | undefined; cpus?: number | undefined } | undefined,
  defaults: ResourceDefaults,
): Pick<Usage, "running" | "memoryMb" | "cpus"> {
  return {
    running: 1,
    memoryMb: resources?.memoryMb ?? defaults.memoryMb,
    cpus: resources?.cpus ?? defaults.cpus,
  };
}

export function containerUsage(stored: StoredUsage, defaults: ResourceDefaults): Usage {
  const inUse = IN_USE_STATES.has(stored.state);
  const run = runningUsage(
    { memoryMb: stored.memoryMb ?? undefined, cpus: stored.cpus ?? undefined },
    defaults,
  );
  return {
    containers: 1,
    running: inUse ? 1 : 0,
    memoryMb: inUse ? run.memoryMb : 0,
    cpus: inUse ? run.cpus : 0,
    codeBytes: stored.codeBytes,
  };
}
