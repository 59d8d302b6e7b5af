import type { ContainerState, ResourceUsage } from "#protocol";
import type { ContainerTarget } from "./container-target.ts";
import type { ResourceSample } from "./resource-usage.ts";
import { SampleRing } from "./sample-ring.ts";

/** What the history needs of the sampler: a watch, shared with every other watcher of the container. */
export interface HistorySampler {
  watch(
    containerKey: string,
    target: ContainerTarget,
    intervalMs: number,
    listener: (sample: ResourceSample) => void,
  ): () => void;
}

export interface StatsHistoryOptions {
  sampler: HistorySampler;
  /** How the sampler finds a container (see ContainerTarget). */
  target: (id: string) => ContainerTarget;
  /** One sample kept every `intervalMs` (default 5 s); 0 keeps no history and samples nothing. */
  intervalMs?: number;
  /** How far back the history reaches (default 10 minutes): `windowMs / intervalMs` samples a container. */
  windowMs?: number;
}

/**
 * States in which a container's history is kept without sampling: the
 * workload is on its way back (a restart, an update's switch) or frozen. In
 * every other state but `running` the history is freed.
 */
const KEPT_WHILE: ReadonlySet<ContainerState> = new Set([
  "starting",
  "restarting",
  "updating",
  "stopping",
  "paused",
]);

interface Track {
  ring: SampleRing<ResourceUsage>;
  /** Stops the watch; absent while the container does not run. */
  stop: (() => void) | undefined;
}

/**
 * The last minutes of resource samples of every running container, in
 * memory, so that a chart has a past the moment a page opens. Each running
 * container is watched at a low rate (`intervalMs`, 5 s by default) through
 * the same StatsSampler as `container:watch_stats` — one sampler per
 * container however many watch it: while a client watches faster, the
 * history keeps one of its samples per interval and causes no sampling of
 * its own. A container's history is bounded (`windowMs / intervalMs`
 * samples, 120 by default), kept across a restart or an update, and freed
 * when the container stops, exits, fails or is deleted.
 *
 * ```ts
 * const history = new StatsHistory({ sampler, target: (id) => locate(id) });
 * history.follow({ id, state: "running" });
 * history.samples(id); // ResourceUsage[], oldest first
 * history.close();
 * ```
 */
export class StatsHistory {
  readonly #o: StatsHistoryOptions;
  readonly #tracks = new Map<string, Track>();
  readonly intervalMs: number;
  readonly capacity: number;
  #closed = false;

  constructor(options: StatsHistoryOptions) {
    this.#o = options;
    this.intervalMs = options.intervalMs ?? 5_000;
    this.capacity =
      this.intervalMs > 0 ? Math.max(1, Math.ceil((options.windowMs ?? 600_000) / this.intervalMs)) : 0;
  }

  /** How many containers have a history now. */
  get size(): number {
    return this.#tracks.size;
  }

  /** Follows a container's state: samples it while it runs, keeps or frees its history otherwise. */
  follow(info: { id: string; state: ContainerState }): void {
    if (this.#closed || this.capacity === 0) return;
    let track = this.#tracks.get(info.id);
    if (info.state === "running") {
      if (track === undefined) {
        track = { ring: new SampleRing(this.capacity), stop: undefined };
        this.#tracks.set(info.id, track);
      }
      if (track.stop === undefined) {
        const ring = track.ring;
        track.stop = this.#o.sampler.watch(info.id, this.#o.target(info.id), this.intervalMs, (sample) =>
          this.#keep(ring, sample.usage),
        );
      }
    } else if (track !== undefined) {
      track.stop?.();
      track.stop = undefined;
      if (!KEPT_WHILE.has(info.state)) this.#tracks.delete(info.id);
    }
  }

  /** The container's samples, oldest first; empty when it has none (not running, or never sampled yet). */
  samples(id: string): ResourceUsage[] {
    return this.#tracks.get(id)?.ring.toArray() ?? [];
  }

  /** Stops every watch and frees every history. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const track of this.#tracks.values()) track.stop?.();
    this.#tracks.clear();
  }

  /**
   * Keeps a sample unless the last one kept is less than most of an interval
   * old: a faster watcher of the same container delivers every one of its
   * samples here too, and a joining watcher gets the latest one again.
   */
  #keep(ring: SampleRing<ResourceUsage>, usage: ResourceUsage): void {
    const newest = ring.newest;
    if (newest !== undefined && usage.ts - newest.ts < this.intervalMs * 0.8) return;
    ring.push(usage);
  }
}
