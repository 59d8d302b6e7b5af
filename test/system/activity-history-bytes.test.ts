import { beforeAll, describe, expect, it } from "vitest";
import type { ActivityEntry } from "#protocol";
import { MAX_PAGE_BYTES } from "../../src/api/bounded-page.ts";
import { type Client, useTestServer } from "../helpers/test-server.ts";

/** Entries as large as a failed update's could be before its output was bounded (20 lines of 1,000). */
const BIG_ENTRIES = 120;
const bigOutput = Array.from({ length: 20 }, (_, i) => `${i} `.padEnd(1_000, "x"));

describe("activity:history's pages are bounded in bytes", () => {
  const server = useTestServer();
  let alice: Client;
  let bob: Client;
  let firstId = 0;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    for (let i = 0; i < BIG_ENTRIES; i++) {
      const entry = await server.berth.activity.record({
        owner: "alice",
        level: "error",
        action: "container.update_rolled_back",
        message: `entry ${i}`,
        details: { output: bigOutput },
      });
      if (i === 0) firstId = (entry?.id ?? 1) - 1;
    }
  });

  const bytes = (items: ActivityEntry[]) => Buffer.byteLength(JSON.stringify(items));

  it("answers fewer items than asked, with hasMore, and a reader following it gets every entry once, in order", async () => {
    const seen: number[] = [];
    let afterId = firstId;
    let pages = 0;
    for (;;) {
      const page = await alice.activity.history({ afterId, limit: 1000 });
      pages++;
      expect(bytes(page.items)).toBeLessThanOrEqual(MAX_PAGE_BYTES);
      seen.push(...page.items.map((e) => e.id));
      if (!page.hasMore) break;
      afterId = page.items.at(-1)?.id ?? afterId;
    }
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual(Array.from({ length: BIG_ENTRIES }, (_, i) => firstId + 1 + i));
  });

  it("keeps the newest ones within the bytes, oldest first, with hasMore for the older", async () => {
    const page = await alice.activity.history({ newest: true, limit: 1000 });
    expect(bytes(page.items)).toBeLessThanOrEqual(MAX_PAGE_BYTES);
    expect(page.hasMore).toBe(true);
    expect(page.items.at(-1)?.message).toBe(`entry ${BIG_ENTRIES - 1}`);
    const ids = page.items.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it("never gives bob alice's entries", async () => {
    const page = await bob.activity.history({ afterId: firstId, limit: 1000 });
    expect(page.items.filter((e) => e.message.startsWith("entry "))).toEqual([]);
  });
});
