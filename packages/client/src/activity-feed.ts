import type { ClientCore } from "./client-core.ts";
import { isConnectionLoss } from "./connection-loss.ts";
import type { LiveStream } from "./live-stream.ts";
import type { ActivityEntry } from "./protocol/index.ts";

export type ActivityListener = (entry: ActivityEntry) => void;

/** Entries asked for per `activity:history` page while catching up (berth's maximum). */
const PAGE = 1000;

/** Pushes held while catching up (they are read again from history if they must go). */
const MAX_HELD = 10_000;

/** How a catch-up that failed with anything but a lost connection is tried again: backoff with jitter, bounded. */
export interface CatchUpRetry {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The wait before the second attempt; it doubles for each next one, up to `maxMs`. */
  minMs: number;
  maxMs: number;
}

/** About a minute in all: long enough for a berth that is busy (RATE_LIMITED) or restarting a service. */
const CATCH_UP_RETRY: CatchUpRetry = { attempts: 6, minMs: 1_000, maxMs: 30_000 };

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
 *
 * The feed ends only with the client. A catch-up that berth refuses (not a
 * lost connection, which the next connect resumes) is tried again with
 * backoff (CatchUpRetry); if every attempt fails, the feed goes on with the
 * newer pushes and the entries it could not read are not given — read them
 * with `activity.history({ afterId })` — rather than going silent.
 *
 * @example
 *   const off = feed.on((entry) => console.log(entry.message));
 */
export class ActivityFeed implements LiveStream {
  readonly #core: ClientCore;
  readonly #listeners = new Set<ActivityListener>();
  #lastId: number | undefined;
  #catchingUp = false;
  #held: ActivityEntry[] = [];
  #untrack: (() => void) | undefined;
  /**
   * Bumped when the listeners go (#stop) and when a resume begins: a catch-up (or a baseline) of an
   * earlier run stops giving and asking, so that it never replays history to listeners that came
   * later, nor races the newer catch-up.
   */
  #run = 0;
  readonly #retry: CatchUpRetry;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;

  constructor(core: ClientCore, retry: CatchUpRetry = CATCH_UP_RETRY) {
    this.#core = core;
    this.#retry = retry;
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
    const run = this.#bump();
    if (this.#lastId === undefined) {
      await this.#baseline(run).catch((err: unknown) => {
        // Without a baseline the feed still gives every push: only a lost connection is worth the next connect.
        if (isConnectionLoss(err)) throw err;
      });
      return;
    }
    // Pushes that come meanwhile are newer than the entries being read: held until these are given.
    // A catch-up that fails with a lost connection keeps holding them and leaves #lastId at the last
    // entry given, so that the next one (after the next connect) reads from there: giving them now
    // would skip the rest. Any other failure would end the feed without a word: tried again instead.
    this.#catchingUp = true;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#catchUp(run);
        break;
      } catch (err) {
        // Superseded (the listeners left, or a newer resume runs): rejecting would have the client end
        // the feed, and with it the listeners of the newer run.
        if (run !== this.#run) return;
        if (isConnectionLoss(err)) throw err;
        if (attempt >= this.#retry.attempts) break; // gives up on the gap: see the class comment
        const delay = Math.min(this.#retry.maxMs, this.#retry.minMs * 2 ** (attempt - 1));
        await this.#sleep(delay * (0.5 + Math.random()));
        if (run !== this.#run) return;
      }
    }
    if (run === this.#run) this.#release();
  }

  end(): void {
    this.#listeners.clear();
    this.#stop();
  }

  #start(): void {
    this.#core.socket.on("activity_log", this.#onEntry);
    this.#untrack = this.#core.track(this);
    if (this.#lastId === undefined)
      this.#baseline(this.#run).catch(() => {
        // Without a baseline the feed still gives every push; only a catch-up after a drop needs it.
      });
  }

  /** Reads the entries after #lastId, page by page, for as long as `run` is the feed's current one. */
  async #catchUp(run: number): Promise<void> {
    let hasMore = true;
    while (hasMore && run === this.#run) {
      const page = await this.#core.call("activity:history", { afterId: this.#lastId ?? 0, limit: PAGE });
      if (run !== this.#run) return;
      for (const entry of page.items) this.#give(entry);
      hasMore = page.hasMore && page.items.length > 0;
    }
  }

  /** Starts a new run: what an earlier one still awaits is dropped, and its retry wait ends now. */
  #bump(): number {
    clearTimeout(this.#retryTimer);
    this.#wake?.();
    return ++this.#run;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#retryTimer = setTimeout(resolve, ms);
    });
  }

  #stop(): void {
    this.#bump();
    this.#catchingUp = false;
    this.#held = [];
    this.#core.socket.off("activity_log", this.#onEntry);
    this.#untrack?.();
    this.#untrack = undefined;
    // Listeners that come later start afresh: what came meanwhile is not theirs to catch up on.
    this.#lastId = undefined;
  }

  /** Learns the newest entry's id without giving the entries (they are history, not news): one call. */
  async #baseline(run: number): Promise<void> {
    const page = await this.#core.call("activity:history", { newest: true, limit: 1 });
    const afterId = page.items.at(-1)?.id ?? 0;
    if (run === this.#run && (this.#lastId === undefined || afterId > this.#lastId)) this.#lastId = afterId;
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
