import type { ActivityEntry } from "@berth/client";
import { describe, expect, it } from "vitest";
import { type ActivitySource, followActivity } from "../src/activity-follow.ts";

function entry(id: number, containerId = "c1"): ActivityEntry {
  return {
    id,
    ts: 1_700_000_000_000 + id,
    level: "info",
    containerId,
    containerName: containerId,
    message: `entry ${id}`,
  } as ActivityEntry;
}

/**
 * A feed by hand: `history` is what berth holds; `duringHistory` lands while
 * the history call is on its way; `close()` ends the follow (with an error,
 * as a revoked token does, or without, as Ctrl-C does).
 */
function fakeSource(history: ActivityEntry[], duringHistory: ActivityEntry[] = []) {
  const listeners = new Set<(e: ActivityEntry) => void>();
  const ended = Promise.withResolvers<void>();
  ended.promise.catch(() => {}); // awaited by the follow, when it gets that far
  const push = (e: ActivityEntry) => {
    for (const l of listeners) l(e);
  };
  const source: ActivitySource = {
    async latest(limit) {
      for (const e of duringHistory) push(e);
      return limit === 0 ? [] : history.slice(-limit);
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    closed: () => ended.promise,
  };
  return {
    source,
    push,
    listening: () => listeners.size,
    close: (err?: Error) => (err ? ended.reject(err) : ended.resolve()),
  };
}

describe("followActivity (berth activity -f)", () => {
  it("prints an entry that lands while the history is read, after the history, and each entry once", async () => {
    const feed = fakeSource([entry(1), entry(2)], [entry(2), entry(3)]);
    const printed: number[] = [];
    const following = followActivity(feed.source, { tail: 20 }, (e) => printed.push(e.id));
    feed.push(entry(4));
    feed.push(entry(3));
    feed.close();
    await following;
    expect(printed).toEqual([1, 2, 3, 4]);
    expect(feed.listening()).toBe(0);
  });

  it("with --tail 0 prints only what comes after it started, and only the container's with --container", async () => {
    const feed = fakeSource([entry(1)], [entry(2, "other"), entry(3)]);
    const printed: number[] = [];
    const following = followActivity(feed.source, { tail: 0, containerId: "c1" }, (e) => printed.push(e.id));
    feed.push(entry(4, "other"));
    feed.push(entry(5));
    feed.close();
    await following;
    expect(printed).toEqual([3, 5]);
  });

  it("fails with what closed the client, when it was not the CLI (a revoked token)", async () => {
    const feed = fakeSource([entry(1)]);
    const following = followActivity(feed.source, { tail: 20 }, () => {});
    const revoked = Object.assign(new Error("revoked"), { code: "SESSION_REVOKED" });
    feed.close(revoked);
    await expect(following).rejects.toBe(revoked);
    expect(feed.listening()).toBe(0);
  });
});
