import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ActivityEntry,
  type BerthClient,
  type Container,
  type ContainerProgressEvent,
  connect,
  isBerthError,
  type LogLine,
} from "../../packages/client/src/index.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { refused } from "../helpers/refused.ts";
import { echoCode, TOKENS, tickingCode, useTestServer } from "../helpers/test-server.ts";

describe("@berth/client: streams, updates and activity", () => {
  const server = useTestServer();
  let alice: BerthClient;
  let bob: BerthClient;
  let ticker: Container;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([
      connect(server.url, { token: TOKENS.alice }),
      connect(server.url, { token: TOKENS.bob }),
    ]);
    ticker = await alice.containers.create({ name: "ticker", code: await tickingCode() });
  });
  afterAll(async () => {
    await ticker?.delete().catch(() => {});
    await Promise.all([alice?.close(), bob?.close()]);
  });

  it("reads the last lines of output", async () => {
    await eventually(10_000, "five ticks", async () => (await ticker.logs({ tail: 5 })).length === 5);
    const lines = await ticker.logs({ tail: 5 });
    expect(lines.every((l) => l.stream === "stdout" && /^tick \d+$/.test(l.text))).toBe(true);
    const since = lines.at(-1)!.ts;
    const later = await ticker.logs({ since });
    expect(later.map((l) => l.text)).toContain(lines.at(-1)!.text);
  });

  it("follows output from a tail, in order and without gaps, and a break stops berth's follow", async () => {
    const seen: LogLine[] = [];
    for await (const line of ticker.followLogs({ tail: 3 })) {
      seen.push(line);
      if (seen.length === 12) break;
    }
    const numbers = seen.map((l) => Number(l.text.split(" ")[1]));
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
    await eventually(5_000, "berth's follow ended", () => server.berth.activeSubscriptions === 0);
  });

  it("shares one follow between two iterators: one's break leaves the other going", async () => {
    const first = ticker.followLogs();
    const second = ticker.followLogs();
    await first.next();
    await first.return();
    const more: string[] = [];
    for await (const line of second) {
      more.push(line.text);
      if (more.length === 5) break;
    }
    expect(more).toHaveLength(5);
    await eventually(5_000, "berth's follow ended", () => server.berth.activeSubscriptions === 0);
  });

  it("watches one container's stats, and the overview of all, until break", async () => {
    let samples = 0;
    for await (const usage of ticker.watchStats({ intervalMs: 250 })) {
      expect(usage.id).toBe(ticker.id);
      expect(usage.memoryBytes).toBeGreaterThan(0);
      if (++samples === 2) break;
    }
    expect((await ticker.stats()).memoryBytes).toBeGreaterThan(0);
    for await (const tick of alice.stats.watchAll({ intervalMs: 250 })) {
      if (tick.samples.some((s) => s.id === ticker.id)) break;
    }
    // Bob's overview carries his own container, never alice's.
    const bobs = await bob.containers.create({ name: "bobs-own", code: await echoCode() });
    try {
      for await (const tick of bob.stats.watchAll({ intervalMs: 250 })) {
        const ids = tick.samples.map((s) => s.id);
        expect(ids).not.toContain(ticker.id);
        if (ids.includes(bobs.id)) break;
      }
    } finally {
      await bobs.delete();
    }
    await eventually(5_000, "berth's watches ended", () => server.berth.activeSubscriptions === 0);
  });

  it("ends every iterator cleanly when the client closes", async () => {
    const other = await connect(server.url, { token: TOKENS.alice });
    const logs = (await other.containers.get("ticker")).followLogs();
    const stats = other.stats.watchAll();
    const reading = (async () => {
      let n = 0;
      for await (const _ of logs) n++;
      for await (const _ of stats) n++;
      return n;
    })();
    await other.close();
    await other.close(); // idempotent
    await within(5_000, "the iterators' end", reading);
    expect(other.state).toBe("closed");
    const err = await refused(other.call("server:info", {}));
    expect(isBerthError(err, "CLOSED")).toBe(true);
  });

  it("fails an update to code that does not come up with UPDATE_ROLLED_BACK, and rolls back by hand", async () => {
    const bot = await alice.containers.create({ name: "updated", code: await echoCode() });
    try {
      const v2 = await bot.update(await echoCode());
      expect(v2).toMatchObject({ id: bot.id, release: 2, previousRelease: 1 });

      const steps: ContainerProgressEvent[] = [];
      const err = await refused(
        bot.update({ files: { "index.js": "process.exit(3)" } }, { onProgress: (e) => steps.push(e) }),
      );
      expect(isBerthError(err, "UPDATE_ROLLED_BACK")).toBe(true);
      expect(steps.some((e) => e.step.startsWith("rollback:"))).toBe(true);
      expect(await bot.request({ still: "up" })).toEqual({ still: "up" });

      const back = await bot.rollback({ release: 1 });
      expect(back).toMatchObject({ release: 1, previousRelease: 2 });
      const releases = await bot.releases();
      expect(releases.map((r) => `${r.number}:${r.status}`).sort()).toEqual([
        "1:active",
        "2:rolled-back",
        "3:failed",
      ]);
    } finally {
      await bot.delete();
    }
  });

  it("reads the activity history and hears new entries once, in order; bob hears none of alice's", async () => {
    const heard: ActivityEntry[] = [];
    const heardByBob: ActivityEntry[] = [];
    const off = alice.activity.on((e) => heard.push(e));
    const offBob = bob.on("activity_log", (e) => heardByBob.push(e));
    try {
      const bot = await alice.containers.create({ name: "noted", code: await echoCode(), start: false });
      await bot.start();
      await bot.delete();
      await eventually(10_000, "the delete's entry", () =>
        heard.some((e) => e.containerId === bot.id && /delet/i.test(e.action)),
      );
      const ids = heard.map((e) => e.id);
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
      const history = await alice.activity.history({ containerId: bot.id });
      expect(history.items.map((e) => e.id)).toEqual(
        heard.filter((e) => e.containerId === bot.id).map((e) => e.id),
      );
      expect(heardByBob.filter((e) => e.containerId === bot.id)).toEqual([]);
      const afterFirst = await alice.activity.history({ containerId: bot.id, afterId: history.items[0]!.id });
      expect(afterFirst.items).toEqual(history.items.slice(1));
      // The newest two, oldest first, with hasMore saying older ones exist; bob's newest are never alice's.
      const newest = await alice.activity.history({ containerId: bot.id, newest: true, limit: 2 });
      expect(newest).toEqual({ items: history.items.slice(-2), hasMore: history.items.length > 2 });
      const bobsNewest = await bob.activity.history({ newest: true, limit: 1000 });
      expect(bobsNewest.items.filter((e) => e.containerId === bot.id)).toEqual([]);
    } finally {
      off();
      offBob();
    }
  });
});
