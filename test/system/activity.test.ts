import { beforeAll, describe, expect, it } from "vitest";
import type { ActivityEntry } from "#protocol";
import { collectActivity, nextActivity } from "../helpers/events.ts";
import { type Client, echoCode, useTestServer } from "../helpers/test-server.ts";

describe("activity feed", () => {
  const server = useTestServer();
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
  });

  it("tells the owner each step in plain words, and never tells another owner", async () => {
    const aliceFeed = collectActivity(alice);
    const bobFeed = collectActivity(bob);
    const deleted = nextActivity(alice, (e) => e.action === "container.deleted");
    const c = await alice.containers.create({ name: "weather-bot", code: await echoCode() });
    await c.stop();
    await c.delete();
    await deleted;
    aliceFeed.stop();
    bobFeed.stop();
    const messages = aliceFeed.entries.map((e) => e.message.replace(/\d+\.\d s/, "N s"));
    expect(messages).toEqual([
      "Created and started 'weather-bot' in N s",
      "Stopped 'weather-bot'",
      "Deleted 'weather-bot'",
    ]);
    for (const e of aliceFeed.entries) {
      expect(e).toMatchObject({ level: "success", containerId: c.id, containerName: "weather-bot" });
      expect(e.id).toBeGreaterThan(0);
    }
    expect(bobFeed.entries).toEqual([]);
    // Entries outlive the container they tell of.
    const history = await alice.activity.history({ containerId: c.id });
    expect(history.items.map((e) => e.id)).toEqual(aliceFeed.entries.map((e) => e.id));
    expect((await bob.activity.history({ containerId: c.id })).items).toEqual([]);
  });

  it("explains a workload that fails to start, without internal details", async () => {
    const told = nextActivity(alice, (e) => e.containerName === "broken");
    await expect(
      alice.containers.create({
        name: "broken",
        code: { files: { "index.js": "throw new Error('boom at /srv/secret/path')" } },
      }),
    ).rejects.toMatchObject({ code: "NOT_READY", details: { cause: "exited", exitCode: 1 } });
    const entry = await told;
    expect(entry).toMatchObject({
      level: "error",
      action: "container.create_not_ready",
      details: { cause: "exited", exitCode: 1 },
    });
    expect(entry.message).toBe(
      "'broken' exited with code 1 before it was ready. Check its output, fix its code, then start it again.",
    );
    expect(JSON.stringify(entry)).not.toMatch(/srv|boom|\.ts|berth-C/);
  });

  it("lets a client that was away catch up on exactly the 1,000 entries it missed, in order", async () => {
    const before = await bob.activity.history();
    const lastSeen = before.items.at(-1)?.id ?? 0;
    await bob.close();
    for (let i = 0; i < 1000; i++) {
      await server.berth.activity.record({
        owner: "bob",
        level: "info",
        action: "test.tick",
        message: `tick ${i}`,
      });
      if (i % 100 === 0)
        await server.berth.activity.record({
          owner: "alice",
          level: "info",
          action: "test.other",
          message: "not bob's",
        });
    }
    bob = await server.connect("bob");
    const caught: ActivityEntry[] = [];
    let afterId = lastSeen;
    for (;;) {
      const page = await bob.activity.history({ afterId, limit: 300 });
      caught.push(...page.items);
      afterId = page.items.at(-1)?.id ?? afterId;
      if (!page.hasMore) break;
    }
    expect(caught.map((e) => e.message)).toEqual(Array.from({ length: 1000 }, (_, i) => `tick ${i}`));
    const ids = caught.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(1000);
  });
});
