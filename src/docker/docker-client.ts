import type Dockerode from "dockerode";

/**
 * berth's view of the container engine. The rest of berth depends on this
 * interface only; `DockerodeClient` is the real adapter and unit tests use a
 * hand-written fake. Every method throws berth errors: DockerUnavailableError
 * when the engine cannot be reached, DockerError (with `statusCode`) when it refuses.
 */
export type ContainerCreateBody = Dockerode.ContainerCreateOptions & { name: string };
export type ContainerInspect = Dockerode.ContainerInspectInfo;

export interface ContainerSummary {
  dockerId: string;
  names: string[];
  labels: Record<string, string>;
  /** Engine state: created, running, paused, restarting, removing, exited, dead. */
  state: string;
}

/** What berth reads of an image: the command it runs when a spec names none, and its labels. */
export interface ImageFacts {
  /** The image's ENTRYPOINT, empty when it has none. */
  entrypoint: string[];
  /** The image's CMD, empty when it has none. */
  cmd: string[];
  /** The image's labels as the engine reports them, unchecked (image-catalog.ts reads berth's own). */
  labels: Record<string, string>;
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
}

export interface NetworkSpec {
  name: string;
  labels: Record<string, string>;
  /** Bridge options, e.g. ICC off so containers on one network cannot reach each other. */
  options?: Record<string, string>;
}

/** A network as the egress filter needs it: the host-side interface its traffic enters through. */
export interface NetworkInfo {
  id: string;
  /** The bridge's interface on the host: `br-<first 12 of the id>`, or the name set by option. */
  bridge: string;
}

/** One engine event about a container, as berth needs it. */
export interface EngineEvent {
  /** start, die, oom, pause, unpause, destroy, health_status: healthy, … */
  action: string;
  dockerId: string;
  labels: Record<string, string>;
  exitCode?: number;
  /** Epoch ms. */
  time: number;
}

export interface EventSubscription {
  /** Resolves (or rejects) when the stream ends: closed by berth, or lost. */
  readonly done: Promise<void>;
  close(): void;
}

export interface DockerClient {
  ping(): Promise<void>;
  version(): Promise<EngineVersion>;
  /** One quick, un-retried version call that ignores any outage gate: how a monitor learns the engine is back. */
  probe(): Promise<EngineVersion>;
  /** undefined when the engine has no such image. */
  inspectImage(ref: string): Promise<ImageFacts | undefined>;
  /** Creates a container and returns its engine id. */
  createContainer(body: ContainerCreateBody): Promise<string>;
  /** Resolves true when it started the container, false when it was already running (the engine's 304). */
  startContainer(dockerId: string): Promise<boolean>;
  /** SIGTERM, then SIGKILL after `timeoutSec`; stopping a stopped container succeeds. */
  stopContainer(dockerId: string, timeoutSec: number): Promise<void>;
  /** Force-removes with anonymous volumes; removing a missing container succeeds. */
  removeContainer(dockerId: string): Promise<void>;
  /** Sets a container's CPU limit (NanoCpus) in place, running or not. */
  updateCpuLimit(dockerId: string, nanoCpus: number): Promise<void>;
  /** Resolves with the exit code once the container is not running (at once if it already is not). */
  waitForExit(dockerId: string, signal: AbortSignal): Promise<number>;
  /** undefined when there is no such container. */
  inspectContainer(dockerIdOrName: string): Promise<ContainerInspect | undefined>;
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** Follows the engine's container events for containers with these labels, from `sinceMs` on. */
  streamEvents(
    labels: Record<string, string>,
    sinceMs: number,
    onEvent: (e: EngineEvent) => void,
  ): Promise<EventSubscription>;
  /**
   * The last `tail` lines of stdout and stderr, demultiplexed, oldest first;
   * with `sinceMs`, only lines written from then on (one engine container
   * keeps the output of every run, and of every release an update tried).
   */
  containerLogs(dockerId: string, tail: number, sinceMs?: number): Promise<string[]>;
  /** One sample of the engine's stats API (`stream: false`): the fallback when cgroup files cannot be read. */
  containerStats(dockerId: string): Promise<unknown>;
  /**
   * The raw multiplexed log stream with timestamps, the last `tail` lines, chunk by chunk as the engine
   * sends them; resolves when it ended (at once when there is no such container).
   */
  readLogs(
    dockerId: string,
    opts: { tail: number; sinceMs?: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<void>;
  /**
   * Follows the log stream: the last `tail` lines then every new one; with
   * `sinceMs` instead, every line from then on (to the second: the engine's
   * follow takes whole seconds), then every new one.
   */
  followLogs(
    dockerId: string,
    opts: { tail: number } | { sinceMs: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<EventSubscription>;
  /** Creates the network if it does not exist (IPv4 only: the egress filter is IPv4). */
  ensureNetwork(spec: NetworkSpec): Promise<NetworkInfo>;
  /** undefined when there is no such network. */
  inspectNetwork(name: string): Promise<NetworkInfo | undefined>;
  /** Removes the network; missing or still in use is not an error (returns false when in use). */
  removeNetwork(name: string): Promise<boolean>;
  listNetworks(labels: Record<string, string>): Promise<string[]>;
}
