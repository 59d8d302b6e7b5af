import { DockerUnavailableError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { Placement, PlacementStore } from "../store/store-ports.ts";
import type { Membership } from "./membership.ts";
import { choosePlacement, type NodeLoad, type PlacementPolicy } from "./placement.ts";
import type { SwarmNode } from "./swarm-nodes.ts";

const MIB = 1024 * 1024;

/** A workload's limits as its spec gives them; unset ones count as the server's defaults. */
export interface WorkloadLimits {
  memoryMb?: number | undefined;
  cpus?: number | undefined;
}

/** What a workload asks of its node beyond room. */
export interface PlacementNeeds {
  /** `network: "outbound"`: a node whose agent can filter its egress (it said so in its hello). */
  egressFilter?: boolean | undefined;
}

export interface PlacerOptions {
  membership: Pick<Membership, "view">;
  placements: PlacementStore;
  /** Whether the node's agent is connected to this server now: a node berth cannot reach takes no workload. */
  reachable(nodeId: string): boolean;
  /**
   * Whether the node's agent said it can filter outbound workloads (its hello's `egressFilter`);
   * undefined when it did not say (an agent of an older berth), which counts as able.
   */
  canFilter?(nodeId: string): boolean | undefined;
  /** The server's limits for a spec that names none (BERTH_DEFAULT_MEMORY_MB, BERTH_DEFAULT_CPUS). */
  defaults: { memoryMb: number; cpus: number };
  policy?: PlacementPolicy;
  /**
   * What this server has running on nodes beside the store's placements (its image checks' throwaway
   * containers, for the seconds a check lasts): counted in the nodes' loads, as a workload would be.
   */
  unstored?: () => Iterable<{ nodeId: string; limits?: WorkloadLimits | undefined }>;
  log?: SystemLogger;
}

/**
 * Puts workloads on nodes: the policy (choosePlacement) over Swarm's view of
 * the nodes, narrowed to those whose agent this server reaches, and the loads
 * the placements in the store sum; then the placement itself, a
 * compare-and-set on the workload's generation (PlacementStore.place).
 *
 * An outbound workload goes to a node whose agent can filter it, when any
 * can (the others are skipped); when none can, it is placed as any other,
 * and that node's agent refuses it (EGRESS_FILTER_UNAVAILABLE, the create
 * undone): the node's own check at `ensure` stays the word that counts, the
 * agent's hello only steers.
 *
 * Nothing is placed on the strength of a stale view: while the Swarm's
 * manager cannot be asked, berth does not know which nodes are up, and a
 * create fails as DOCKER_UNAVAILABLE (retryable) rather than placing a
 * workload on a node that may be gone.
 */
export class Placer {
  readonly #o: PlacerOptions;

  constructor(options: PlacerOptions) {
    this.#o = options;
  }

  /**
   * Places a new workload (one placed nowhere now, as a create's is), or places again one whose
   * placement the caller read as `from` (re-placement: never back on `from`'s node). A
   * StalePlacementError means another server moved it first: read it again, decide anew.
   */
  async place(
    containerId: string,
    limits: WorkloadLimits | undefined,
    from?: Placement,
    needs?: PlacementNeeds,
  ): Promise<Placement> {
    const node = await this.choose(limits, from?.nodeId, needs);
    const placed = await this.#o.placements.place(containerId, node.id, from?.generation ?? 0);
    this.#o.log?.info(
      { containerId, node: node.hostname, nodeId: node.id, generation: placed.generation },
      from ? "workload placed again" : "workload placed",
    );
    return placed;
  }

  /**
   * The node a workload with `limits` would be placed on now (never `not`), by the same policy, without
   * placing anything: what an image check's throwaway container, which has no row, runs on.
   */
  async choose(limits: WorkloadLimits | undefined, not?: string, needs?: PlacementNeeds): Promise<SwarmNode> {
    const view = this.#o.membership.view();
    if (!view.fresh) {
      throw new DockerUnavailableError({
        details: { op: "place" },
        cause: new Error("the Swarm's managers cannot be asked which nodes are up"),
      });
    }
    const reachable = view.nodes.filter((n) => this.#o.reachable(n.id) && n.id !== not);
    const nodes = needs?.egressFilter ? this.#filtering(reachable) : reachable;
    const loads = await this.#o.placements.loads(this.#o.defaults);
    for (const { nodeId, limits: theirs } of this.#o.unstored?.() ?? []) {
      const load: NodeLoad = loads.get(nodeId) ?? { memoryBytes: 0, cpus: 0, workloads: 0 };
      const need = this.#need(theirs);
      loads.set(nodeId, {
        memoryBytes: load.memoryBytes + need.memoryBytes,
        cpus: load.cpus + need.cpus,
        workloads: load.workloads + 1,
      });
    }
    return choosePlacement(this.#need(limits), nodes, loads, this.#o.policy);
  }

  /** The nodes that can filter outbound workloads, or all of them when none can (their agents refuse). */
  #filtering(nodes: SwarmNode[]): SwarmNode[] {
    const able = nodes.filter((n) => this.#o.canFilter?.(n.id) !== false);
    if (able.length > 0 || nodes.length === 0) return able;
    this.#o.log?.warn(
      { nodes: nodes.map((n) => n.hostname) },
      "no node's agent can filter outbound workloads: the node chosen will refuse this one",
    );
    return nodes;
  }

  #need(limits: WorkloadLimits | undefined): { memoryBytes: number; cpus: number } {
    const { defaults } = this.#o;
    return {
      memoryBytes: (limits?.memoryMb ?? defaults.memoryMb) * MIB,
      cpus: limits?.cpus ?? defaults.cpus,
    };
  }
}
