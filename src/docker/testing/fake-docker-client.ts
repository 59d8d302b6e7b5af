import { createHash } from "node:crypto";
import { DockerError, DockerUnavailableError } from "../../errors/errors.ts";
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
} from "../docker-client.ts";

interface FakeContainer {
  id: string;
  body: ContainerCreateBody;
  /** `removing`: a `docker rm -f` from outside is under way (the engine reports this between kill and destroy). */
  state: "created" | "running" | "exited" | "removing";
  exitCode: number;
  /** As the engine's `State.OOMKilled`, which it may set a moment after the exit. */
  oomKilled?: boolean;
  finishedAt?: string;
  exitWaiters: Array<(code: number) => void>;
}

type Method = keyof DockerClient;

/**
 * An in-memory engine for unit tests. `failNext(method, error)` makes the next
 * call of a method fail, which is how tests walk every failure path of an
 * operation deterministically; `calls` records what was asked of it.
 */
export class FakeDockerClient implements DockerClient {
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Set<string>();
  readonly calls: Array<{ method: Method; arg?: unknown }> = [];
  readonly #faults = new Map<Method, unknown[]>();
  #next = 1;
  down = false;

  failNext(method: Method, error: unknown = new DockerError("injected", 500)): void {
    const list = this.#faults.get(method) ?? [];
    list.push(error);
    this.#faults.set(method, list);
  }

  /** Simulates the workload exiting by itself. */
  exit(dockerId: string, code: number, opts: { oomKilled?: boolean } = {}): void {
    const c = this.#get(dockerId);
    c.state = "exited";
    c.exitCode = code;
    c.oomKilled = opts.oomKilled === true;
    c.finishedAt = new Date().toISOString();
    for (const w of c.exitWaiters.splice(0)) w(code);
  }

  #enter(method: Method, arg?: unknown): void {
    this.calls.push({ method, arg });
    if (this.down) throw new DockerUnavailableError();
    const fault = this.#faults.get(method)?.shift();
    if (fault !== undefined) throw fault;
  }

  #get(id: string): FakeContainer {
    const c = this.containers.get(id) ?? [...this.containers.values()].find((x) => x.body.name === id);
    if (!c) throw new DockerError("no such container", 404);
    return c;
  }

  async ping(): Promise<void> {
    this.#enter("ping");
  }

  async version(): Promise<EngineVersion> {
    this.#enter("version");
    return { version: "fake", apiVersion: "1.41" };
  }

  async probe(): Promise<EngineVersion> {
    this.#enter("probe");
    return { version: "fake", apiVersion: "1.41" };
  }

  /** Images the engine has; any other is missing. Every image is there unless a test sets this. */
  images: Map<string, ImageFacts> | undefined;

  async inspectImage(ref: string): Promise<ImageFacts | undefined> {
    this.#enter("inspectImage", ref);
    if (!this.images) return { entrypoint: [], cmd: [], labels: {} };
    return this.images.get(ref);
  }

  async createContainer(body: ContainerCreateBody): Promise<string> {
    this.#enter("createContainer", body);
    const id = `fake${String(this.#next++).padStart(60, "0")}`;
    this.containers.set(id, { id, body, state: "created", exitCode: 0, exitWaiters: [] });
    return id;
  }

  async startContainer(dockerId: string): Promise<boolean> {
    this.#enter("startContainer", dockerId);
    const c = this.#get(dockerId);
    if (c.state === "running") return false;
    c.state = "running";
    c.oomKilled = false;
    return true;
  }

  async stopContainer(dockerId: string, timeoutSec: number): Promise<void> {
    this.#enter("stopContainer", { dockerId, timeoutSec });
    const c = this.#get(dockerId);
    if (c.state === "running") this.exit(dockerId, 143);
  }

  async updateCpuLimit(dockerId: string, nanoCpus: number): Promise<void> {
    this.#enter("updateCpuLimit", dockerId);
    const c = this.#get(dockerId);
    c.body.HostConfig = { ...c.body.HostConfig, NanoCpus: nanoCpus };
  }

  async removeContainer(dockerId: string): Promise<void> {
    this.#enter("removeContainer", dockerId);
    this.containers.delete(dockerId);
  }

  async waitForExit(dockerId: string, signal: AbortSignal): Promise<number> {
    this.#enter("waitForExit", dockerId);
    const c = this.#get(dockerId);
    if (c.state !== "running") return c.exitCode;
    return new Promise((resolve, reject) => {
      c.exitWaiters.push(resolve);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }

  async inspectContainer(id: string): Promise<ContainerInspect | undefined> {
    this.#enter("inspectContainer", id);
    const c = this.containers.get(id) ?? [...this.containers.values()].find((x) => x.body.name === id);
    if (!c) return undefined;
    return {
      Id: c.id,
      Name: `/${c.body.name}`,
      State: {
        Status: c.state,
        Running: c.state === "running",
        ExitCode: c.exitCode,
        OOMKilled: c.oomKilled === true,
        ...(c.finishedAt === undefined ? {} : { FinishedAt: c.finishedAt }),
        Pid: 0,
      },
      Config: { Labels: c.body.Labels ?? {} },
      HostConfig: { ...c.body.HostConfig },
    } as unknown as ContainerInspect;
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    this.#enter("listContainers", labels);
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => c.body.Labels?.[k] === v))
      .map((c) => ({
        dockerId: c.id,
        names: [`/${c.body.name}`],
        labels: c.body.Labels ?? {},
        state: c.state,
      }));
  }

  readonly eventListeners = new Set<(e: EngineEvent) => void>();
  #endStreams: Array<() => void> = [];

  async streamEvents(
    labels: Record<string, string>,
    _sinceMs: number,
    onEvent: (e: EngineEvent) => void,
  ): Promise<EventSubscription> {
    this.#enter("streamEvents", labels);
    this.eventListeners.add(onEvent);
    let end!: () => void;
    const done = new Promise<void>((r) => (end = r));
    const close = () => {
      this.eventListeners.delete(onEvent);
      end();
    };
    this.#endStreams.push(close);
    return { done, close };
  }

  /** Delivers an engine event to every subscriber. */
  emitEvent(e: EngineEvent): void {
    for (const l of this.eventListeners) l(e);
  }

  /** Ends every event stream, as when the engine restarts. */
  dropEventStreams(): void {
    for (const end of this.#endStreams.splice(0)) end();
  }

  async containerLogs(dockerId: string, tail: number, sinceMs?: number): Promise<string[]> {
    this.#enter("containerLogs", { dockerId, tail, sinceMs });
    return [];
  }

  async containerStats(dockerId: string): Promise<unknown> {
    this.#enter("containerStats", dockerId);
    return {};
  }

  async readLogs(
    dockerId: string,
    _opts?: { tail: number; sinceMs?: number },
    _onChunk?: (chunk: Buffer) => void,
  ): Promise<void> {
    this.#enter("readLogs", dockerId);
  }

  async followLogs(
    dockerId: string,
    _opts?: { tail: number } | { sinceMs: number },
    _onChunk?: (chunk: Buffer) => void,
  ): Promise<EventSubscription> {
    this.#enter("followLogs", dockerId);
    return { done: new Promise(() => {}), close: () => {} };
  }

  async ensureNetwork(spec: NetworkSpec): Promise<NetworkInfo> {
    this.#enter("ensureNetwork", spec);
    this.networks.add(spec.name);
    return fakeNetworkInfo(spec.name);
  }

  async inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    this.#enter("inspectNetwork", name);
    return this.networks.has(name) ? fakeNetworkInfo(name) : undefined;
  }

  async removeNetwork(name: string): Promise<boolean> {
    this.#enter("removeNetwork", name);
    this.networks.delete(name);
    return true;
  }

  async listNetworks(): Promise<string[]> {
    this.#enter("listNetworks");
    return [...this.networks];
  }
}

/** A bridge name derived from the network's name, as stable as Docker's `br-<id>`. */
function fakeNetworkInfo(name: string): NetworkInfo {
  const id = createHash("sha256").update(name).digest("hex");
  return { id, bridge: `br-${id.slice(0, 12)}` };
}
