import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { eventually } from "../../test/helpers/deadline.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { Placement } from "../store/store-ports.ts";
import type { MembershipEvents } from "./membership.ts";
import { Replacement } from "./replacement.ts";
import type { SwarmNode } from "./swarm-nodes.ts";

const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});

function node(id: string, state: SwarmNode["state"] = "ready"): SwarmNode {
  return { id, hostname: id, state, availability: "active", cpus: 2, memoryBytes: 1e9, labels: {} };
}

class FakeMembership extends EventEmitter<MembershipEvents> {
  nodes = [node("n1"), node("n2"), node("n3")];
  fresh = true;
  view() {
    return { nodes: this.nodes, fresh: this.fresh, answeredAt: 1 };
  }
  set(id: string, state: SwarmNode["state"]) {
    this.nodes = this.nodes.map((n) => (n.id === id ? node(id, state) : n));
    this.emit("changed", node(id, state), node(id));
  }
}

function setup(options: { fail?: (id: string) => boolean } = {}) {
  const membership = new FakeMembership();
  const placed = new Map<string, string>([
    ["C1", "n1"],
    ["C2", "n2"],
    ["C3", "n2"],
  ]);
  const moved: string[] = [];
  const replacement = new Replacement({
    membership,
    placements: {
      nodes: async () => [...new Set(placed.values())].sort(),
      onNode: async (nodeId) =>
        [...placed]
          .filter(([, n]) => n === nodeId)
          .map(([containerId]): Placement => ({ containerId, nodeId, generation: 1, placedAt: 0 })),
    },
    relocate: async (id, from) => {
      if (options.fail?.(id)) throw new Error("no node has room");
      expect(placed.get(id)).toBe(from);
      placed.set(id, "n3");
      moved.push(id);
      return true;
    },
    log,
    retryAfterMs: 20,
  });
  return { membership, placed, moved, replacement };
}

describe("Replacement", () => {
  it("moves the workloads of a node Swarm calls down when it is elected, and of one it calls down later", async () => {
    const { membership, moved, replacement } = setup();
    membership.nodes = [node("n1", "down"), node("n2"), node("n3")];
    const term = new AbortController();
    replacement.lead(term.signal);
    await replacement.settled();
    expect(moved).toEqual(["C1"]);
    membership.set("n2", "disconnected");
    await replacement.settled();
    expect(moved.sort()).toEqual(["C1", "C2", "C3"]);
    term.abort();
  });

  it("moves nothing on a stale view, nor off a node in a state it does not know, nor once deposed", async () => {
    const { membership, moved, replacement } = setup();
    membership.fresh = false;
    membership.nodes = [node("n1", "down"), node("n2", "unknown"), node("n3")];
    const term = new AbortController();
    replacement.lead(term.signal);
    await replacement.settled();
    expect(moved).toEqual([]);
    membership.fresh = true;
    term.abort();
    membership.set("n1", "down");
    await replacement.settled();
    expect(moved).toEqual([]);
  });

  it("tries again later what it could not move, and stops trying once deposed", async () => {
    let refuse = true;
    const { membership, moved, replacement } = setup({ fail: (id) => id === "C1" && refuse });
    const term = new AbortController();
    replacement.lead(term.signal);
    membership.set("n1", "down");
    await replacement.settled();
    expect(moved).toEqual([]);
    refuse = false;
    await eventually(5_000, "C1 moved on a later try", () => moved.includes("C1"));
    term.abort();
  });
});
