import { Agent } from "node:http";
import Dockerode from "dockerode";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { RetryPolicy } from "../util/retry-policy.ts";
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
import { DockerodeLogs } from "./dockerode-logs.ts";
import { DockerodeNetworks } from "./dockerode-networks.ts";
import { EngineCalls } from "./engine-calls.ts";
import { labelFilters, labelsOf, parseEngineEvent, stringsOf } from "./engine-values.ts";
import type { OutageGate } from "./outage-gate.ts";
import { toDockerError } from "./to-docker-error.ts";

export interface DockerodeClientOptions {
  socketPath: string;
  log: SystemLogger;
  retry?: RetryPolicy;
  gate?: OutageGate;
  /** Told of every call as it ends, `error` undefined when it succeeded (metrics); retries of one call count once. */
  onCall?: (op: string, error: unknown) => void;
}

/**
 * The DockerClient over the Engine API, through dockerode. Every call but
 * the probe and the wait goes through EngineCalls: idempotent calls are
 * retried on transient failures (engine unreachable, connection reset, 5xx);
 * 404 and 409 never are. `createContainer` is not idempotent, so a retry
 * that meets a 409 for its own name adopts the container the first attempt
 * made.
 */
export class DockerodeClient implements DockerClient {
  readonly #docker: Dockerode;
  readonly #calls: EngineCalls;
  readonly #networks: DockerodeNetworks;
  readonly #logs: DockerodeLogs;
  readonly #probeDocker: Dockerode;

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
    this.#calls = new EngineCalls({
      log: options.log,
      retry: options.retry,
      gate: options.gate,
      onCall: options.onCall,
    });
    this.#networks = new DockerodeNetworks(this.#docker, this.#calls);
    this.#logs = new DockerodeLogs(this.#docker, this.#calls);
  }

  async probe(): Promise<EngineVersion> {
    try {
      const v = await this.#probeDocker.version();
      this.#calls.report("probe", undefined);
      return { version: v.Version, apiVersion: v.ApiVersion };
    } catch (err) {
      const mapped = toDockerError(err, "version");
      this.#calls.report("probe", mapped);
      throw mapped;
    }
  }

  async ping(): Promise<void> {
    await this.#calls.run("ping", () => this.#docker.ping());
  }

  async version(): Promise<EngineVersion> {
    const v = await this.#calls.run("version", () => this.#docker.version());
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  async inspectImage(ref: string): Promise<ImageFacts | undefined> {
    return this.#calls.run(
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
    return this.#calls.run("container create", async () => {
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
    return this.#calls.run("container start", async () => {
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
    await this.#calls.run("container stop", async () => {
      try {
        await this.#docker.getContainer(dockerId).stop({ t: timeoutSec });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 304) throw err;
      }
    });
  }

  async updateCpuLimit(dockerId: string, nanoCpus: number): Promise<void> {
    await this.#calls.run("container update", () =>
      this.#docker.getContainer(dockerId).update({ NanoCpus: nanoCpus }),
    );
  }

  async removeContainer(dockerId: string): Promise<void> {
    await this.#calls.run(
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
    return this.#calls.run(
      "container inspect",
      () => this.#docker.getContainer(dockerIdOrName).inspect(),
      () => undefined,
    );
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const list = await this.#calls.run("container list", () =>
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
    const stream = (await this.#calls.run("events", () =>
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
    // A stream lost before its subscriber awaits `done` (the engine gone while the event watcher resyncs)
    // must not count as an unhandled rejection, which ends berth: the subscriber still sees it when it awaits.
    done.catch(() => {});
    return { done, close: () => abort.abort() };
  }

  containerLogs(dockerId: string, tail: number, sinceMs?: number): Promise<string[]> {
    return this.#logs.lines(dockerId, tail, sinceMs);
  }

  async containerStats(dockerId: string): Promise<unknown> {
    return this.#calls.run("container stats", () =>
      this.#docker.getContainer(dockerId).stats({ stream: false }),
    );
  }

  readLogs(
    dockerId: string,
    opts: { tail: number; sinceMs?: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    return this.#logs.read(dockerId, opts, onChunk);
  }

  followLogs(
    dockerId: string,
    opts: { tail: number } | { sinceMs: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<EventSubscription> {
    return this.#logs.follow(dockerId, opts, onChunk);
  }

  ensureNetwork(spec: NetworkSpec): Promise<NetworkInfo> {
    return this.#networks.ensure(spec);
  }

  inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    return this.#networks.inspect(name);
  }

  removeNetwork(name: string): Promise<boolean> {
    return this.#networks.remove(name);
  }

  listNetworks(labels: Record<string, string>): Promise<string[]> {
    return this.#networks.list(labels);
  }
}
