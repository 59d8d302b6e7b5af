import { DockerUnavailableError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { AgentRegistry } from "./agent-registry.ts";

export interface RemoteNetworksOptions {
  registry: AgentRegistry;
  /** The node a workload is placed on now (the placement cache). */
  nodeOf: (containerId: string) => Promise<string | undefined>;
  /** The cluster's instance id: the agent derives the network's name and labels from it and the owner. */
  instanceId: string;
  log: SystemLogger;
}

/**
 * Owner networks in cluster mode (containers/cluster-networks.ts's
 * ClusterNetworks), made and removed by the agent of each node: a `network`
 * call names the owner and the cluster's instance id, and the agent builds
 * the bridge's name, labels and options itself and puts its own node's
 * egress filter on it (agent/node-networks.ts). A node whose agent cannot
 * filter answers EGRESS_FILTER_UNAVAILABLE, rebuilt here as itself, so the
 * workload is refused exactly as a single host that cannot filter refuses it.
 *
 * @example
 *   const networks = new RemoteNetworks({ registry, nodeOf, instanceId, log });
 *   const name = await networks.ensure(await networks.nodeOf(id), "alice");
 */
export class RemoteNetworks {
  readonly #o: RemoteNetworksOptions;

  constructor(options: RemoteNetworksOptions) {
    this.#o = options;
  }

  nodeOf(containerId: string): Promise<string | undefined> {
    return this.#o.nodeOf(containerId);
  }

  async ensure(nodeId: string, owner: string): Promise<string> {
    const agent = this.#o.registry.agentFor(nodeId);
    if (!agent) {
      throw new DockerUnavailableError({
        details: { op: "network.ensure" },
        cause: new Error(`no node agent of node ${nodeId} is connected`),
      });
    }
    const { name } = await agent.callNetwork("ensure", [this.#o.instanceId, owner]);
    return name;
  }

  async release(nodeId: string, owner: string): Promise<void> {
    const agent = this.#o.registry.agentFor(nodeId);
    try {
      if (!agent) throw new Error(`no node agent of node ${nodeId} is connected`);
      await agent.callNetwork("release", [this.#o.instanceId, owner]);
    } catch (err) {
      // Left on the node: unused and filtered, and removed by its agent's own re-check once unused for a while.
      this.#o.log.warn({ err, node: nodeId, owner }, "could not remove an owner's network from its node");
    }
  }
}
