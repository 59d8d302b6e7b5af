import type { ClientCore } from "./client-core.ts";
import type { LiveStream } from "./live-stream.ts";
import type { ActivityEntry } from "./protocol/index.ts";

export type ActivityListener = (entry: ActivityEntry) => void;

/** Entries asked for per `activity:history` page while catching up (berth's maximum). */
const PAGE = 1000;

/**
 * The activity feed (`activity_log`) for a client's listeners, each entry
 * given once and in order (by id) — across reconnections too: after one,
 * the entries missed meanwhile are read with `activity:history { afterId }`
 * and given before the newer pushes, and entries that come both ways (a
 * recovered session replays what it missed) are given once.
 *
 * To know where to resume from, the feed needs the id of the newest entry
 * it has seen; when the first listener comes, it reads the history to its
 * end to learn it (one page per thousand entries kept), unless a push tells
 * it first.
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
    this.#catchingUp = true;
    try {
      let hasMore = true;
      while (hasMore && this.#untrack) {
        const page = await this.#core.call("activity:history", { afterId: this.#lastId ?? 0, limit: PAGE });
        for (const entry of page.items) this.#give(entry);
        hasMore = page.hasMore && page.items.length > 0;
      }
    } finally {
      this.#release();
    }
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
    this.#core.socket.off("activity_log", this.#onEntry);
    this.#untrack?.();
    this.#untrack = undefined;
    // Listeners that come later start afresh: what came meanwhile is not theirs to catch up on.
    this.#lastId = undefined;
  }

  /** Learns the newest entry's id without giving the entries (they are history, not news). */
  async #baseline(): Promise<void> {
    let afterId = 0;
    for (;;) {
      const page = await this.#core.call("activity:history", { afterId, limit: PAGE });
      const last = page.items.at(-1);
      if (last) afterId = last.id;
      if (!page.hasMore || !last) break;
    }
    if (this.#untrack && (this.#lastId === undefined || afterId > this.#lastId)) this.#lastId = afterId;
  }

  readonly #onEntry = (entry: ActivityEntry) => {
    if (this.#catchingUp) this.#held.push(entry);
    else this.#give(entry);
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
