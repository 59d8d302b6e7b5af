import { describe, expect, it } from "vitest";
import { PlacementGate } from "./placement-gate.ts";

describe("PlacementGate", () => {
  it("knows a placement it read for freshMs, then asks again, and reads the store at every nodeOf", async () => {
    let now = 0;
    const placed = new Map([["C1", "node-a"]]);
    let reads = 0;
    const gate = new PlacementGate(
      async (id) => {
        reads++;
        return placed.get(id);
      },
      { freshMs: 1_000, now: () => now },
    );
    expect(gate.known("C1")).toBe("ask");
    expect(await gate.nodeOf("C1")).toBe("node-a");
    expect(gate.known("C1")).toEqual({ nodeId: "node-a" });
    placed.set("C1", "node-b"); // moved by another server
    now = 999;
    expect(gate.known("C1")).toEqual({ nodeId: "node-a" });
    now = 1_000;
    expect(gate.known("C1")).toBe("ask");
    expect(await gate.nodeOf("C1")).toBe("node-b");
    expect(reads).toBe(2);
    gate.forget("C1");
    expect(gate.known("C1")).toBe("ask");
  });

  it("knows a container placed nowhere as such, and with freshMs 0 knows nothing", async () => {
    const gate = new PlacementGate(async () => undefined, { freshMs: 0 });
    expect(await gate.nodeOf("C2")).toBeUndefined();
    expect(gate.known("C2")).toBe("ask");
    const remembering = new PlacementGate(async () => undefined);
    await remembering.nodeOf("C2");
    expect(remembering.known("C2")).toEqual({ nodeId: undefined });
  });
});
