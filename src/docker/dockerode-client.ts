import { Agent } from "node:http";
import Dockerode from "dockerode";
import type { BerthError } from "../errors/berth-error.ts";
import { DockerUnavailableError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { RetryPolicy } from "../util/retry-policy.ts";
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
} from "./docker-client.ts";
import { demuxLogs } from "./log-demux.ts";
import { isTransient, toDockerError } from "./to-docker-error.ts";

/**
 * Lets the client fail fast while the engine is known to be down, instead of
 * spending its whole retry budget on every call; and report an outage it finds.
 */
export interface OutageGate {
  isDown(): boolean;
  reportDown(err: unknown): void;
}

export interface DockerodeClientOptions {
  socketPath: string;
  log: SystemLogger;
  retry?: RetryPolicy;
  gate?: OutageGate;
  /** Told of every call as it ends, `error` undefined when it succeeded (metrics); retries of one call count once. */
  onCall?: (op: string, error: unknown) => void;
}

/**
 * The DockerClient over the Engine API, through dockerode. Idempotent calls
 * are retried on transient failures (engine unreachable, connection reset,
 * 5xx) by the retry policy; 404 and 409 never are. `createContainer` is not
 * idempotent, so a retry that meets a 409 for its own name adopts the
 * container the first attempt made.
 */
export class DockerodeClient implements DockerClient {
  readonly #docker: Dockerode;
  readonly #retry: RetryPolicy;
  readonly #log: SystemLogger;
  readonly #gate: OutageGate | undefined;
  readonly #probeDocker: Dockerode;
  readonly #onCall: ((op: string, error: unknown) => void) | undefined;

  constructor(options: DockerodeClientOptions) {
    this.#docker = new Dockerode({ socketPath: options.socketPath });
    // Its own modem with a short timeout: a probe must answer quickly or count as down. And a new
    // connection each time: an engine shutting down closes its socket to new connections first and
    // stops its containers next, while still answering on connections already open (Node's agents
    // keep them alive) — through those, an engine on its way out looks up.
    // (docker-modem passes `agent` on to each request; dockerode's types do not name it.)
    const probeOptions = {
      socketPath: options.socketPath,
      timeout: 2_000,
      agent: new Agent({ keepAlive: false }),
    };
    this.#probeDocker = new Dockerode(probeOptions);
    this.#log = options.log;
    this.#gate = options.gate;
    this.#onCall = options.onCall;
    this.#retry =
      options.retry ??
      new RetryPolicy({
        maxAttempts: 4,
        baseDelayMs: 100,
        maxDelayMs: 1_000,
        maxTotalMs: 5_000,
        isRetryable: (err) => isTransient(err),
        onRetry: ({ attempt, delayMs, err }) =>
          this.#log.warn({ attempt, delayMs, err }, "engine call failed; retrying"),
      });
  }

  async #call<T>(op: string, fn: () => Promise<T>, notFound?: () => T): Promise<T> {
    if (this.#onCall === undefined) return this.#attempt(op, fn, notFound);
    try {
      const result = await this.#attempt(op, fn, notFound);
      this.#onCall(op, undefined);
      return result;
    } catch (err) {
      this.#onCall(op, err);
      throw err;
    }
  }

  async #attempt<T>(op: string, fn: () => Promise<T>, notFound?: () => T): Promise<T> {
    if (this.#gate?.isDown()) throw new DockerUnavailableError({ details: { op } });
    try {
      return await this.#retry.run(async () => {
        try {
          return await fn();
        } catch (err) {
          const mapped: BerthError = toDockerError(err, op);
          if (notFound && (err as { statusCode?: number }).statusCode === 404) return notFound();
          throw mapped;
        }
      });
    } catch (err) {
      if (err instanceof DockerUnavailableError) this.#gate?.reportDown(err);
      throw err;
    }
  }

  async probe(): Promise<EngineVersion> {
    try {
      const v = await this.#probeDocker.version();
      this.#onCall?.("probe", undefined);
      return { version: v.Version, apiVersion: v.ApiVersion };
    } catch (err) {
      const mapped = toDockerError(err, "version");
      this.#onCall?.("probe", mapped);
      throw mapped;
    }
  }

  async ping(): Promise<void> {
    await this.#call("ping", () => this.#docker.ping());
  }

  async version(): Promise<EngineVersion> {
    const v = await this.#call("version", () => this.#docker.version());
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  async inspectImage(ref: string): Promise<ImageFacts | undefined> {
    return this.#call(
      "image inspect",
      async () => {
        const { Config } = await this.#docker.getImage(ref).inspect();
        return {
          entrypoint: stringsOf(Config?.Entrypoint),
          cmd: stringsOf(Config?.Cmd),
          labels: labelsOf(Config?.Labels),
        };
      },
      () => undefined,
    );
  }

  async createContainer(body: ContainerCreateBody): Promise<string> {
    let attempts = 0;
    return this.#call("container create", async () => {
      attempts++;
      try {
        const c = await this.#docker.createContainer(body);
        return c.id;
      } catch (err) {
        // A retried create meets the container its first, lost attempt made.
        if (attempts > 1 && (err as { statusCode?: number }).statusCode === 409) {
          const existing = await this.#docker.getContainer(body.name).inspect();
          if (existing.Config.Labels?.["berth.id"] === body.Labels?.["berth.id"]) return existing.Id;
        }
        throw err;
      }
    });
  }

  async startContainer(dockerId: string): Promise<boolean> {
    return this.#call("container start", async () => {
      try {
        await this.#docker.getContainer(dockerId).start();
        return true;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 304) return false;
        throw err;
      }
    });
  }

  async stopContainer(dockerId: string, timeoutSec: number): Promise<void> {
    await this.#call("container stop", async () => {
      try {
        await this.#docker.getContainer(dockerId).stop({ t: timeoutSec });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 304) throw err;
      }
    });
  }

  async updateCpuLimit(dockerId: string, nanoCpus: number): Promise<void> {
    await this.#call("container update", () =>
      this.#docker.getContainer(dockerId).update({ NanoCpus: nanoCpus }),
    );
  }

  async removeContainer(dockerId: string): Promise<void> {
    await this.#call(
      "container remove",
      () => this.#docker.getContainer(dockerId).remove({ force: true, v: true }),
      () => undefined,
    );
  }

  async waitForExit(dockerId: string, signal: AbortSignal): Promise<number> {
    // Not retried: a long wait that breaks is reported to the caller, who knows what it waited for.
    try {
      const r = (await this.#docker
        .getContainer(dockerId)
        .wait({ condition: "not-running", abortSignal: signal })) as { StatusCode: number };
      return r.StatusCode;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw toDockerError(err, "container wait");
    }
  }

  async inspectContainer(dockerIdOrName: string): Promise<ContainerInspect | undefined> {
    return this.#call(
      "container inspect",
      () => this.#docker.getContainer(dockerIdOrName).inspect(),
      () => undefined,
    );
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const list = await this.#call("container list", () =>
      this.#docker.listContainers({ all: true, filters: { label: labelFilters(labels) } }),
    );
    return list.map((c) => ({ dockerId: c.Id, names: c.Names, labels: c.Labels ?? {}, state: c.State }));
  }

  async streamEvents(
    labels: Record<string, string>,
    sinceMs: number,
    onEvent: (e: EngineEvent) => void,
  ): Promise<EventSubscription> {
    const abort = new AbortController();
    const stream = (await this.#call("events", () =>
      this.#docker.getEvents({
        since: Math.floor(sinceMs / 1000),
        filters: { type: ["container"], label: labelFilters(labels) },
        abortSignal: abort.signal,
      }),
    )) as NodeJS.ReadableStream;
    let buffer = "";
    const done = new Promise<void>((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => {
        buffer += chunk.toString("utf8");
        for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const event = parseEngineEvent(line);
          if (event) onEvent(event);
        }
      });
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      stream.on("error", (err: Error) =>
        abort.signal.aborted ? resolve() : reject(toDockerError(err, "events")),
      );
    });
    return { done, close: () => abort.abort() };
  }

  async containerLogs(dockerId: string, tail: number, sinceMs?: number): Promise<string[]> {
    const raw = await this.#call(
      "container logs",
      async () =>
        (await this.#docker.getContainer(dockerId).logs({
          stdout: true,
          stderr: true,
          tail,
          // "seconds.milliseconds": the engine parses a fraction (as `docker logs --since` sends it), where a
          // whole second would let in the last lines of a run that ended within the same second.
          ...(sinceMs === undefined ? {} : { since: (sinceMs / 1000).toFixed(3) as unknown as number }),
          follow: false,
        })) as unknown as Buffer,
      () => Buffer.alloc(0),
    );
    return demuxLogs(raw).map((l) => l.text);
  }

  async containerStats(dockerId: string): Promise<unknown> {
    return this.#call("container stats", () => this.#docker.getContainer(dockerId).stats({ stream: false }));
  }

  async readLogs(
    dockerId: string,
    opts: { tail: number; sinceMs?: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    // As a stream, not dockerode's buffered `logs({ follow: false })`, which holds the engine's whole answer
    // (5,000 lines of up to 16 KiB: 80 MiB) before anyone looks at it; the caller keeps what it needs as it comes.
    const container = this.#docker.getContainer(dockerId);
    const stream = await this.#call(
      "container logs",
      () =>
        new Promise<NodeJS.ReadableStream>((resolve, reject) => {
          container.modem.dial(
            {
              path: `/containers/${dockerId}/logs?`,
              method: "GET",
              isStream: true,
              statusCodes: { 200: true, 404: "no such container", 500: "server error" },
              options: {
                stdout: true,
                stderr: true,
                timestamps: true,
                tail: opts.tail,
                ...(opts.sinceMs === undefined ? {} : { since: Math.floor(opts.sinceMs / 1000) }),
                follow: false,
              },
            },
            (err: unknown, data: NodeJS.ReadableStream) => (err ? reject(err) : resolve(data)),
          );
        }),
      () => undefined,
    );
    if (!stream) return;
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => onChunk(chunk));
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      stream.on("error", (err: unknown) => reject(toDockerError(err, "container logs")));
    });
  }

  async followLogs(
    dockerId: string,
    opts: { tail: number } | { sinceMs: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<EventSubscription> {
    const abort = new AbortController();
    const stream = (await this.#call("container logs", () =>
      this.#docker.getContainer(dockerId).logs({
        stdout: true,
        stderr: true,
        timestamps: true,
        ...("sinceMs" in opts ? { since: Math.floor(opts.sinceMs / 1000) } : { tail: opts.tail }),
        follow: true,
        abortSignal: abort.signal,
      }),
    )) as unknown as NodeJS.ReadableStream;
    const done = new Promise<void>((resolve) => {
      stream.on("data", (chunk: Buffer) => onChunk(chunk));
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      // A follow that breaks (engine restart) just ends; the client is told by the stream's end.
      stream.on("error", () => resolve());
    });
    return { done, close: () => abort.abort() };
  }

  async ensureNetwork(spec: NetworkSpec): Promise<NetworkInfo> {
    return this.#call("network create", async () => {
      const existing = await this.#inspectNetwork(spec.name);
      if (existing) return existing;
      try {
        await this.#docker.createNetwork({
          Name: spec.name,
          Driver: "bridge",
          CheckDuplicate: true,
          // Said outright, so that a daemon defaulting new networks to IPv6 does not open a path the filter does not cover.
          EnableIPv6: false,
          Labels: spec.labels,
          Options: spec.options ?? {},
        });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 409) throw err; // made meanwhile by a concurrent create
      }
      const made = await this.#inspectNetwork(spec.name);
      if (!made)
        throw Object.assign(new Error(`network ${spec.name} vanished after its creation`), {
          statusCode: 404,
        });
      return made;
    });
  }

  async inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    return this.#call("network inspect", () => this.#inspectNetwork(name));
  }

  async #inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    try {
      const n = (await this.#docker.getNetwork(name).inspect()) as {
        Id: string;
        Options?: Record<string, string>;
      };
      return { id: n.Id, bridge: n.Options?.["com.docker.network.bridge.name"] ?? `br-${n.Id.slice(0, 12)}` };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async removeNetwork(name: string): Promise<boolean> {
    return this.#call(
      "network remove",
      async () => {
        try {
          await this.#docker.getNetwork(name).remove();
          return true;
        } catch (err) {
          // 403: still has endpoints; the last container of its owner removes it later.
          if ((err as { statusCode?: number }).statusCode === 403) return false;
          throw err;
        }
      },
      () => true,
    );
  }

  async listNetworks(labels: Record<string, string>): Promise<string[]> {
    const list = await this.#call("network list", () =>
      this.#docker.listNetworks({ filters: { label: labelFilters(labels) } }),
    );
    return list.map((n) => n.Name);
  }
}

function parseEngineEvent(line: string): EngineEvent | undefined {
  if (line.trim() === "") return undefined;
  try {
    const raw = JSON.parse(line) as {
      Action?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
      timeNano?: number;
      time?: number;
    };
    if (!raw.Action || !raw.Actor?.ID) return undefined;
    const attributes = raw.Actor.Attributes ?? {};
    const event: EngineEvent = {
      action: raw.Action,
      dockerId: raw.Actor.ID,
      labels: attributes,
      time: raw.timeNano ? Math.floor(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000,
    };
    if (attributes.exitCode !== undefined) event.exitCode = Number(attributes.exitCode);
    return event;
  } catch {
    return undefined;
  }
}

function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

/** An image's Entrypoint or Cmd: a list, a string (in images built long ago), or nothing. */
/** Only string values: an image is anyone's to build, and its labels are read as untrusted. */
function labelsOf(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (value === null || typeof value !== "object") return labels;
  for (const [key, v] of Object.entries(value)) if (typeof v === "string") labels[key] = v;
  return labels;
}

function stringsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" && value !== "" ? [value] : [];
}
