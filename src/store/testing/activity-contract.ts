import { describe, expect, it } from "vitest";
import type { ContractContext } from "./contract-context.ts";

/** The ActivityStore, the MetaStore and the OwnerUsageStore. */
export function activityContract(ctx: ContractContext): void {
  describe("activity", () => {
    const add = (owner: string, message: string, ts = 10_000, containerId?: string) =>
      ctx.store().activity.insert({ owner, level: "info", action: "test", message, containerId }, ts);
    const messages = (entries: Array<{ message: string }>) => entries.map((e) => e.message);

    it("gives back an entry as it was inserted, with growing ids", async () => {
      const first = await ctx.store().activity.insert(
        {
          owner: "alice",
          level: "warning",
          action: "container.exited",
          containerId: "C1",
          containerName: "web",
          message: "web exited",
          details: { exitCode: 3, nested: { ok: true } },
        },
        1_234,
      );
      const second = await add("alice", "next");
      expect(second.id).toBeGreaterThan(first.id);
      expect(await ctx.store().activity.history({ owner: "alice", limit: 1 })).toEqual([first]);
      expect(first).toEqual({
        id: first.id,
        ts: 1_234,
        level: "warning",
        action: "container.exited",
        containerId: "C1",
        containerName: "web",
        message: "web exited",
        details: { exitCode: 3, nested: { ok: true } },
      });
      expect(second).not.toHaveProperty("details");
      expect(second).not.toHaveProperty("containerId");
    });

    it("returns an owner's entries after an id, oldest first, with entries for everyone", async () => {
      const a1 = await add("alice", "a1");
      await add("bob", "b1");
      await add("*", "engine down");
      await add("alice", "a2", 10_000, "C0000000000A");
      expect(
        messages(await ctx.store().activity.history({ owner: "alice", afterId: a1.id, limit: 10 })),
      ).toEqual(["engine down", "a2"]);
      expect(
        messages(
          await ctx.store().activity.history({ owner: "alice", containerId: "C0000000000A", limit: 10 }),
        ),
      ).toEqual(["a2"]);
      expect(await ctx.store().activity.history({ owner: undefined, limit: 10 })).toHaveLength(4);
      expect(messages(await ctx.store().activity.history({ owner: undefined, limit: 2 }))).toEqual([
        "a1",
        "b1",
      ]);
    });

    it("gives the newest entries with `newest`, still oldest first, and never another owner's", async () => {
      for (const m of ["a1", "a2", "a3"]) await add("alice", m);
      await add("bob", "b1");
      expect(
        messages(await ctx.store().activity.history({ owner: "alice", newest: true, limit: 2 })),
      ).toEqual(["a2", "a3"]);
      const [a1] = await ctx.store().activity.history({ owner: "alice", limit: 1 });
      expect(
        messages(
          await ctx.store().activity.history({ owner: "alice", afterId: a1?.id, newest: true, limit: 10 }),
        ),
      ).toEqual(["a2", "a3"]);
      expect(messages(await ctx.store().activity.history({ owner: "bob", newest: true, limit: 5 }))).toEqual([
        "b1",
      ]);
    });

    it("gives concurrent inserts distinct ids, and history returns every one in id order", async () => {
      const made = await Promise.all(
        Array.from({ length: 40 }, (_, i) => add(i % 2 ? "alice" : "bob", `m${i}`)),
      );
      const history = await ctx.store().activity.history({ owner: undefined, limit: 100 });
      expect(new Set(made.map((e) => e.id)).size).toBe(40);
      expect(history.map((e) => e.id)).toEqual(made.map((e) => e.id).sort((a, b) => a - b));
    });

    it("keeps at most the newest N entries per owner and drops entries past their age", async () => {
      const now = 100_000;
      await add("alice", "too old", now - 10_001);
      for (let i = 0; i < 5; i++) await add("alice", `a${i}`, now);
      for (let i = 0; i < 2; i++) await add("bob", `b${i}`, now);
      expect(await ctx.store().activity.prune(now - 10_000, 3)).toBe(3);
      expect(messages(await ctx.store().activity.history({ owner: "alice", limit: 10 }))).toEqual([
        "a2",
        "a3",
        "a4",
      ]);
      expect(messages(await ctx.store().activity.history({ owner: "bob", limit: 10 }))).toEqual(["b0", "b1"]);
      expect(await ctx.store().activity.prune(now - 10_000, 3)).toBe(0);
    });
  });

  describe("meta", () => {
    it("keeps one value per key, the last one set", async () => {
      expect(await ctx.store().meta.get("instance")).toBeUndefined();
      await ctx.store().meta.set("instance", "one");
      await ctx.store().meta.set("instance", "two");
      await ctx.store().meta.set("other", "x");
      expect(await ctx.store().meta.get("instance")).toBe("two");
      expect(await ctx.store().meta.get("other")).toBe("x");
    });

    it("claims a key once: the first value stays, and every claimant reads it back", async () => {
      const claims = await Promise.all(["a", "b", "c"].map((v) => ctx.store().meta.claim("cluster", v)));
      expect(new Set(claims).size).toBe(1);
      expect(["a", "b", "c"]).toContain(claims[0]);
      expect(await ctx.store().meta.claim("cluster", "later")).toBe(claims[0]);
      expect(await ctx.store().meta.get("cluster")).toBe(claims[0]);
    });
  });

  describe("owner usage", () => {
    it("reads each of an owner's containers: state, its own resources (or none), and every release's bytes", async () => {
      await ctx.store().containers.insert(
        ctx.container("C1", {
          state: "running",
          spec: { name: "c1", resources: { memoryMb: 128, cpus: 0.5 } },
        }),
      );
      await ctx.store().containers.insert(ctx.container("C2"));
      await ctx.store().containers.insert(ctx.container("C3", { owner: "bob", state: "running" }));
      await ctx.store().releases.insert(ctx.release("C1", 1, { bytes: 1000 }));
      await ctx.store().releases.insert(ctx.release("C1", 2, { bytes: 500 }));
      await ctx.store().releases.insert(ctx.release("C3", 1, { bytes: 7 }));
      const rows = (await ctx.store().usage.containersOf("alice")).sort((a, b) => a.id.localeCompare(b.id));
      expect(rows).toEqual([
        { id: "C1", state: "running", memoryMb: 128, cpus: 0.5, codeBytes: 1500 },
        { id: "C2", state: "created", memoryMb: null, cpus: null, codeBytes: 0 },
      ]);
      expect(await ctx.store().usage.containersOf("carol")).toEqual([]);
    });
  });
}
