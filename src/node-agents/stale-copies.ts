import type { SystemLogger } from "../logging/system-logger.ts";
import type { AgentConnection } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { engineHandle } from "./engine-handle.ts";
import { removeFromNode } from "./node-leftovers.ts";
import { RemoteDockerClient } from "./remote-docker-client.ts";

/** What berth knows of one of its workloads now: where it is placed, and the engine copy it drives. */
export interface WorkloadWhereabouts {
  /** The node of its placement; undefined when it is placed nowhere (or is no workload of berth's any more). */
  nodeId: string | undefined;
  /** Its engine handle (`<node>:<engine id>`), as stored. */
  dockerId: string | null;
}

export interface StaleCopiesOptions {
  registry: AgentRegistry;
  /** berth's containers on a node (its managed labels). */
  labels: Record<string, string>;
  whereabouts(containerId: string): Promise<WorkloadWhereabouts>;
  /**
   * Whether a container with these labels is an image check's throwaway still under way (placed by the
   * server running the check, not in the store): left to its check, which removes it. One past its time
   * is removed as any copy of a workload placed nowhere.
   */
  checkUnderWay(labels: Readonly<Record<string, string>>): boolean;
  log: SystemLogger;
}

/**
 * Removes the copies a node kept of workloads that berth moved elsewhere
 * while the node was away (cut off, not dead: its engine ran on). When the
 * node's agent connects again, every berth container on its engine that is
 * not the copy berth drives — its workload placed on another node now, or
 * another engine container than the one stored — is removed, with its
 * channel on that node and, when the workload lives elsewhere now, its files
 * there. Until then such a copy was unreachable through berth (every call
 * routes by the current placement, and its node's pushes are not believed),
 * but it ran on: its own outbound effects cannot be fenced (docs/cluster.md).
 */
export class StaleCopies {
  readonly #o: StaleCopiesOptions;
  readonly #log: SystemLogger;

  constructor(options: StaleCopiesOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "StaleCopies" });
    options.registry.on("connected", this.#onConnected);
  }

  close(): void {
    this.#o.registry.off("connected", this.#onConnected);
  }

  /**
   * Sweeps `nodeId` (Swarm calls it ready again) if its agent is connected. A link down for less than
   * Socket.IO's heartbeat (45 s) never ends the agent's connection, so its coming back is no new connection.
   */
  sweepNode(nodeId: string): void {
    const agent = this.#o.registry.agentFor(nodeId);
    if (agent) this.#onConnected(agent);
  }

  /** Per node, the sweep under way: one asked for meanwhile runs after it, never beside it. */
  readonly #sweeps = new Map<string, Promise<void>>();

  readonly #onConnected = (agent: AgentConnection): void => {
    const nodeId = agent.nodeId;
    const next = (this.#sweeps.get(nodeId) ?? Promise.resolve())
      .then(() => this.sweep(agent))
      .then(
        () => undefined,
        (err: unknown) => this.#log.warn({ err, node: nodeId }, "could not look for stale copies on a node"),
      )
      .finally(() => {
        if (this.#sweeps.get(nodeId) === next) this.#sweeps.delete(nodeId);
      });
    this.#sweeps.set(nodeId, next);
  };

  /** Removes the stale copies on `agent`'s node; answers the ids of the workloads whose copy went. */
  async sweep(agent: AgentConnection): Promise<string[]> {
    const nodeId = agent.nodeId;
    const engine = new RemoteDockerClient(this.#o.registry, nodeId);
    const removed: string[] = [];
    for (const c of await engine.listContainers(this.#o.labels)) {
      const id = c.labels["berth.id"];
      if (id === undefined || this.#o.checkUnderWay(c.labels)) continue;
      const now = await this.#o.whereabouts(id);
      const placedHere = now.nodeId === nodeId;
      if (placedHere && now.dockerId === engineHandle(nodeId, c.dockerId)) continue; // the copy berth drives
      // A workload placed nowhere whose create is under way has no handle yet: not a stale copy.
      if (placedHere && now.dockerId === null) continue;
      this.#log.warn(
        { containerId: id, node: nodeId, placedOn: now.nodeId },
        "removing a stale copy of a workload",
      );
      await engine.removeContainer(c.dockerId);
      if (!placedHere) await removeFromNode(agent, id);
      removed.push(id);
    }
    return removed;
  }
}
