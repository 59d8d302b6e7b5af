import { describe, expect, it } from "vitest";
import { SubscriptionCap } from "./subscription-cap.ts";
import { Subscriptions } from "./subscriptions.ts";

function connection(id: string) {
  return { id, rooms: new Set<string>([id]), connected: true };
}

describe("SubscriptionCap", () => {
  it("counts message rooms, log follows and stats watches together, per connection", async () => {
    const subs = new Subscriptions();
    const cap = new SubscriptionCap(2, subs);
    const alice = connection("a");
    await cap.open(alice, "messages:C1", () => alice.rooms.add("messages:C1"));
    await cap.open(alice, "logs:C1", () => subs.add("a", "logs:C1", () => {}));
    await expect(cap.open(alice, "stats:C1", () => {})).rejects.toMatchObject({
      code: "TOO_MANY_SUBSCRIPTIONS",
      details: { limit: 2 },
    });
    // What it holds may be asked for again; another connection has a cap of its own.
    await expect(cap.open(alice, "logs:C1", () => "again")).resolves.toBe("again");
    await expect(cap.open(connection("b"), "stats:C1", () => "bob")).resolves.toBe("bob");
  });

  it("does not count the overview, and frees a place when a subscription ends", async () => {
    const subs = new Subscriptions();
    const cap = new SubscriptionCap(1, subs);
    const alice = connection("a");
    subs.add("a", Subscriptions.key("stats", "*"), () => {});
    await cap.open(alice, "stats:C1", () => subs.add("a", "stats:C1", () => {}));
    await expect(cap.open(alice, "stats:C2", () => {})).rejects.toMatchObject({
      code: "TOO_MANY_SUBSCRIPTIONS",
    });
    subs.remove("a", "stats:C1");
    await expect(cap.open(alice, "stats:C2", () => "ok")).resolves.toBe("ok");
  });

  it("lets no burst of concurrent asks past the cap while they are being opened", async () => {
    const subs = new Subscriptions();
    const cap = new SubscriptionCap(3, subs);
    const alice = connection("a");
    const opened: string[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        cap.open(alice, `logs:C${i}`, async () => {
          await new Promise((r) => setTimeout(r, 10));
          subs.add("a", `logs:C${i}`, () => {});
          opened.push(`C${i}`);
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    expect(subs.countOf("a", ["logs"])).toBe(3);
  });

  it("opens nothing for a connection that has gone while its handler awaited", async () => {
    const cap = new SubscriptionCap(3, new Subscriptions());
    const gone = { ...connection("a"), connected: false };
    let opened = false;
    await expect(
      cap.open(gone, "stats:C1", () => {
        opened = true;
      }),
    ).rejects.toMatchObject({ code: "CONNECTION_CLOSED" });
    expect(opened).toBe(false);
  });
});
