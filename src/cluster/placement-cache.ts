import type { EventEmitter } from "node:events";
import type { ChangeNoticesEvents } from "./pg-change-notices.ts";

/** Where a workload runs, as a server routes by it: the node, and the generation it is stamped with. */
export interface PlacedOn {
  nodeId: string;
  generation: number;
}

/**
 * Where each workload is placed, as this API server routes by it: read from
 * the store once, then kept in memory until the store says it changed (a
 * notice at the commit that changed it, PgChangeNotices) — so that no
 * request waits on the database, and none is routed by a placement another
 * server has moved since (but for the notice's own travel time, milliseconds).
 * While the notices are not heard (their connection ended, and is being made
 * again), nothing is kept: every lookup reads the store.
 *
 * A read that began before a notice of its container and ends after it is
 * not kept: what it read may be the older placement.
 */
export class PlacementCache {
  readonly #read: (containerId: string) => Promise<PlacedOn | undefined>;
  readonly #known = new Map<string, PlacedOn>();
  /** Per container with reads under way, how many notices came: a read keeps its answer only if none did. */
  readonly #reading = new Map<string, { reads: number; notices: number }>();
  /** Every reset counts too: a read across one keeps nothing. */
  #resets = 0;
  #listening = false;

  constructor(
    read: (containerId: string) => Promise<PlacedOn | undefined>,
    notices: Pick<EventEmitter<ChangeNoticesEvents>, "on">,
  ) {
    this.#read = read;
    notices.on("changed", (id) => this.forget(id));
    notices.on("reset", (listening) => {
      this.#known.clear();
      this.#resets++;
      this.#listening = listening;
    });
  }

  /** The node the workload is placed on now; undefined when it is placed nowhere. */
  async nodeOf(containerId: string): Promise<string | undefined> {
    return (await this.placementOf(containerId))?.nodeId;
  }

  /** The workload's placement now (its node and generation); undefined when it is placed nowhere. */
  async placementOf(containerId: string): Promise<PlacedOn | undefined> {
    const known = this.#known.get(containerId);
    if (known !== undefined) return known;
    const reading = this.#reading.get(containerId) ?? { reads: 0, notices: 0 };
    this.#reading.set(containerId, reading);
    reading.reads++;
    const [notices, resets] = [reading.notices, this.#resets];
    let placed: PlacedOn | undefined;
    try {
      placed = await this.#read(containerId);
    } finally {
      if (--reading.reads === 0) this.#reading.delete(containerId);
    }
    // "Placed nowhere" is not kept: nothing would ever tell its end for an id that is never placed (any
    // id an agent names), and the map would grow with them.
    if (placed !== undefined && this.#listening && resets === this.#resets && notices === reading.notices)
      this.#known.set(containerId, placed);
    return placed;
  }

  /**
   * Forgets a placement this server just changed itself: its notice comes back a moment after the
   * commit, and what this server does next for the workload must already go by the new placement.
   */
  forget(containerId: string): void {
    this.#known.delete(containerId);
    const reading = this.#reading.get(containerId);
    if (reading) reading.notices++;
  }

  /** How many placements are kept (tests). The store tells the removal of each, so this is bounded by the workloads. */
  get size(): number {
    return this.#known.size;
  }
}
