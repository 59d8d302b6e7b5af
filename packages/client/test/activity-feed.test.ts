import { describe, expect, it } from "vitest";
import { ActivityFeed } from "../src/activity-feed.ts";
import { BerthError } from "../src/berth-error.ts";
import type { ActivityEntry } from "../src/protocol/index.ts";
import { deferred, FakeCore, settle } from "./fake-core.ts";

const entry = (id: number): ActivityEntry => ({
  id,
  ts: id,
  level: "info",
  action: "container.started",
  message: `entry ${id}`,
});

/** Retries at once, so that the tests wait for no timer. */
const AT_ONCE = { attempts: 3, minMs: 0, maxMs: 0 };
const refused = () =>
  new BerthError({ code: "RATE_LIMITED", message: "slow down", category: "system", retryable: true });

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

  it("tries a catch-up berth refused again rather than ending the feed, and gives what it missed", async () => {
    const fake = new FakeCore();
    const history: ActivityEntry[] = [entry(5)];
    let refusals = 0;
    fake.handlers["activity:history"] = (p: { afterId?: number; newest?: boolean }) => {
      if (p.newest) return { items: history.slice(-1), hasMore: false };
      if (refusals-- > 0) throw refused();
      return { items: history.filter((e) => e.id > (p.afterId ?? 0)), hasMore: false };
    };
    const feed = new ActivityFeed(fake.core, AT_ONCE);
    const seen: number[] = [];
    const off = feed.on((e) => seen.push(e.id));
    await settle();
    history.push(entry(6), entry(7));
    refusals = 2;
    // A rejected resume would have the client end the feed, and its listeners would wait for ever.
    await feed.resume();
    expect(seen).toEqual([6, 7]);
    fake.push("activity_log", entry(8));
    expect(seen).toEqual([6, 7, 8]);
    off();
  });

  it("goes on with the newer pushes when every attempt of a catch-up is refused", async () => {
    const fake = new FakeCore();
    fake.handlers["activity:history"] = (p: { newest?: boolean }) => {
      if (p.newest) return { items: [entry(5)], hasMore: false };
      fake.push("activity_log", entry(9)); // held while catching up
      throw refused();
    };
    const feed = new ActivityFeed(fake.core, AT_ONCE);
    const seen: number[] = [];
    const off = feed.on((e) => seen.push(e.id));
    await settle();
    await feed.resume();
    expect(fake.callsOf("activity:history").filter((c) => c.payload.afterId !== undefined)).toHaveLength(3);
    expect(seen).toEqual([9]);
    fake.push("activity_log", entry(10));
    expect(seen).toEqual([9, 10]);
    off();
  });

  it("stops a catch-up when its listeners leave: a listener that comes meanwhile gets no history replayed", async () => {
    const fake = new FakeCore();
    const page = deferred<unknown>();
    let pages = 0;
    fake.handlers["activity:history"] = (p: { newest?: boolean }) => {
      if (p.newest) return { items: [entry(5)], hasMore: false };
      return pages++ === 0 ? page.promise : { items: [entry(1), entry(2)], hasMore: false };
    };
    const feed = new ActivityFeed(fake.core);
    const off = feed.on(() => {});
    await settle();
    const resumed = feed.resume();
    await settle();
    off();
    const seen: number[] = [];
    const offLater = feed.on((e) => seen.push(e.id));
    await settle();
    page.resolve({ items: [entry(6)], hasMore: true });
    await resumed;
    await settle();
    expect(seen).toEqual([]);
    // The old catch-up gave nothing to the new listener and asked for no further page.
    expect(fake.callsOf("activity:history").filter((c) => c.payload.afterId !== undefined)).toHaveLength(1);
    fake.push("activity_log", entry(7));
    expect(seen).toEqual([7]);
    offLater();
  });

  it("ends the wait before a catch-up's next attempt when its listeners leave (no timer left behind)", async () => {
    const fake = new FakeCore();
    fake.handlers["activity:history"] = (p: { newest?: boolean }) => {
      if (p.newest) return { items: [entry(5)], hasMore: false };
      throw refused();
    };
    const feed = new ActivityFeed(fake.core, { attempts: 3, minMs: 60_000, maxMs: 60_000 });
    const off = feed.on(() => {});
    await settle();
    const resumed = feed.resume();
    await settle();
    off();
    await resumed;
    expect(fake.callsOf("activity:history").filter((c) => c.payload.afterId !== undefined)).toHaveLength(1);
  });

  it("does not reject a catch-up refused after its listeners left (the client would end the newer listeners' feed)", async () => {
    const fake = new FakeCore();
    const page = deferred<unknown>();
    fake.handlers["activity:history"] = (p: { newest?: boolean }) =>
      p.newest ? { items: [entry(5)], hasMore: false } : page.promise;
    const feed = new ActivityFeed(fake.core, AT_ONCE);
    const off = feed.on(() => {});
    await settle();
    const resumed = feed.resume();
    await settle();
    off();
    const offLater = feed.on(() => {});
    page.reject(refused());
    await expect(resumed).resolves.toBeUndefined();
    offLater();
  });
});
