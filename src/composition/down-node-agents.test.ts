import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { MembershipEvents } from "../cluster/membership.ts";
import type { SwarmNode } from "../cluster/swarm-nodes.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { dropAgentsOfDownNodes } from "./down-node-agents.ts";

const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});
const node = (state: SwarmNode["state"]): SwarmNode => ({
  id: "n1abcdefghijklmnopqrstuvw",
  hostname: "node-1",
  state,
  availability: "active",
  cpus: 2,
  memoryBytes: 2 ** 30,
  labels: {},
});

describe("dropAgentsOfDownNodes", () => {
  it("ends the agent's link of a node Swarm calls down, and of no node that is only unknown or disconnected", () => {
    const membership = new EventEmitter<MembershipEvents>();
    const dropped: string[] = [];
    const stop = dropAgentsOfDownNodes(membership, { dropNode: (id) => dropped.push(id) > 0 }, log);
    for (const state of ["unknown", "disconnected", "ready"] as const)
      membership.emit("changed", node(state), undefined);
    membership.emit("changed", undefined, node("ready")); // gone from the list
    expect(dropped).toEqual([]);
    membership.emit("changed", node("down"), node("ready"));
    expect(dropped).toEqual(["n1abcdefghijklmnopqrstuvw"]);
    // Drained while down: its agent, back meanwhile, is not dropped again.
    membership.emit("changed", { ...node("down"), availability: "drain" }, node("down"));
    expect(dropped).toHaveLength(1);
    stop();
    membership.emit("changed", node("down"), node("ready"));
    expect(dropped).toHaveLength(1);
    expect(membership.listenerCount("changed")).toBe(0);
  });
});
