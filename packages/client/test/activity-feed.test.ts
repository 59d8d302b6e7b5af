import { describe, expect, it } from "vitest";
import { ActivityFeed } from "../src/activity-feed.ts";
import { BerthError } from "../src/berth-error.ts";
import type { ActivityEntry } from "../src/protocol/index.ts";
import { FakeCore, settle } from "./fake-core.ts";

const entry = (id: number): ActivityEntry => ({
  id,
  ts: id,
  level: "info",
  action: "container.started",
  message: `entry ${id}`,
});

describe("ActivityFeed", () => {
  it("keeps its place when a catch-up fails: the next one reads the entries it missed, then the pushes held meanwhile", async () => {
    const fake = new FakeCore();
    const history: ActivityEntry[] = [entry(5)];
    let failNext = false;
    fake.handlers["activity:history"] = (p: { afterId?: number; newest?: boolean }) => {
      if (p.newest) return { items: history.slice(-1), hasMore: false };
      if (failNext) {
        failNext = false;
        // The push of entry 9 came before the drop took the answer with it.
        fake.push("activity_log", entry(9));
        throw BerthError.client("DISCONNECTED");
      }
      return { items: history.filter((e) => e.id > (p.afterId ?? 0)), hasMore: false };
    };
    const feed = new ActivityFeed(fake.core);
    const seen: number[] = [];
    const off = feed.on((e) => seen.push(e.id));
    await settle();
    // Missed while away: 6, 7, 8 (9 is pushed during the catch-up that fails).
    history.push(entry(6), entry(7), entry(8), entry(9));
    failNext = true;
    await expect(feed.resume()).rejects.toMatchObject({ code: "DISCONNECTED" });
    expect(seen).toEqual([]);
    await feed.resume();
    expect(seen).toEqual([6, 7, 8, 9]);
    off();
  });
});
