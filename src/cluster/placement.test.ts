import { describe, expect, it } from "vitest";
import { choosePlacement, type NodeLoad } from "./placement.ts";
import type { SwarmNode } from "./swarm-nodes.ts";

const GiB = 1 << 30;
const node = (id: string, over: Partial<SwarmNode> = {}): SwarmNode => ({
  id,
  hostname: `host-${id}`,
  state: "ready",
  availability: "active",
  cpus: 2,
  memoryBytes: 4 * GiB,
  labels: {},
  ...over,
});
const load = (memoryGiB: number, cpus = 0, workloads = 1): NodeLoad => ({
  memoryBytes: memoryGiB * GiB,
  cpus,
  workloads,
});
const need = { memoryBytes: 1 * GiB, cpus: 1 };

describe("choosePlacement", () => {
  it("puts a workload on the ready node with the most memory left, in proportion", () => {
    const nodes = [node("a"), node("b", { memoryBytes: 8 * GiB }), node("c")];
    const loads = new Map([
      ["a", load(1)],
      ["b", load(6)],
      ["c", load(2)],
    ]);
    // Left after placing: a 2/4, b 1/8, c 1/4.
    expect(choosePlacement(need, nodes, loads).id).toBe("a");
  });

  it("never places on a node that is down, drained, paused or unknown", () => {
    const nodes = [
      node("down", { state: "down" }),
      node("drain", { availability: "drain" }),
      node("pause", { availability: "pause" }),
      node("unknown", { state: "unknown" }),
      node("z"),
    ];
    expect(choosePlacement(need, nodes, new Map([["z", load(2)]])).id).toBe("z");
  });

  it("places only on nodes with every label the workload asks for", () => {
    const nodes = [
      node("a"),
      node("b", { labels: { zone: "b", disk: "ssd" } }),
      node("c", { labels: { zone: "b" } }),
    ];
    expect(choosePlacement({ ...need, constraints: { zone: "b", disk: "ssd" } }, nodes, new Map()).id).toBe(
      "b",
    );
  });

  it("chooses the same node whoever chooses: ties go to fewer workloads, then to the node id", () => {
    const nodes = [node("b"), node("a"), node("c")];
    expect(choosePlacement(need, nodes, new Map()).id).toBe("a");
    const loads = new Map([
      ["a", load(1, 0, 3)],
      ["b", load(1, 0, 2)],
      ["c", load(1, 0, 2)],
    ]);
    expect(choosePlacement(need, nodes, loads).id).toBe("b");
  });

  it("keeps memory within the node (no overcommit by default) and CPU within four times the node", () => {
    const nodes = [node("a")];
    expect(() => choosePlacement(need, nodes, new Map([["a", load(3.5)]]))).toThrow(
      expect.objectContaining({ code: "NO_CAPACITY" }),
    );
    expect(choosePlacement(need, nodes, new Map([["a", load(3)]])).id).toBe("a");
    expect(() => choosePlacement(need, nodes, new Map([["a", load(0, 7.5)]]))).toThrow(
      expect.objectContaining({ code: "NO_CAPACITY" }),
    );
    expect(choosePlacement(need, nodes, new Map([["a", load(3.5)]]), { memoryOvercommit: 2 }).id).toBe("a");
  });

  it("says NO_CAPACITY, retryable, with how many nodes were ready and how many matched", () => {
    const nodes = [node("a", { labels: { zone: "a" } }), node("b", { state: "down" })];
    let err: unknown;
    try {
      choosePlacement({ ...need, constraints: { zone: "b" } }, nodes, new Map());
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: "NO_CAPACITY",
      retryable: true,
      details: { readyNodes: 1, matchingNodes: 0 },
    });
  });
});
