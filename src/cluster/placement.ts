import { NoCapacityError } from "../errors/errors.ts";
import { isSchedulable, type SwarmNode } from "./swarm-nodes.ts";

/** What a workload reserves on its node: its limits, as quotas count them. */
export interface WorkloadNeed {
  memoryBytes: number;
  cpus: number;
  /** Node labels the workload must run on (all of them, equal): the spec's placement constraints. */
  constraints?: Record<string, string>;
}

/** What the workloads placed on a node reserve now. */
export interface NodeLoad {
  memoryBytes: number;
  cpus: number;
  workloads: number;
}

export interface PlacementPolicy {
  /** How far memory reservations may exceed the node's memory (1: not at all, the default). */
  memoryOvercommit?: number;
  /** How far CPU reservations may exceed the node's CPUs (default 4: CPU limits are ceilings, rarely all used at once). */
  cpuOvercommit?: number;
}

const NO_LOAD: NodeLoad = { memoryBytes: 0, cpus: 0, workloads: 0 };

/**
 * The node a new workload goes to: among the schedulable nodes (ready and
 * active, in Swarm's view) that carry every label the workload asks for and
 * have room for its reservation, the one with the most memory left in
 * proportion; ties go to fewer workloads, then to the node id, so every API
 * server choosing from the same state chooses the same node. Not a scheduler
 * of berth's own: capacity and constraints only (issue 16).
 *
 * NO_CAPACITY (retryable) when no node has room: it names how many nodes
 * were ready and how many matched the constraints, never another owner's use.
 */
export function choosePlacement(
  need: WorkloadNeed,
  nodes: readonly SwarmNode[],
  loads: ReadonlyMap<string, NodeLoad>,
  policy: PlacementPolicy = {},
): SwarmNode {
  const memoryOvercommit = policy.memoryOvercommit ?? 1;
  const cpuOvercommit = policy.cpuOvercommit ?? 4;
  const ready = nodes.filter(isSchedulable);
  const matching = ready.filter((n) =>
    Object.entries(need.constraints ?? {}).every(([key, value]) => n.labels[key] === value),
  );
  let best: { node: SwarmNode; free: number; workloads: number } | undefined;
  for (const node of matching) {
    const load = loads.get(node.id) ?? NO_LOAD;
    const memory = node.memoryBytes * memoryOvercommit;
    const cpus = node.cpus * cpuOvercommit;
    if (load.memoryBytes + need.memoryBytes > memory || load.cpus + need.cpus > cpus) continue;
    const free = memory > 0 ? (memory - load.memoryBytes - need.memoryBytes) / memory : 0;
    if (
      !best ||
      free > best.free ||
      (free === best.free && load.workloads < best.workloads) ||
      (free === best.free && load.workloads === best.workloads && node.id < best.node.id)
    ) {
      best = { node, free, workloads: load.workloads };
    }
  }
  if (!best) {
    throw new NoCapacityError({
      details: { readyNodes: ready.length, matchingNodes: matching.length },
    });
  }
  return best.node;
}
