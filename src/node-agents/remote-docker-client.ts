import {
  type AnswerOf,
  type ArgsOf,
  type EngineMethod,
  NOT_FORWARDED,
} from "../agent-link/engine-methods.ts";
import type {
  ContainerCreateBody,
  ContainerInspect,
  ContainerSummary,
  DockerClient,
  EngineEvent,
  EngineVersion,
  EventSubscription,
  ImageFacts,
  NetworkInfo,
  NetworkSpec,
} from "../docker/docker-client.ts";
import { DockerUnavailableError, NotFoundError, NotSupportedError } from "../errors/errors.ts";
import type { AgentConnection } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";

/**
 * The engine port of one node, served by that node's agent: each call goes to
 * the agent connected for `nodeId` now (so an agent that reconnects, or is
 * replaced, is picked up by the next call), and fails at once with
 * DOCKER_UNAVAILABLE while none is — as the local adapter fails when its
 * engine is down. So the ContainerManager drives a container on another node
 * exactly as it drives one on its own.
 *
 * What is not forwarded (NOT_FORWARDED: the engine's stats, which the
 * agent's own sampling replaces, and networks) answers NotSupportedError
 * without reaching the agent. A workload's output comes through the agent
 * as the engine sends it, raw, for the API side to split and redact.
 *
 * @example
 *   const docker = new RemoteDockerClient(registry, "ysbk1nh4…");
 *   const id = await docker.createContainer(buildCreateBody(input));
 *   await docker.startContainer(id);
 */
export class RemoteDockerClient implements DockerClient {
  readonly nodeId: string;
  readonly #registry: AgentRegistry;

  constructor(registry: AgentRegistry, nodeId: string) {
    this.#registry = registry;
    this.nodeId = nodeId;
  }

  /** The agent connected for the node now; DOCKER_UNAVAILABLE when none is. */
  #agent(op: EngineMethod): AgentConnection {
    const agent = this.#registry.agentFor(this.nodeId);
    if (agent) return agent;
    throw new DockerUnavailableError({
      details: { op },
      cause: new Error(`no node agent of node ${this.nodeId} is connected`),
    });
  }

  async #call<M extends EngineMethod>(
    method: M,
    args: ArgsOf<M>,
    signal?: AbortSignal,
  ): Promise<AnswerOf<M>> {
    return this.#agent(method).call(method, args, signal);
  }

  async ping(): Promise<void> {
    await this.#call("ping", []);
  }

  version(): Promise<EngineVersion> {
    return this.#call("version", []);
  }

  probe(): Promise<EngineVersion> {
    return this.#call("probe", []);
  }

  async inspectImage(ref: string): Promise<ImageFacts | undefined> {
    return (await this.#call("inspectImage", [ref])) ?? undefined;
  }

  createContainer(body: ContainerCreateBody): Promise<string> {
    // The agent checks the body against the hardened one field by field (create-body-schema.ts).
    return this.#call("createContainer", [body as ArgsOf<"createContainer">[0]]);
  }

  startContainer(dockerId: string): Promise<boolean> {
    return this.#call("startContainer", [dockerId]);
  }

  async stopContainer(dockerId: string, timeoutSec: number): Promise<void> {
    await this.#call("stopContainer", [dockerId, timeoutSec]);
  }

  async removeContainer(dockerId: string): Promise<void> {
    await this.#call("removeContainer", [dockerId]);
  }

  async updateCpuLimit(dockerId: string, nanoCpus: number): Promise<void> {
    await this.#call("updateCpuLimit", [dockerId, nanoCpus]);
  }

  waitForExit(dockerId: string, signal: AbortSignal): Promise<number> {
    return this.#call("waitForExit", [dockerId], signal);
  }

  async inspectContainer(dockerIdOrName: string): Promise<ContainerInspect | undefined> {
    const info = await this.#call("inspectContainer", [dockerIdOrName]);
    // Checked for what berth reads of it (engine-methods.ts); the rest is the engine's, passed through.
    return (info ?? undefined) as ContainerInspect | undefined;
  }

  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return this.#call("listContainers", [labels]);
  }

  async streamEvents(
    labels: Record<string, string>,
    sinceMs: number,
    onEvent: (e: EngineEvent) => void,
  ): Promise<EventSubscription> {
    return this.#agent("streamEvents").subscribe(labels, sinceMs, onEvent);
  }

  containerLogs(dockerId: string, tail: number, sinceMs?: number): Promise<string[]> {
    return this.#call("containerLogs", [dockerId, tail, sinceMs ?? null]);
  }

  containerStats(_dockerId: string): Promise<unknown> {
    return notForwarded("containerStats");
  }

  async readLogs(
    dockerId: string,
    opts: { tail: number; sinceMs?: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    // As the local adapter's: no such container (the agent's NOT_FOUND) is nothing to read, not an error.
    await this.#agent("readLogs")
      .readOutput(dockerId, opts, onChunk)
      .catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err;
      });
  }

  async followLogs(
    dockerId: string,
    opts: { tail: number } | { sinceMs: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<EventSubscription> {
    let sub: EventSubscription;
    try {
      sub = await this.#agent("followLogs").followOutput(dockerId, opts, onChunk);
    } catch (err) {
      if (err instanceof NotFoundError) return { done: Promise.resolve(), close: () => {} };
      throw err;
    }
    // As the local adapter's follow, which just ends when its engine goes: the agent's connection lost
    // ends it, and its reader learns so from `done`, never from a rejection nobody may be awaiting.
    return { done: sub.done.catch(() => undefined), close: () => sub.close() };
  }

  ensureNetwork(_spec: NetworkSpec): Promise<NetworkInfo> {
    return notForwarded("ensureNetwork");
  }

  inspectNetwork(_name: string): Promise<NetworkInfo | undefined> {
    return notForwarded("inspectNetwork");
  }

  removeNetwork(_name: string): Promise<boolean> {
    return notForwarded("removeNetwork");
  }

  listNetworks(_labels: Record<string, string>): Promise<string[]> {
    return notForwarded("listNetworks");
  }
}

function notForwarded(op: keyof typeof NOT_FORWARDED): Promise<never> {
  return Promise.reject(
    new NotSupportedError(`A node agent does not forward this engine call: ${NOT_FORWARDED[op]}.`, {
      details: { op },
    }),
  );
}
