import type { ActivityEntry, BerthClient } from "@berth/client";
import { untilClosed } from "./until-closed.ts";

/** The largest page berth answers for `activity:history`. */
export const ACTIVITY_PAGE = 1000;

/** What following the feed needs of the client; `activitySource` makes it from a BerthClient. */
export interface ActivitySource {
  /** The newest `limit` entries (about `containerId` when given), oldest first. */
  latest(limit: number, containerId: string | undefined): Promise<ActivityEntry[]>;
  /** Calls `listener` with each new entry; returns the unsubscribe. */
  on(listener: (entry: ActivityEntry) => void): () => void;
  /** Resolves when the CLI closes the client; rejects with what else closed it (see untilClosed). */
  closed(): Promise<void>;
}

export function activitySource(berth: BerthClient): ActivitySource {
  return {
    async latest(limit, containerId) {
      if (limit === 0) return [];
      const page = await berth.activity.history({
        newest: true,
        limit: Math.min(limit, ACTIVITY_PAGE),
        ...(containerId !== undefined ? { containerId } : {}),
      });
      return page.items;
    },
    on: (listener) => berth.activity.on(listener),
    closed: () => untilClosed(berth),
  };
}

/**
 * `berth activity -f`: gives `print` the newest `tail` entries, then each new
 * one, every entry once and in order, until the client closes (rejecting
 * with why, unless the CLI closed it). It listens before it reads the
 * history: an entry that lands while the history is on its way is held and
 * given after it, rather than fall between the two.
 *
 * @example await followActivity(activitySource(berth), { tail: 20 }, (e) => console.log(e.message));
 */
export async function followActivity(
  source: ActivitySource,
  options: { tail: number; containerId?: string | undefined },
  print: (entry: ActivityEntry) => void,
): Promise<void> {
  const { containerId } = options;
  let held: ActivityEntry[] | undefined = [];
  let lastId = 0;
  const give = (entry: ActivityEntry) => {
    if (containerId !== undefined && entry.containerId !== containerId) return;
    if (held) held.push(entry);
    else if (entry.id > lastId) {
      lastId = entry.id;
      print(entry);
    }
  };
  const unsubscribe = source.on(give);
  try {
    const closed = source.closed();
    // A close while the history is read fails the read; `closed` says the same, and is awaited below.
    closed.catch(() => {});
    const history = await source.latest(options.tail, containerId);
    // The history and what landed meanwhile, in order; an entry that came both ways is given once.
    const pending = [...history, ...held].sort((a, b) => a.id - b.id);
    held = undefined;
    for (const entry of pending) give(entry);
    await closed;
  } finally {
    unsubscribe();
  }
}
