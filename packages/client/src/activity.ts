import type { ActivityFeed, ActivityListener } from "./activity-feed.ts";
import type { CallOptions } from "./call-options.ts";
import type { ClientCore } from "./client-core.ts";
import type { RequestOf, ResultMap } from "./protocol/index.ts";

/** `client.activity`: the plain-words feed of what happened to the caller's containers. */
export class Activity {
  readonly #core: ClientCore;
  readonly #feed: ActivityFeed;

  constructor(core: ClientCore, feed: ActivityFeed) {
    this.#core = core;
    this.#feed = feed;
  }

  /**
   * The caller's entries after `afterId`, oldest first (at most `limit`,
   * default 100); `hasMore` says whether more follow.
   *
   * @example
   *   const { items } = await berth.activity.history({ containerId: bot.id, limit: 20 });
   */
  history(options: RequestOf<"activity:history"> & CallOptions = {}): Promise<ResultMap["activity:history"]> {
    const { timeoutMs, signal, ...payload } = options;
    return this.#core.call("activity:history", payload, {
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(signal ? { signal } : {}),
    });
  }

  /**
   * Calls `listener` with each new entry, once and in order, including the
   * ones missed while the client was reconnecting. Returns the unsubscribe.
   */
  on(listener: ActivityListener): () => void {
    return this.#feed.on(listener);
  }
}
