import Dockerode from "dockerode";
import type { ContainerLocks } from "../cluster/container-locks.ts";
import { LeaderLease } from "../cluster/leader-lease.ts";
import { Membership } from "../cluster/membership.ts";
import { PgChangeNotices } from "../cluster/pg-change-notices.ts";
import { PgContainerLocks } from "../cluster/pg-container-locks.ts";
import { PgLockSession } from "../cluster/pg-lock-session.ts";
import { PlacementCache } from "../cluster/placement-cache.ts";
import { Placer } from "../cluster/placer.ts";
import { Replacement } from "../cluster/replacement.ts";
import { engineSwarmNodes, type SwarmNode } from "../cluster/swarm-nodes.ts";
import type { Config } from "../config/config.ts";
import { checkUnderWay } from "../containers/check-container.ts";
import { managedLabels } from "../containers/container-config.ts";
import type { WorkloadPlacement } from "../containers/workload-placement.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { AgentRegistry } from "../node-agents/agent-registry.ts";
import { ClusterDockerClient } from "../node-agents/cluster-docker-client.ts";
import { AgentNodeEngines } from "../node-agents/node-engines.ts";
import { removeOrphanLeftovers } from "../node-agents/node-leftovers.ts";
import { RemoteChannels } from "../node-agents/remote-channels.ts";
import { RemoteNetworks } from "../node-agents/remote-networks.ts";
import { RemoteThrowaways } from "../node-agents/remote-throwaways.ts";
import { RemoteUsage } from "../node-agents/remote-usage.ts";
import { RemoteWorkloadFiles } from "../node-agents/remote-workload-files.ts";
import { StaleCopies } from "../node-agents/stale-copies.ts";
import { StalePlacementError } from "../store/store-errors.ts";
import type { Store } from "../store/store-ports.ts";
import type { DisposalStack } from "./disposal-stack.ts";
import { dropAgentsOfDownNodes } from "./down-node-agents.ts";

export interface ClusterParts {
  /** The engine port over every node, through its agent: what the lifecycle drives in cluster mode. */
  docker: ClusterDockerClient;
  /** The create path's placement step. */
  placement: WorkloadPlacement;
  /** Each container's operations, one server at a time across every API server of the cluster. */
  locks: ContainerLocks;
  /** The nodes as the Swarm's manager reports them; started by Berth.start(). */
  membership: Membership;
  /** The node a workload is placed on now. */
  nodeOf(containerId: string): Promise<string | undefined>;
  /** A workload's files, made on its node by that node's agent. */
  files: RemoteWorkloadFiles;
  /** A workload's resource usage, sampled by the agent of its node from that node's cgroup files. */
  usage: RemoteUsage;
  /** An orphan's files and channel on the node its engine handle names (the reconciler's, after its container). */
  orphanLeftovers(containerId: string, dockerId: string): Promise<void>;
  /** Where image checks run: each on a node placed for it, as a create's workload would be. */
  throwaways: RemoteThrowaways;
  /** Owner networks (`network: 'outbound'`), made and filtered on each node by its agent. */
  networks: RemoteNetworks;
  /** The workloads' channels, each held by the agent of its node. */
  channels(config: Config, log: SystemLogger): RemoteChannels;
  /** Every container's state changes, whichever server wrote them: the leader watches health by them. */
  states: PgChangeNotices;
  /** Runs `duty` at each term of this server's lead of the cluster, until the term's signal aborts. */
  whileLeading(duty: (term: AbortSignal) => void): void;
  /** Gives the lead up for good (shutdown), so that another server takes it at its next try. */
  resign(): Promise<void>;
  /** Re-placement (led by one API server at a time): how a workload is moved off a lost node. */
  moveWith(relocate: (containerId: string, lostNode: string) => Promise<boolean>): void;
  /** Starts asking Swarm for its nodes, hearing the store's notices, and trying for the lead (Berth.start). */
  start(): void;
}

/**
 * Cluster mode's parts (BERTH_CLUSTER): the nodes as the Swarm's manager
 * (the local engine, BERTH_DOCKER_SOCKET) reports them, each node's engine
 * through its agent, and placement over the store every API server shares.
 */
export function buildCluster(
  config: Config,
  deps: {
    store: Store;
    registry: AgentRegistry;
    instanceId: string;
    log: SystemLogger;
    /** Every container's state changes (openBase's, started by Berth.start()). */
    states: PgChangeNotices | undefined;
  },
  stack: DisposalStack,
): ClusterParts {
  const { store, registry, log } = deps;
  // Asked only which nodes are up; berth's own engine calls in cluster mode all go through agents.
  const manager = new Dockerode({ socketPath: config.dockerSocket });
  const membership = new Membership({
    source: engineSwarmNodes((signal) => manager.listNodes({ abortSignal: signal })),
    log,
  });
  stack.defer("cluster membership", () => membership.close());
  stack.defer("down nodes' agents", dropAgentsOfDownNodes(membership, registry, log));
  const engines = new AgentNodeEngines(registry);
  stack.defer("node engines", () => engines.close());
  const url = config.database?.reveal();
  const states = deps.states;
  // Refused by the config first.
  if (url === undefined || states === undefined) throw new Error("cluster mode without BERTH_DATABASE_URL");
  // Placements as this server routes by them: read once, forgotten the moment the store says they changed.
  const notices = new PgChangeNotices(url, "placements", log);
  stack.defer("placement notices", () => notices.close());
  // Closed after the operations drained (built before them): a turn under way keeps its lock to the end.
  const locks = new PgContainerLocks({ url, log });
  stack.defer("container locks", () => locks.close());
  const placements = new PlacementCache(async (id) => {
    const placed = await store.placements.current(id);
    return placed && { nodeId: placed.nodeId, generation: placed.generation };
  }, notices);
  const nodeOf = (id: string) => placements.nodeOf(id);
  // Every call about a workload is routed by its placement and stamped with its generation (the agent checks it).
  const placementOf = (id: string) => placements.placementOf(id);
  const docker = new ClusterDockerClient({
    engines,
    nodeOf,
    placementOf,
    nodesWithWorkloads: () => store.placements.nodes(),
  });
  const placer = new Placer({
    membership,
    placements: store.placements,
    reachable: (nodeId) => registry.agentFor(nodeId) !== undefined,
    // What the node's agent said in its hello: outbound workloads go to nodes that can filter them.
    canFilter: (nodeId) => registry.agentFor(nodeId)?.identity.egressFilter,
    defaults: { memoryMb: config.defaultMemoryMb, cpus: config.defaultCpus },
    // This server's image checks under way take room on their nodes too, for the seconds they last.
    unstored: () => throwaways.underWay(),
    log,
  });
  // A check's throwaway has the server's default limits (buildCreateBody with a spec that names none).
  const throwaways = new RemoteThrowaways({
    registry,
    engines,
    choose: async () => (await placer.choose(undefined)).id,
    mountRoot: config.agentMountRoot,
    maxFrameBytes: config.maxFrameBytes,
    maxRequestTimeoutMs: config.maxRequestTimeoutMs,
    log,
  });
  stack.defer("image checks' left-over clean-ups", () => throwaways.close());
  const placement: WorkloadPlacement = {
    async place(containerId, resources, needs) {
      const placed = await placer.place(containerId, resources, undefined, needs);
      placements.forget(containerId);
      return { generation: placed.generation };
    },
    async putBack(containerId, nodeId, generation) {
      await store.placements.place(containerId, nodeId, generation).catch((err: unknown) => {
        if (!(err instanceof StalePlacementError)) throw err;
      });
      placements.forget(containerId);
    },
    async placeAgain(containerId, resources, from, needs) {
      const current = await store.placements.current(containerId);
      if (current?.nodeId !== from) return undefined;
      try {
        const placed = await placer.place(containerId, resources, current, needs);
        placements.forget(containerId);
        return { nodeId: placed.nodeId, generation: placed.generation };
      } catch (err) {
        // Another server moved it between the read and the move: its move stands.
        if (err instanceof StalePlacementError) return undefined;
        throw err;
      }
    },
  };
  const files = new RemoteWorkloadFiles({ registry, nodeOf, placementOf, mountRoot: config.agentMountRoot });
  const usage = new RemoteUsage({ registry, nodeOf });
  const networks = new RemoteNetworks({ registry, nodeOf, instanceId: deps.instanceId, log });
  const channels = () =>
    new RemoteChannels({
      registry,
      nodeOf,
      placementOf,
      // The placement cache is kept fresh by the store's notices: pushes are judged by it as it is now.
      placementFreshMs: 0,
      maxFrameBytes: config.maxFrameBytes,
      maxRequestTimeoutMs: config.maxRequestTimeoutMs,
      log,
    });
  // One server at a time leads the cluster (ClusterSteward) and moves the workloads of lost nodes: the
  // holder of the "steward" lease.
  const lease = new LeaderLease({ name: "steward", open: (o) => PgLockSession.open(url, o), log });
  stack.defer("steward lease", () => lease.close());
  const whileLeading = (duty: (term: AbortSignal) => void) => lease.on("elected", duty);
  const moveWith = (relocate: (containerId: string, lostNode: string) => Promise<boolean>) => {
    const replacement = new Replacement({
      membership,
      placements: store.placements,
      // Once a move is done, the copy its old node kept is stale: swept now if that node's agent is
      // connected (cut off, not dead), or when it connects again or Swarm calls the node ready.
      relocate: async (id, lostNode) => {
        const moved = await relocate(id, lostNode);
        if (moved) stale.sweepNode(lostNode);
        return moved;
      },
      log,
    });
    lease.on("elected", (term) => replacement.lead(term));
    // Before the operations drain: a move under way finishes (or fails) while the lifecycle still runs.
    stack.defer("re-placement under way", () => replacement.settled());
  };
  // Copies a node kept of workloads moved off it while it was cut off: removed when its agent is back.
  const stale = new StaleCopies({
    registry,
    labels: managedLabels(deps.instanceId),
    checkUnderWay: (labels) => checkUnderWay(labels, Date.now()),
    // From the store itself, not this server's cache: whether a copy goes is decided on the latest word.
    whereabouts: async (id) => ({
      nodeId: (await store.placements.current(id))?.nodeId,
      dockerId: (await store.containers.get(id))?.dockerId ?? null,
    }),
    log,
  });
  const onNodeChange = (node: SwarmNode | undefined, before: SwarmNode | undefined) => {
    if (node?.state === "ready" && before !== undefined && before.state !== "ready") stale.sweepNode(node.id);
  };
  membership.on("changed", onNodeChange);
  stack.defer("stale copies", () => {
    membership.off("changed", onNodeChange);
    stale.close();
  });
  const start = () => {
    notices.start();
    membership.start();
    lease.start();
  };
  const resign = () => lease.close();
  return {
    docker,
    locks,
    states,
    whileLeading,
    resign,
    placement,
    membership,
    nodeOf,
    files,
    usage,
    throwaways,
    orphanLeftovers: (id, dockerId) => removeOrphanLeftovers(registry, id, dockerId),
    networks,
    channels,
    moveWith,
    start,
  };
}
