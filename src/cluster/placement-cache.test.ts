import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { ChangeNoticesEvents } from "./pg-change-notices.ts";
import { PlacementCache } from "./placement-cache.ts";

function setup() {
  const notices = new EventEmitter<ChangeNoticesEvents>();
  const placed = new Map<string, string>([["C1", "n1"]]);
  let reads = 0;
  let gate: Promise<void> | undefined;
  const cache = new PlacementCache(async (id) => {
    reads++;
    const answer = placed.get(id);
    await gate;
    return answer === undefined ? undefined : { nodeId: answer, generation: 1 };
  }, notices);
  return {
    notices,
    placed,
    cache,
    reads: () => reads,
    hold: () => {
      let open!: () => void;
      gate = new Promise((r) => {
        open = r;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

describe("PlacementCache", () => {
  it("reads the store every time while the notices are not heard", async () => {
    const { cache, reads } = setup();
    await cache.nodeOf("C1");
    await cache.nodeOf("C1");
    expect(reads()).toBe(2);
    expect(cache.size).toBe(0);
  });

  it("keeps what it read while it hears the notices, and forgets a placement the moment it changes", async () => {
    const { cache, notices, placed, reads } = setup();
    notices.emit("reset", true);
    expect(await cache.nodeOf("C1")).toBe("n1");
    expect(await cache.nodeOf("C1")).toBe("n1");
    // Placed nowhere is read every time: an id nobody places would never be told gone, and would be kept for ever.
    expect(await cache.nodeOf("C9")).toBeUndefined();
    expect(await cache.nodeOf("C9")).toBeUndefined();
    expect(reads()).toBe(3);
    expect(cache.size).toBe(1);
    placed.set("C1", "n2");
    notices.emit("changed", "C1");
    expect(await cache.nodeOf("C1")).toBe("n2");
    expect(reads()).toBe(4);
  });

  it("answers each placement's generation with its node, the one calls are stamped with", async () => {
    const notices = new EventEmitter<ChangeNoticesEvents>();
    let placed = { nodeId: "n1", generation: 1 };
    const cache = new PlacementCache(async () => placed, notices);
    notices.emit("reset", true);
    expect(await cache.placementOf("C1")).toEqual({ nodeId: "n1", generation: 1 });
    placed = { nodeId: "n2", generation: 2 };
    expect(await cache.placementOf("C1")).toEqual({ nodeId: "n1", generation: 1 }); // kept until told
    notices.emit("changed", "C1");
    expect(await cache.placementOf("C1")).toEqual({ nodeId: "n2", generation: 2 });
    expect(await cache.nodeOf("C1")).toBe("n2");
  });

  it("keeps nothing a read brought back after a notice of its container came while it read", async () => {
    const { cache, notices, placed, hold, reads } = setup();
    notices.emit("reset", true);
    const open = hold();
    const reading = cache.nodeOf("C1"); // reads n1 ...
    placed.set("C1", "n2"); // ... then another server moves it, and the notice comes before the answer
    notices.emit("changed", "C1");
    open();
    expect(await reading).toBe("n1");
    expect(await cache.nodeOf("C1")).toBe("n2");
    expect(reads()).toBe(2);
  });

  it("forgets everything when the notices stop, and reads the store until they are heard again", async () => {
    const { cache, notices, reads } = setup();
    notices.emit("reset", true);
    await cache.nodeOf("C1");
    notices.emit("reset", false);
    await cache.nodeOf("C1");
    await cache.nodeOf("C1");
    expect(reads()).toBe(3);
    notices.emit("reset", true);
    await cache.nodeOf("C1");
    await cache.nodeOf("C1");
    expect(reads()).toBe(4);
  });

  it("forgets at once a placement this server changed itself, before its notice comes back", async () => {
    const { cache, notices, placed } = setup();
    notices.emit("reset", true);
    expect(await cache.nodeOf("C1")).toBe("n1");
    placed.set("C1", "n2");
    cache.forget("C1");
    expect(await cache.nodeOf("C1")).toBe("n2");
  });
});
