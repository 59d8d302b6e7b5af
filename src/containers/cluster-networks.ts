/**
 * Cluster mode's owner networks (`network: 'outbound'`): each owner's bridge
 * lives on every node its outbound workloads run on, made there — with that
 * node's egress filter on it — by the node's agent, never by the API server
 * (node-agents/remote-networks.ts). Single-host berth has none: it makes the
 * bridge on its own engine and filters it with its own host's firewall.
 */
export interface ClusterNetworks {
  /** The node a workload is placed on now; undefined when it is placed nowhere. */
  nodeOf(containerId: string): Promise<string | undefined>;
  /**
   * The owner's bridge on `nodeId`, made there if missing, with the node's egress filter in place; its name
   * for the create body. EGRESS_FILTER_UNAVAILABLE when that node cannot filter (nothing is made then);
   * DOCKER_UNAVAILABLE (retryable) when no agent of the node is connected.
   */
  ensure(nodeId: string, owner: string): Promise<string>;
  /**
   * Removes the owner's bridge from `nodeId`, and its rules, unless a container of that node still uses it.
   * Never rejects: a node that cannot be reached keeps it, and its agent removes it once unused.
   */
  release(nodeId: string, owner: string): Promise<void>;
}
