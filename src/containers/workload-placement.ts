/**
 * Where a new workload runs, in cluster mode: it is placed on a node (a row
 * in the store's placements, under generation 1) after its own row is stored
 * and before anything is made for it — its files and its engine container
 * are then made on that node. Single-host berth has none: everything runs on
 * its one engine. The placement goes with the container's row (the store
 * cascades), so a create undone takes it away too.
 */
/** What a workload asks of its node beyond room: `network: "outbound"` asks for one that can filter it. */
export interface WorkloadNeeds {
  egressFilter?: boolean;
}

export interface WorkloadPlacement {
  /**
   * Places a new workload; answers its placement's generation, which its engine container is labelled
   * with (`berth.generation`): the node's agent learns it from the create, and refuses calls routed by
   * an older one.
   */
  place(
    containerId: string,
    resources: { memoryMb?: number | undefined; cpus?: number | undefined } | undefined,
    needs?: WorkloadNeeds,
  ): Promise<{ generation: number } | undefined>;
  /**
   * Places a workload again, on another node than `from` (a node that was lost), under the next
   * generation; undefined when it is not placed on `from` any more (another server moved it first).
   */
  placeAgain(
    containerId: string,
    resources: { memoryMb?: number | undefined; cpus?: number | undefined } | undefined,
    from: string,
    needs?: WorkloadNeeds,
  ): Promise<{ nodeId: string; generation: number } | undefined>;
  /**
   * Puts a workload back on the node it was moved off (under the next generation) when its move failed
   * half-way, so that re-placement finds it there and tries again; nothing when another server moved
   * it since (its generation is no longer `generation`).
   */
  putBack(containerId: string, nodeId: string, generation: number): Promise<void>;
}
