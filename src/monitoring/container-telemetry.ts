import {
  type LogLine,
  MAX_STATS_HISTORY_CONTAINERS,
  type ResourceUsage,
  type StatsHistoryOverview,
} from "#protocol";
import type { Actor } from "../containers/actor.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { ContainerLogs } from "./container-logs.ts";
import type { ContainerTarget } from "./container-target.ts";
import { engineTarget } from "./engine-target.ts";
import type { ResourceSample } from "./resource-usage.ts";
import type { StatsHistory } from "./stats-history.ts";
import type { StatsSampler } from "./stats-sampler.ts";

export interface ContainerTelemetryOptions {
  /** Finds a container as a caller may see it (`resolve`), by id for berth's own use, and lists a caller's. */
  containers: Pick<ContainerManager, "resolve" | "findById" | "list">;
  /** Where a container runs now (its engine id, its pid), asked again whenever the sampler needs it. */
  docker: Pick<DockerClient, "inspectContainer">;
  sampler: Pick<StatsSampler, "sampleOnce" | "watch">;
  history: Pick<StatsHistory, "intervalMs" | "samples">;
  logs: Pick<ContainerLogs, "recent" | "follow">;
}

/** A log stream under way: `close()` stops it (safe twice); `done` settles when it ends, by `close()` or by itself. */
export interface LogFollow {
  readonly done: Promise<void>;
  close(): void;
}

/**
 * One container that a caller may watch, found and its access checked once
 * (ContainerTelemetry.container), so that the API can take its own limits
 * (reads in flight, subscriptions) between finding it and reading it.
 */
export interface WatchedContainer {
  /** berth's id of the container. */
  readonly id: string;
  /** One sample now (`container:stats`); joins a sample already under way. */
  usage(): Promise<ResourceUsage>;
  /** A sample about every `intervalMs`, the first at once; returns how to stop (safe twice). */
  watch(intervalMs: number, listener: (sample: ResourceSample) => void): () => void;
  /** The samples of the last minutes, oldest first (`container:stats_history`). */
  history(): ResourceUsage[];
  /** The last lines of its output, redacted with its owner's secrets; `truncated` when older ones did not fit. */
  recentLogs(opts: {
    tail?: number | undefined;
    sinceMs?: number | undefined;
  }): Promise<{ lines: LogLine[]; truncated: boolean }>;
  /** Its output as it comes, presented as `recentLogs` presents it. */
  followLogs(opts: { tail?: number | undefined }, onLine: (line: LogLine) => void): Promise<LogFollow>;
}

/**
 * What clients may read of containers' resource use and output: one sample,
 * a stream of samples, the short history, the last lines and the live output.
 * It finds the container the caller names, as that caller may see it
 * (NOT_FOUND otherwise), and reaches the engine and the sampler itself, so
 * that the API needs neither the engine adapter nor the store's records.
 *
 * ```ts
 * const container = await telemetry.container(actor, "weather-bot");
 * const usage = await container.usage();
 * const stop = container.watch(1_000, (sample) => push(sample.usage));
 * ```
 */
export class ContainerTelemetry {
  readonly #o: ContainerTelemetryOptions;

  constructor(options: ContainerTelemetryOptions) {
    this.#o = options;
  }

  /** The spacing of the history's samples, in ms. */
  get historyIntervalMs(): number {
    return this.#o.history.intervalMs;
  }

  /**
   * The container `ref` (an id or a name) names, as `actor` may see it;
   * NOT_FOUND when it may not.
   */
  async container(actor: Actor, ref: string): Promise<WatchedContainer> {
    const { sampler, history, logs } = this.#o;
    const record = await this.#o.containers.resolve(actor, ref);
    const id = record.id;
    return {
      id,
      usage: async () => (await sampler.sampleOnce(id, this.#target(id))).usage,
      watch: (intervalMs, listener) => sampler.watch(id, this.#target(id), intervalMs, listener),
      history: () => history.samples(id),
      recentLogs: (opts) => logs.recent(record, opts),
      followLogs: (opts, onLine) => logs.follow(record, opts, onLine),
    };
  }

  /**
   * Samples container `id` about every `intervalMs`, for a caller that has
   * already checked who may see it (an overview follows only its actor's
   * containers); nothing is sampled when the container is gone. Returns how
   * to stop (safe twice).
   */
  watchById(id: string, intervalMs: number, listener: (sample: ResourceSample) => void): () => void {
    let stopped = false;
    let stopWatch: (() => void) | undefined;
    // A store that cannot answer leaves nothing to watch, like a container that is gone.
    this.#o.containers.findById(id).then(
      (record) => {
        if (record !== undefined && !stopped)
          stopWatch = this.#o.sampler.watch(id, this.#target(id), intervalMs, listener);
      },
      () => {},
    );
    return () => {
      stopped = true;
      stopWatch?.();
    };
  }

  /**
   * The history of each of `actor`'s running containers (every owner's for
   * the admin), at most MAX_STATS_HISTORY_CONTAINERS of them (then
   * `truncated`): up to 100 × 120 samples, about 2 MB of JSON.
   */
  async historyOverview(actor: Actor): Promise<StatsHistoryOverview> {
    const { history } = this.#o;
    const page = await this.#o.containers.list(actor, {
      filter: { state: "running" },
      limit: MAX_STATS_HISTORY_CONTAINERS,
    });
    const containers = page.items.map((info) => ({ id: info.id, samples: history.samples(info.id) }));
    return page.nextCursor === undefined
      ? { intervalMs: history.intervalMs, containers }
      : { intervalMs: history.intervalMs, containers, truncated: true as const };
  }

  /** Where `id` runs, asked of the engine under its current engine id (a re-create or an adoption changes it). */
  #target(id: string): ContainerTarget {
    return engineTarget(this.#o.docker, async () => (await this.#o.containers.findById(id))?.dockerId);
  }
}
