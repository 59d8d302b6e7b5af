import { realpath } from "node:fs/promises";
import { posix } from "node:path";
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
import { NotFoundError, ValidationError } from "../errors/errors.ts";

/** The label every engine container berth makes carries (containers/container-config.ts). */
const MANAGED = "berth.managed";

/**
 * The node's engine as an agent serves it: berth's workloads only. The agent
 * holds its node's engine socket — root on the node — and answers whichever
 * API server it reached (one that holds the master key, or that poses as
 * one where its certificate is not checked), so it narrows what it will do to what berth's
 * lifecycle needs, whatever an API server asks:
 * - only containers labelled as berth's are seen, listed, followed, started,
 *   stopped, removed or read (another container of the node — the operator's
 *   own services, their environment — is NOT_FOUND);
 * - a new container must carry berth's label, and may mount only directories
 *   under the agent's own root (`BERTH_AGENT_MOUNT_ROOT`) that are named after
 *   that container: a read-only mount does not stop `connect(2)` on a socket
 *   inside, so a mount of `/var/run` would hand the workload the engine itself,
 *   and another workload's directory would hand it that workload's socket.
 *   Paths are resolved through symbolic links before they are judged.
 * The create body's shape (berth's hardening, field for field) is checked by
 * the link before it gets here (agent-link/create-body-schema.ts).
 */
export class WorkloadsOnlyEngine implements DockerClient {
  readonly #inner: DockerClient;
  readonly #mountRoot: string;

  constructor(inner: DockerClient, options: { mountRoot: string }) {
    this.#inner = inner;
    this.#mountRoot = posix.resolve(options.mountRoot);
  }

  ping(): Promise<void> {
    return this.#inner.ping();
  }
  version(): Promise<EngineVersion> {
    return this.#inner.version();
  }
  probe(): Promise<EngineVersion> {
    return this.#inner.probe();
  }
  inspectImage(ref: string): Promise<ImageFacts | undefined> {
    return this.#inner.inspectImage(ref);
  }

  async createContainer(body: ContainerCreateBody): Promise<string> {
    if (body.Labels?.[MANAGED] !== "true") throw new ValidationError("A workload must carry berth's label.");
    const id = body.name.replace(/^berth-/, "");
    for (const mount of body.HostConfig?.Mounts ?? []) await this.#checkMount(String(mount.Source ?? ""), id);
    return this.#inner.createContainer(body);
  }

  async startContainer(ref: string): Promise<boolean> {
    await this.#ours(ref);
    return this.#inner.startContainer(ref);
  }
  async stopContainer(ref: string, timeoutSec: number): Promise<void> {
    await this.#ours(ref);
    return this.#inner.stopContainer(ref, timeoutSec);
  }
  async removeContainer(ref: string): Promise<void> {
    // Gone already is not an error for a remove (the port's contract): only another's container is refused.
    const found = await this.#inner.inspectContainer(ref);
    if (found && !isOurs(found)) throw new NotFoundError();
    return this.#inner.removeContainer(ref);
  }
  async updateCpuLimit(ref: string, nanoCpus: number): Promise<void> {
    await this.#ours(ref);
    return this.#inner.updateCpuLimit(ref, nanoCpus);
  }
  async waitForExit(ref: string, signal: AbortSignal): Promise<number> {
    await this.#ours(ref);
    return this.#inner.waitForExit(ref, signal);
  }
  async inspectContainer(ref: string): Promise<ContainerInspect | undefined> {
    const found = await this.#inner.inspectContainer(ref);
    return found && isOurs(found) ? found : undefined;
  }
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return this.#inner.listContainers({ ...labels, [MANAGED]: "true" });
  }
  streamEvents(
    labels: Record<string, string>,
    sinceMs: number,
    onEvent: (e: EngineEvent) => void,
  ): Promise<EventSubscription> {
    return this.#inner.streamEvents({ ...labels, [MANAGED]: "true" }, sinceMs, onEvent);
  }
  async containerLogs(ref: string, tail: number, sinceMs?: number): Promise<string[]> {
    await this.#ours(ref);
    return this.#inner.containerLogs(ref, tail, sinceMs);
  }
  async containerStats(ref: string): Promise<unknown> {
    await this.#ours(ref);
    return this.#inner.containerStats(ref);
  }
  async readLogs(
    ref: string,
    opts: { tail: number; sinceMs?: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    await this.#ours(ref);
    return this.#inner.readLogs(ref, opts, onChunk);
  }
  async followLogs(
    ref: string,
    opts: { tail: number } | { sinceMs: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<EventSubscription> {
    await this.#ours(ref);
    return this.#inner.followLogs(ref, opts, onChunk);
  }
  // No network is made or removed through the engine port: an owner's network is the agent's own to build,
  // with its node's egress filter (node-networks.ts, served as `network` calls). Refused here too.
  ensureNetwork(_spec: NetworkSpec): Promise<NetworkInfo> {
    return Promise.reject(new ValidationError("A node agent makes no networks through the engine port."));
  }
  inspectNetwork(_name: string): Promise<NetworkInfo | undefined> {
    return Promise.reject(new ValidationError("A node agent makes no networks through the engine port."));
  }
  removeNetwork(_name: string): Promise<boolean> {
    return Promise.reject(new ValidationError("A node agent makes no networks through the engine port."));
  }
  listNetworks(_labels: Record<string, string>): Promise<string[]> {
    return Promise.reject(new ValidationError("A node agent makes no networks through the engine port."));
  }

  /** NOT_FOUND unless `ref` is one of berth's containers on this node. */
  async #ours(ref: string): Promise<void> {
    const found = await this.#inner.inspectContainer(ref);
    if (!found || !isOurs(found)) throw new NotFoundError();
  }

  async #checkMount(source: string, id: string): Promise<void> {
    const refuse = () =>
      new ValidationError(
        `A workload may mount only its own directories under the agent's root (${this.#mountRoot}).`,
        { details: { source } },
      );
    if (!posix.isAbsolute(source) || posix.resolve(source) !== source) throw refuse();
    if (!source.startsWith(`${this.#mountRoot}/`) || !source.split("/").includes(id)) throw refuse();
    // Judged where it really leads: a link inside the root must not point out of it, or at another's.
    let real: string;
    let root: string;
    try {
      [real, root] = await Promise.all([realpath(source), realpath(this.#mountRoot)]);
    } catch {
      throw refuse();
    }
    if (!real.startsWith(`${root}/`) || !real.split("/").includes(id)) throw refuse();
  }
}

function isOurs(inspect: ContainerInspect): boolean {
  return inspect.Config?.Labels?.[MANAGED] === "true";
}
