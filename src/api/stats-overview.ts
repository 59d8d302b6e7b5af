import type { ContainerInfo, ResourceUsageEvent, StatsOverviewEvent } from "#protocol";
import type { Actor } from "../containers/actor.ts";
import type { ResourceSample } from "../monitoring/resource-usage.ts";

export interface StatsOverviewOptions {
  actor: Actor;
  intervalMs: number;
  /** Starts sampling one container for this overview; returns how to stop. */
  watch: (id: string, intervalMs: number, listener: (sample: ResourceSample) => void) => () => void;
  push: (event: StatsOverviewEvent) => void;
}

/**
 * One connection's overview of resource use across its containers (every
 * container for an admin): each running container is sampled at the
 * overview's interval, and the samples taken in one turn of the event loop
 * leave as one `containers:resource_usage` event instead of one event each.
 * That is normally all of an interval's, since the sampler wakes every
 * container due together; a container's first sample, one read through the
 * engine's API, or a container that someone watches faster on its own can
 * arrive in an event of its own.
 * Containers join when they start running and leave when they stop or go
 * away; the SocketIOEventHandler tells it every status change.
 */
export class StatsOverview {
  readonly #o: StatsOverviewOptions;
  readonly #watching = new Map<string, () => void>();
  #batch: ResourceUsageEvent[] = [];
  #closed = false;

  constructor(options: StatsOverviewOptions) {
    this.#o = options;
  }

  get intervalMs(): number {
    return this.#o.intervalMs;
  }

  /** How many containers it samples now. */
  get size(): number {
    return this.#watching.size;
  }

  /** Follows a container's state: samples it while it runs and is the actor's to see. */
  follow(info: ContainerInfo): void {
    if (this.#closed || !(this.#o.actor.admin || info.owner === this.#o.actor.owner)) return;
    const watching = this.#watching.get(info.id);
    if (info.state === "running") {
      if (watching === undefined)
        this.#watching.set(
          info.id,
          this.#o.watch(info.id, this.#o.intervalMs, (sample) => this.#add(info.id, sample)),
        );
    } else if (watching !== undefined) {
      this.#watching.delete(info.id);
      watching();
    }
  }

  /** Stops sampling; nothing more is pushed. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const stop of this.#watching.values()) stop();
    this.#watching.clear();
    this.#batch = [];
  }

  #add(id: string, sample: ResourceSample): void {
    if (this.#closed) return;
    this.#batch.push({ id, ...sample.usage });
    if (this.#batch.length === 1) setImmediate(() => this.#flush());
  }

  #flush(): void {
    const samples = this.#batch;
    this.#batch = [];
    if (this.#closed || samples.length === 0) return;
    this.#o.push({ ts: Date.now(), samples });
  }
}

/** The open overviews, one per connection at most, told of every status change. */
export class StatsOverviews {
  readonly #bySocket = new Map<string, StatsOverview>();

  /** Opens `socketId`'s overview, closing the one it had. */
  set(socketId: string, overview: StatsOverview): void {
    this.#bySocket.get(socketId)?.close();
    this.#bySocket.set(socketId, overview);
  }

  /** Closes `socketId`'s overview if it is `overview` (a replaced one has gone already). */
  delete(socketId: string, overview: StatsOverview): void {
    if (this.#bySocket.get(socketId) !== overview) return;
    this.#bySocket.delete(socketId);
    overview.close();
  }

  follow(info: ContainerInfo): void {
    for (const overview of this.#bySocket.values()) overview.follow(info);
  }
}
