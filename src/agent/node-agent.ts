import type { AgentIdentity } from "../agent-link/agent-link-contract.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import { AgentLease, type LeaseClock } from "./agent-lease.ts";
import { type AgentChannels, channelSnapshot, forwardChannelEvents } from "./channel-pushes.ts";
import { EngineFence } from "./engine-fence.ts";
import { FencedChannels } from "./fenced-channels.ts";
import { GenerationFence } from "./generation-fence.ts";
import { NodeFence } from "./node-fence.ts";
import type { NodeNetworks } from "./node-networks.ts";
import type { NodeUsage } from "./node-usage.ts";
import { ServerLink } from "./server-link.ts";

export interface NodeAgentOptions {
  /** Every API server of the cluster (BERTH_AGENT_SERVERS): the agent dials each. */
  servers: readonly string[];
  /** This node's credential (BERTH_AGENT_CREDENTIAL[_FILE]). */
  credential: string;
  /** BERTH_AGENT_CA_FILE's PEM: the only CAs trusted for the servers' certificates. */
  ca?: string | undefined;
  identity: AgentIdentity;
  /** This node's own engine. */
  docker: DockerClient;
  /** This node's workload files (AgentWorkloadFiles): code and socket directories under the agent's root. */
  files?: WorkloadFiles;
  /**
   * This node's workload channels (a SocketCommunicationHandler under `<mount root>/run`): the agent
   * serves every server's channel calls on them and pushes their events to every server. Closed by
   * whoever made it, after the agent.
   */
  channels?: AgentChannels;
  /** This node's workloads' resource usage, sampled here for every server (NodeUsage). Closed by whoever made it. */
  usage?: NodeUsage;
  /**
   * The agent's lease (absent: no fencing, as before cluster mode had it — tests of other parts). Its
   * channels are served, and its workloads made and started, only while an API server that reaches the
   * store renews it; see AgentLease and NodeFence.
   */
  fencing?: {
    /** BERTH_AGENT_LEASE_MS. */
    leaseMs: number;
    /** BERTH_AGENT_FENCE_GRACE_MS. */
    graceMs: number;
    /** BERTH_STOP_TIMEOUT_SEC: the grace a fenced workload's stop gives it. */
    stopTimeoutSec: number;
    clock?: LeaseClock;
  };
  /** This node's owner networks and their egress filter (`network: 'outbound'`). Closed by whoever made it. */
  networks?: NodeNetworks;
  log: SystemLogger;
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * berth's node agent: one per Docker host, connected out to every API server
 * (so a request from any server reaches this node without another hop), and
 * serving their engine calls on its own node's engine, their files calls on
 * its own disk (a workload's code and socket directories), their calls on the
 * workload channels of its node (the sockets live on this node, so the
 * channel code runs here), and samples of its workloads' resource usage (their
 * cgroup files are this node's), and its owners' networks with its own
 * firewall's egress filter on them (node-networks.ts). It holds no state of its own: the containers it
 * made are the engine's, and run on whether the agent is there or not — an
 * agent restarted finds them where they were, and their workloads reconnect
 * once a server has the channel opened again.
 *
 * @example
 *   const agent = new NodeAgent({ servers, credential, identity, docker, log });
 *   agent.start();
 *   process.on("SIGTERM", () => agent.close());
 */
export class NodeAgent {
  readonly #links: readonly ServerLink[];
  readonly #log: SystemLogger;
  readonly #stopForwarding: (() => void) | undefined;
  readonly #lease: AgentLease | undefined;
  readonly #fence: NodeFence | undefined;
  /** The newest placement generation this node was told of, per workload (every server's link checks it). */
  readonly generations = new GenerationFence();
  #closed = false;

  constructor(options: NodeAgentOptions) {
    this.#log = options.log;
    const fencing = options.fencing && this.#fencing(options, options.fencing);
    this.#lease = fencing?.lease;
    this.#fence = fencing?.fence;
    const channels = fencing?.channels ?? options.channels;
    const lease = this.#lease;
    const engineFence = new EngineFence(lease ?? { held: true }, this.generations, options.docker);
    this.#links = options.servers.map(
      (url) =>
        new ServerLink({
          url,
          credential: options.credential,
          ca: options.ca,
          identity: options.identity,
          docker: options.docker,
          ...(options.files === undefined ? {} : { files: options.files }),
          ...(channels === undefined ? {} : { channels }),
          ...(options.usage === undefined ? {} : { usage: options.usage }),
          generations: this.generations,
          engineFence,
          ...(lease ? { onLease: (ttlMs: number) => lease.renew(ttlMs) } : {}),
          ...(options.networks === undefined ? {} : { networks: options.networks }),
          log: options.log,
          ...(options.minDelayMs === undefined ? {} : { minDelayMs: options.minDelayMs }),
          ...(options.maxDelayMs === undefined ? {} : { maxDelayMs: options.maxDelayMs }),
        }),
    );
    // One listener for all servers: each event goes to every server connected now.
    this.#stopForwarding =
      options.channels &&
      forwardChannelEvents(options.channels, (push) => {
        for (const link of this.#links) link.push(push);
      });
  }

  /** The lease, the fence around the node's channels, and what each change of the lease does (NodeFence). */
  #fencing(
    options: NodeAgentOptions,
    settings: NonNullable<NodeAgentOptions["fencing"]>,
  ): { lease: AgentLease; channels: FencedChannels | undefined; fence: NodeFence } {
    const lease = new AgentLease(settings);
    const channels = options.channels && new FencedChannels(options.channels, options.log);
    const fence = new NodeFence({
      lease,
      channels,
      docker: options.docker,
      generations: this.generations,
      stopTimeoutSec: settings.stopTimeoutSec,
      // Each server opens again, on this snapshot, the channels of its workloads still placed here.
      onLifted: () => {
        if (channels) for (const link of this.#links) link.push(channelSnapshot(channels));
      },
      log: options.log,
    });
    if (channels) channels.onOpened = (id) => void fence.channelOpened(id);
    return { lease, channels, fence };
  }

  start(): void {
    // The generations of the copies already on this node (an agent restarted knows them again).
    this.#fence
      ?.learnGenerations()
      .catch((err: unknown) =>
        this.#log.warn({ err }, "could not read the generations of this node's workloads"),
      );
    for (const link of this.#links) link.start();
  }

  /** Where the lease stands (undefined without fencing). */
  get leaseState(): AgentLease["state"] | undefined {
    return this.#lease?.state;
  }

  /** How many API servers have this agent connected now. */
  get connectedServers(): number {
    return this.#links.filter((l) => l.connected).length;
  }

  /** Disconnects from every server; the node's containers run on. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopForwarding?.();
    this.#fence?.close();
    this.#lease?.close();
    for (const link of this.#links) link.close();
    this.#log.info("node agent closed");
  }
}
