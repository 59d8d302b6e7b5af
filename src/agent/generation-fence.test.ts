import { describe, expect, it } from "vitest";
import { StalePlacementRefusal } from "../agent-link/stale-placement-refusal.ts";
import { GenerationFence, generationOfLabels } from "./generation-fence.ts";

describe("the agent's generation fence", () => {
  it("refuses a call stamped with an older generation than it was told, and learns a newer one", () => {
    const fence = new GenerationFence();
    fence.check("C1", 2);
    expect(fence.known("C1")).toBe(2);
    expect(() => fence.check("C1", 1)).toThrow(StalePlacementRefusal);
    expect(() => fence.check("C1", 1)).toThrow(
      expect.objectContaining({ containerId: "C1", generation: 1, known: 2 }),
    );
    fence.check("C1", 2); // the same generation again: the current placement
    fence.check("C1", 3);
    expect(() => fence.check("C1", 2)).toThrow(StalePlacementRefusal);
    expect(fence.known("C1")).toBe(3);
  });

  it("passes an unstamped call, and keeps each container apart", () => {
    const fence = new GenerationFence();
    fence.check("C1", 5);
    fence.check("C1", undefined);
    fence.check("C2", 1);
    expect([fence.known("C1"), fence.known("C2")]).toEqual([5, 1]);
  });

  it("never learns backwards from a copy found on the engine, and forgets a workload whose files went", () => {
    const fence = new GenerationFence();
    fence.learn("C1", 4);
    fence.learn("C1", 2);
    expect(fence.known("C1")).toBe(4);
    fence.forget("C1");
    expect(fence.known("C1")).toBeUndefined();
  });

  it("reads a generation label strictly", () => {
    expect(generationOfLabels({ "berth.generation": "12" })).toBe(12);
    for (const bad of ["0", "-1", "1.5", "01", "x", "", "99999999999999999"])
      expect(generationOfLabels({ "berth.generation": bad })).toBeUndefined();
    expect(generationOfLabels({})).toBeUndefined();
    expect(generationOfLabels(undefined)).toBeUndefined();
  });
});
