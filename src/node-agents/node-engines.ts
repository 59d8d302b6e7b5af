import { EventEmitter } from "node:events";
import type { DockerClient } from "../docker/docker-client.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { RemoteDockerClient } from "./remote-docker-client.ts";

export interface NodeEnginesEvents {
  /** An agent connected, was replaced, or went away. */
  changed: [];
}

/** The engines of a cluster's nodes, each reached through the node's agent, and news when that set changes. */
export interface NodeEngines extends EventEmitter<NodeEnginesEvents> {
  /** The nodes whose agent is connected now. */
  connected(): string[];
  /** The node's engine; its calls fail at once with DOCKER_UNAVAILABLE while no agent of the node is connected. */
  engineOf(nodeId: string): DockerClient;
}

/** NodeEngines over the agents connected to this API server. */
export class AgentNodeEngines extends EventEmitter<NodeEnginesEvents> implements NodeEngines {
  readonly #registry: AgentRegistry;
  readonly #engines = new Map<string, RemoteDockerClient>();
  readonly #onChange = () => this.emit("changed");

  constructor(registry: AgentRegistry) {
    super();
    this.#registry = registry;
    registry.on("connected", this.#onChange);
    registry.on("disconnected", this.#onChange);
  }

  connected(): string[] {
    return this.#registry.agents.map((a) => a.nodeId);
  }

  engineOf(nodeId: string): DockerClient {
    let engine = this.#engines.get(nodeId);
    if (!engine) {
      engine = new RemoteDockerClient(this.#registry, nodeId);
      this.#engines.set(nodeId, engine);
    }
    return engine;
  }

  close(): void {
    this.#registry.off("connected", this.#onChange);
    this.#registry.off("disconnected", this.#onChange);
  }
}
