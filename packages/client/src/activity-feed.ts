import type { ClientCore } from "./client-core.ts";
import type { LiveStream } from "./live-stream.ts";
import type { ActivityEntry } from "./protocol/index.ts";

export type ActivityListener = (entry: ActivityEntry) => void;

/** Entries asked for per `activity:history` page while catching up (berth's maximum). */
const PAGE = 1000;

/** Pushes held while catching up (they are read again from history if they must go). */
const MAX_HELD = 10_000;

/**
 * The activity feed (`activity_log`) for a client's listeners, each entry
 * given once and in order (by id) — across reconnections too: after one,
 * the entries missed meanwhile are read with `activity:history { afterId }`
 * and given before the newer pushes, and entries that come both ways (a
 * recovered session replays what it missed) are given once.
 *
 * To know where to resume from, the feed needs the id of the newest entry
 * it has seen; when the first listener comes, it asks berth for it
 * (`activity:history { newest: true, limit: 1 }`), unless a push tells it first.
 */
export class ActivityFeed implements LiveStream {
  readonly #core: ClientCore;
  readonly #listeners = new Set<ActivityListener>();
  #lastId: number | undefined;
  #catchingUp = false;
  #held: ActivityEntry[] = [];
  #untrack: (() => void) | undefined;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  /** Adds a listener; returns the unsubscribe. */
  on(listener: ActivityListener): () => void {
    const own: ActivityListener = (entry) => listener(entry);
    this.#listeners.add(own);
    if (!this.#untrack) this.#start();
    return () => {
      if (this.#listeners.delete(own) && this.#listeners.size === 0) this.#stop();
    };
  }

  async resume(): Promise<void> {
    if (this.#lastId === undefined) {
      await this.#baseline();
      return;
    }
    // Pushes that come meanwhile are newer than the entries being read: held until these are given.
    // A catch-up that fails keeps holding them and leaves #lastId at the last entry given, so that
    // the next one (after the next connect) reads from there: giving them now would skip the rest.
    this.#catchingUp = true;
    let hasMore = true;
    while (hasMore && this.#untrack) {
      const page = await this.#core.call("activity:history", { afterId: this.#lastId ?? 0, limit: PAGE });
      for (const entry of page.items) this.#give(entry);
      hasMore = page.hasMore && page.items.length > 0;
    }
    this.#release();
  }

  end(): void {
    this.#listeners.clear();
    this.#stop();
  }

  #start(): void {
    this.#core.socket.on("activity_log", this.#onEntry);
    this.#untrack = this.#core.track(this);
    if (this.#lastId === undefined)
      this.#baseline().catch(() => {
        // Without a baseline the feed still gives every push; only a catch-up after a drop needs it.
      });
  }

  #stop(): void {
    this.#catchingUp = false;
    this.#held = [];
    this.#core.socket.off("activity_log", this.#onEntry);
    this.#untrack?.();
    this.#untrack = undefined;
    // Listeners that come later start afresh: what came meanwhile is not theirs to catch up on.
    this.#lastId = undefined;
  }

  /** Learns the newest entry's id without giving the entries (they are history, not news): one call. */
  async #baseline(): Promise<void> {
    const page = await this.#core.call("activity:history", { newest: true, limit: 1 });
    const afterId = page.items.at(-1)?.id ?? 0;
    if (this.#untrack && (this.#lastId === undefined || afterId > this.#lastId)) this.#lastId = afterId;
  }

  readonly #onEntry = (entry: ActivityEntry) => {
    if (!this.#catchingUp) return this.#give(entry);
    // Bounded: past it the oldest held go, and the next catch-up reads them from history anyway.
    this.#held.push(entry);
    if (this.#held.length > MAX_HELD) this.#held.shift();
  };

  #release(): void {
    this.#catchingUp = false;
    const held = this.#held.sort((a, b) => a.id - b.id);
    this.#held = [];
    for (const entry of held) this.#give(entry);
  }

  #give(entry: ActivityEntry): void {
    if (this.#lastId !== undefined && entry.id <= this.#lastId) return;
    this.#lastId = entry.id;
    for (const listener of [...this.#listeners]) {
      try {
        listener(entry);
      } catch (err) {
        // One listener's failure must not keep the entry from the others; it still surfaces.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
