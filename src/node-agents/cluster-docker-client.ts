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
import { DockerError, DockerUnavailableError, NotSupportedError } from "../errors/errors.ts";
import { createTarget, type PlacementLookup } from "./create-target.ts";
import { type EngineHandle, engineHandle, parseEngineHandle } from "./engine-handle.ts";
import type { NodeEngines } from "./node-engines.ts";

export interface ClusterDockerClientOptions extends PlacementLookup {
  /** The engine of each node whose agent is connected now, and news when that set changes. */
  engines: NodeEngines;
  /** The node a workload is placed on now (its placement's node), undefined when it is placed nowhere. */
  nodeOf(containerId: string): Promise<string | undefined>;
  /**
   * The workload's placement now, with its generation: when given, a create body labelled with another
   * generation (`berth.generation`) than the placement's is refused (CONFLICT, retryable) without reaching
   * a node — the workload was placed anew since the body was made.
   */
  placementOf?(containerId: string): Promise<{ nodeId: string; generation: number } | undefined>;
  /**
   * The nodes that hold workloads now. A list of berth's containers is whole only when each of these
   * answers: a node holding workloads whose agent is away cannot be listed, and its workloads must not
   * look gone (the reconciler would take them for vanished).
   */
  nodesWithWorkloads(): Promise<string[]>;
}

/** The label every berth container carries: its berth id (container-config.ts's managedLabels). */
const ID_LABEL = "berth.id";
const NAME_PREFIX = "berth-";

/**
 * berth's engine port over a cluster: each call goes to the engine of the
 * node the container is on, through that node's agent, so the unchanged
 * lifecycle drives workloads spread over many hosts.
 *
 * A container is known to the rest of berth by an engine handle that says
 * its node, `<nodeId>:<engine id>` (engine-handle.ts), handed out by
 * `createContainer`, lists, inspects and events: it is stored as the
 * container's `dockerId` like any engine id, survives an API server's
 * restart, and routes every later call without a lookup. It names one copy
 * on one node: a workload placed again elsewhere is another container with
 * another handle, so a call meant for the old copy never reaches the new one.
 * A create goes to the node the workload was placed on beforehand (the
 * create path places it before it lays out its files there); by name
 * (`berth-<id>`) an inspect goes to the node it is placed on now.
 *
 * Node-wide questions (ping, version, images) go to every connected node
 * and take the first answer: every node must have berth's runtime images
 * (set-up on each node), and a create on a node without one fails with the
 * engine's 404.
 */
export class ClusterDockerClient implements DockerClient {
  readonly #o: ClusterDockerClientOptions;

  constructor(options: ClusterDockerClientOptions) {
    this.#o = options;
  }

  async ping(): Promise<void> {
    await this.#anyNode("ping", (e) => e.ping());
  }

  async version(): Promise<EngineVersion> {
    return this.#anyNode("version", (e) => e.version());
  }

  async probe(): Promise<EngineVersion> {
    return this.#anyNode("probe", (e) => e.probe());
  }

  async inspectImage(ref: string): Promise<ImageFacts | undefined> {
    // The first node that has it answers; undefined only when every node that answered has it not.
    const NONE = Symbol("no such image");
    const facts = await this.#anyNode(
      "inspectImage",
      async (e) => (await e.inspectImage(ref)) ?? Promise.reject(NONE),
    ).catch((err: unknown) => {
      if (err === NONE) return undefined;
      throw err;
    });
    return facts;
  }

  async createContainer(body: ContainerCreateBody): Promise<string> {
    const nodeId = await createTarget(body, this.#o);
    return engineHandle(nodeId, await this.#o.engines.engineOf(nodeId).createContainer(body));
  }

  async startContainer(dockerId: string): Promise<boolean> {
    const h = this.#handle(dockerId);
    return this.#engine(h).startContainer(h.engineId);
  }

  async stopContainer(dockerId: string, timeoutSec: number): Promise<void> {
    const h = this.#handle(dockerId);
    return this.#engine(h).stopContainer(h.engineId, timeoutSec);
  }

  async removeContainer(dockerId: string): Promise<void> {
    const h = parseEngineHandle(dockerId);
    // Not one of this cluster's handles: no container of the cluster's, and removing a missing one succeeds.
    if (h === undefined) return;
    await this.#engine(h).removeContainer(h.engineId);
  }

  async updateCpuLimit(dockerId: string, nanoCpus: number): Promise<void> {
    const h = this.#handle(dockerId);
    return this.#engine(h).updateCpuLimit(h.engineId, nanoCpus);
  }

  async waitForExit(dockerId: string, signal: AbortSignal): Promise<number> {
    const h = this.#handle(dockerId);
    return this.#engine(h).waitForExit(h.engineId, signal);
  }

  async inspectContainer(dockerIdOrName: string): Promise<ContainerInspect | undefined> {
    const h = parseEngineHandle(dockerIdOrName);
    if (h !== undefined) return withHandle(h.nodeId, await this.#engine(h).inspectContainer(h.engineId));
    if (!dockerIdOrName.startsWith(NAME_PREFIX)) return undefined;
    const nodeId = await this.#o.nodeOf(dockerIdOrName.slice(NAME_PREFIX.length));
    if (nodeId === undefined) return undefined;
    return withHandle(nodeId, await this.#o.engines.engineOf(nodeId).inspectContainer(dockerIdOrName));
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const connected = this.#o.engines.connected();
    const away = (await this.#o.nodesWithWorkloads()).filter((n) => !connected.includes(n));
    if (away.length > 0) {
      throw new DockerUnavailableError({
        details: { op: "listContainers" },
        cause: new Error(`no agent connected for node(s) holding workloads: ${away.join(", ")}`),
      });
    }
    const lists = await Promise.all(
      connected.map(async (nodeId) => {
        const listed = await this.#o.engines.engineOf(nodeId).listContainers(labels);
        // A node speaks only for the workloads placed on it (or on none: orphans, for the reconciler to
        // remove): an entry labelled with a workload placed elsewhere — a stale copy not swept yet, or a
        // compromised agent's fabrication — is not listed, so nothing can adopt it in place of the real one.
        const kept = await Promise.all(
          listed.map(async (c) => {
            const id = c.labels[ID_LABEL];
            const placed = id === undefined ? undefined : await this.#o.nodeOf(id);
            return placed === undefined || placed === nodeId
              ? { ...c, dockerId: engineHandle(nodeId, c.dockerId) }
              : undefined;
          }),
        );
        return kept.filter((c): c is ContainerSummary => c !== undefined);
      }),
    );
    return lists.flat();
  }

  /**
   * Every connected node's events, merged, with handles for ids. The stream ends (as a local one ends
   * when its engine restarts) whenever an agent comes or goes: the watcher then resyncs against every
   * node and subscribes again, so nothing a node did while its agent was away goes unseen.
   */
  async streamEvents(
    labels: Record<string, string>,
    sinceMs: number,
    onEvent: (e: EngineEvent) => void,
  ): Promise<EventSubscription> {
    const engines = this.#o.engines;
    let closed = false;
    let end!: (err?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      end = (err) => (err === undefined ? resolve() : reject(err));
    });
    // Ended before anyone awaits it — the agents changed while the node streams were still being opened,
    // or at once after — is not an unhandled rejection (which would end berth).
    done.catch(() => undefined);
    const subscriptions: EventSubscription[] = [];
    const finish = (err?: unknown) => {
      if (closed) return;
      closed = true;
      engines.off("changed", onChanged);
      for (const s of subscriptions) s.close();
      end(err);
    };
    const onChanged = () =>
      finish(new DockerUnavailableError({ cause: new Error("the cluster's agents changed") }));
    engines.on("changed", onChanged);
    try {
      for (const nodeId of engines.connected()) {
        const s = await engines
          .engineOf(nodeId)
          .streamEvents(labels, sinceMs, (e) =>
            onEvent({ ...e, dockerId: engineHandle(nodeId, e.dockerId) }),
          );
        subscriptions.push(s);
        if (closed) {
          s.close(); // the agents changed while it was being opened
          break;
        }
        // One node's stream lost is a gap in the merged one: end it, so the watcher resyncs.
        s.done.then(
          () =>
            finish(new DockerUnavailableError({ cause: new Error(`node ${nodeId}'s event stream ended`) })),
          (err) => finish(err),
        );
      }
    } catch (err) {
      finish();
      throw err;
    }
    return { done, close: () => finish() };
  }

  async containerLogs(dockerId: string, tail: number, sinceMs?: number): Promise<string[]> {
    const h = this.#handle(dockerId);
    return this.#engine(h).containerLogs(h.engineId, tail, sinceMs);
  }

  async containerStats(dockerId: string): Promise<unknown> {
    const h = this.#handle(dockerId);
    return this.#engine(h).containerStats(h.engineId);
  }

  async readLogs(
    dockerId: string,
    opts: { tail: number; sinceMs?: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    const h = this.#handle(dockerId);
    return this.#engine(h).readLogs(h.engineId, opts, onChunk);
  }

  async followLogs(
    dockerId: string,
    opts: { tail: number } | { sinceMs: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<EventSubscription> {
    const h = this.#handle(dockerId);
    return this.#engine(h).followLogs(h.engineId, opts, onChunk);
  }

  // An owner's network is made by the agent of each node its workloads run on, with that node's egress filter
  // (RemoteNetworks, as `network` calls whose names the agent builds itself): never through the engine port.
  async ensureNetwork(_spec: NetworkSpec): Promise<NetworkInfo> {
    throw new NotSupportedError("owner networks in cluster mode", { details: { op: "ensureNetwork" } });
  }

  async inspectNetwork(_name: string): Promise<NetworkInfo | undefined> {
    return undefined;
  }

  async removeNetwork(_name: string): Promise<boolean> {
    return true;
  }

  async listNetworks(_labels: Record<string, string>): Promise<string[]> {
    return [];
  }

  #engine(h: EngineHandle): DockerClient {
    return this.#o.engines.engineOf(h.nodeId);
  }

  /** The handle in `dockerId`; one that is not a handle names no container of the cluster's (the engine's 404). */
  #handle(dockerId: string): EngineHandle {
    const h = parseEngineHandle(dockerId);
    if (h === undefined) throw new DockerError(`no such container: ${dockerId.slice(0, 80)}`, 404);
    return h;
  }

  /**
   * `ask` of every connected node at once, answered by the first that answers: a node whose link is down
   * but whose agent's connection has not ended yet must not make the whole cluster's engine look down.
   */
  async #anyNode<T>(op: string, ask: (engine: DockerClient) => Promise<T>): Promise<T> {
    const nodes = [...this.#o.engines.connected()].sort();
    if (nodes.length === 0) {
      throw new DockerUnavailableError({ details: { op }, cause: new Error("no node agent is connected") });
    }
    try {
      return await Promise.any(nodes.map((n) => ask(this.#o.engines.engineOf(n))));
    } catch (err) {
      const first = (err as AggregateError).errors?.[0];
      throw first ?? err;
    }
  }
}

function withHandle(nodeId: string, inspect: ContainerInspect | undefined): ContainerInspect | undefined {
  return inspect === undefined ? undefined : { ...inspect, Id: engineHandle(nodeId, inspect.Id) };
}
