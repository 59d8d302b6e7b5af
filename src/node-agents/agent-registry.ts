import { EventEmitter } from "node:events";
import type { AgentConnection } from "./agent-connection.ts";

export interface AgentRegistryEvents {
  connected: [agent: AgentConnection];
  /** `reason`: Socket.IO's disconnect reason, or why berth ended it ("replaced by a newer connection"). */
  disconnected: [agent: AgentConnection, reason: string];
}

/**
 * The node agents connected to this API server now, one per node id. A
 * second connection that says the same node id replaces the first, which is
 * ended: an agent that restarted, or whose network blipped, dials again at
 * once, while this server may take up to Socket.IO's heartbeat (25 s + 20 s)
 * to notice that the old connection is dead. The newest connection is the
 * live one; refusing it would lock the node out until then, and keeping both
 * would split the node's calls between a live agent and a dead one.
 *
 * @example
 *   registry.on("connected", (agent) => log.info({ node: agent.nodeId }, "agent connected"));
 *   const engine = new RemoteDockerClient(registry, nodeId);
 */
export class AgentRegistry extends EventEmitter<AgentRegistryEvents> {
  readonly #byNode = new Map<string, AgentConnection>();

  /** The agent serving `nodeId` now; undefined when none is connected. */
  agentFor(nodeId: string): AgentConnection | undefined {
    return this.#byNode.get(nodeId);
  }

  get agents(): AgentConnection[] {
    return [...this.#byNode.values()];
  }

  /** Adds a new connection; an older one of the same node is ended first (see the class). */
  add(agent: AgentConnection): void {
    const previous = this.#byNode.get(agent.nodeId);
    this.#byNode.set(agent.nodeId, agent);
    if (previous) {
      previous.disconnect("replaced", "replaced by a newer connection of the same node");
      this.emit("disconnected", previous, "replaced by a newer connection of the same node");
    }
    this.emit("connected", agent);
  }

  /** The connection ended: forgotten, unless a newer one of its node already took its place. */
  remove(agent: AgentConnection, reason: string): void {
    agent.closed(reason);
    if (this.#byNode.get(agent.nodeId) !== agent) return;
    this.#byNode.delete(agent.nodeId);
    this.emit("disconnected", agent, reason);
  }

  /**
   * Ends the connection of the node's agent, if one is connected (Swarm calls the node down, and its
   * workloads are being moved): every call waiting on it fails at once, as when the agent goes, rather
   * than when its own timeout runs out. An agent still alive connects again and is taken as any other.
   */
  dropNode(nodeId: string, reason: string): boolean {
    const agent = this.#byNode.get(nodeId);
    if (!agent) return false;
    agent.disconnect("node_down", reason);
    this.remove(agent, reason);
    return true;
  }

  /** Ends every agent's connection (berth is closing). */
  close(): void {
    for (const agent of this.agents) {
      agent.disconnect("closing", "the API server is closing");
      this.remove(agent, "the API server is closing");
    }
  }
}
