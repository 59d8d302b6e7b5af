import type { ChannelPort } from "../channel/channel-port.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import type { AgentConnection } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { ClusterDockerClient } from "./cluster-docker-client.ts";
import type { NodeEngines } from "./node-engines.ts";
import { removeFromNode } from "./node-leftovers.ts";
import { RemoteChannels } from "./remote-channels.ts";
import { RemoteDockerClient } from "./remote-docker-client.ts";
import { RemoteWorkloadFiles } from "./remote-workload-files.ts";

export interface RemoteThrowawaysOptions {
  registry: AgentRegistry;
  engines: NodeEngines;
  /**
   * The node a workload of the server's default limits would be placed on now (Placer.choose: a ready
   * node with room whose agent is connected, counting the checks under way here); it throws as a
   * create's placement throws (NO_CAPACITY, DOCKER_UNAVAILABLE while Swarm cannot be asked).
   */
  choose(): Promise<string>;
  /** The agents' BERTH_AGENT_MOUNT_ROOT. */
  mountRoot: string;
  maxFrameBytes: number;
  maxRequestTimeoutMs: number;
  log: SystemLogger;
}

/** How long a clean-up left over waits for its node's agent before it is left to the sweeps (stale copies, reconciliation). */
const LEFT_OVER_FOR_MS = 60 * 60_000;

/**
 * Where image checks run in a cluster (images/ThrowawaySite): each check is
 * placed on a node as a create's workload would be, and its engine calls,
 * files and channel go to that node's agent, by this placement of its own.
 * A throwaway has no row, so its placement is not the store's: it is kept
 * here, on the server running the check, for the seconds the check lasts,
 * and counted in the loads this server places by (`underWay`). Its container
 * carries the time its check is over by (containers/check-container.ts), so
 * that another server's reconciliation or sweep leaves it alone until then.
 *
 * A check whose clean-up could not reach its node (the agent dropped) keeps
 * its placement here, and its container, channel and files on that node are
 * removed when the node's agent connects again (for an hour; after that, the
 * stale-copy sweep and the leader's reconciliation remove them once the
 * check's time is up).
 */
export class RemoteThrowaways {
  readonly docker: ClusterDockerClient;
  readonly files: WorkloadFiles;
  readonly #o: RemoteThrowawaysOptions;
  readonly #log: SystemLogger;
  /** Each check's node: under way, or its clean-up left over (`#leftOver`). */
  readonly #placed = new Map<string, string>();
  /** Checks whose clean-up waits for their node's agent, with when they ended. */
  readonly #leftOver = new Map<string, number>();
  #closed = false;

  constructor(options: RemoteThrowawaysOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "RemoteThrowaways" });
    const nodeOf = async (id: string) => this.#placed.get(id);
    this.docker = new ClusterDockerClient({
      engines: options.engines,
      nodeOf,
      // Never asked to list: a check's containers are reached by their handles.
      nodesWithWorkloads: async () => [],
    });
    this.files = new RemoteWorkloadFiles({
      registry: options.registry,
      nodeOf,
      mountRoot: options.mountRoot,
    });
    options.registry.on("connected", this.#onConnected);
  }

  async place(id: string): Promise<void> {
    const nodeId = await this.#o.choose();
    this.#placed.set(id, nodeId);
    this.#log.info({ checkId: id, nodeId }, "image check placed");
  }

  /**
   * A hub of the check's own over the agents: it hears the pushes of every workload placed on the
   * nodes (judged by its own placement, then the store's), and emits them only to the check.
   */
  channel(log: SystemLogger): ChannelPort {
    return new RemoteChannels({
      registry: this.#o.registry,
      nodeOf: async (id) => this.#placed.get(id),
      placementFreshMs: 0,
      maxFrameBytes: this.#o.maxFrameBytes,
      maxRequestTimeoutMs: this.#o.maxRequestTimeoutMs,
      log,
    });
  }

  reachable(id: string): boolean {
    const nodeId = this.#placed.get(id);
    return nodeId !== undefined && this.#o.registry.agentFor(nodeId) !== undefined;
  }

  end(id: string, leftOver: boolean): void {
    const now = Date.now();
    for (const [old, at] of this.#leftOver) {
      if (now - at < LEFT_OVER_FOR_MS) continue;
      this.#leftOver.delete(old);
      this.#placed.delete(old);
    }
    if (!leftOver || this.#closed) {
      this.#placed.delete(id);
      return;
    }
    this.#leftOver.set(id, now);
    this.#log.warn(
      { checkId: id, nodeId: this.#placed.get(id) },
      "an image check's clean-up could not reach its node; finishing it when its agent is back",
    );
    // Its agent may be back already (or never went: one step failed for another reason).
    const nodeId = this.#placed.get(id);
    const agent = nodeId === undefined ? undefined : this.#o.registry.agentFor(nodeId);
    if (agent) this.#onConnected(agent);
  }

  /** The checks placed here now, per node: counted in the loads this server places by. */
  underWay(): Array<{ nodeId: string }> {
    return [...this.#placed.values()].map((nodeId) => ({ nodeId }));
  }

  /** Stops finishing left-over clean-ups (shutdown). Safe to call twice. */
  close(): void {
    this.#closed = true;
    this.#o.registry.off("connected", this.#onConnected);
  }

  readonly #onConnected = (agent: AgentConnection): void => {
    for (const id of this.#leftOver.keys()) {
      if (this.#placed.get(id) === agent.nodeId) void this.#finish(agent, id);
    }
  };

  /** Removes what check `id` left on `agent`'s node — engine container, channel, files — then its placement. */
  async #finish(agent: AgentConnection, id: string): Promise<void> {
    try {
      const engine = new RemoteDockerClient(this.#o.registry, agent.nodeId);
      for (const c of await engine.listContainers({ "berth.id": id }))
        await engine.removeContainer(c.dockerId);
      await removeFromNode(agent, id);
      if (this.#leftOver.delete(id)) this.#placed.delete(id);
      this.#log.info({ checkId: id, nodeId: agent.nodeId }, "removed what an image check left on its node");
    } catch (err) {
      this.#log.warn({ err, checkId: id, nodeId: agent.nodeId }, "could not remove what an image check left");
    }
  }
}
