import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NoCapacityError } from "../errors/errors.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import { StalePlacementError } from "../store/store-errors.ts";
import type { Store } from "../store/store-ports.ts";
import { containerRecord } from "../store/testing/container-record.ts";
import { Placer } from "./placer.ts";
import type { SwarmNode } from "./swarm-nodes.ts";

const GIB = 1024 ** 3;

function node(id: string, over: Partial<SwarmNode> = {}): SwarmNode {
  return {
    id,
    hostname: `host-${id}`,
    state: "ready",
    availability: "active",
    cpus: 2,
    memoryBytes: GIB,
    labels: {},
    ...over,
  };
}

let dir: string;
let store: Store;
let nodes: SwarmNode[];
let fresh: boolean;
let reachable: Set<string>;
/** What each node's agent said in its hello about filtering outbound workloads (absent: it did not say). */
let filters: Map<string, boolean>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-placer-"));
  store = openSqliteStore(join(dir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
  nodes = [node("n1"), node("n2"), node("n3")];
  fresh = true;
  reachable = new Set(["n1", "n2", "n3"]);
  filters = new Map();
  for (const id of ["C1", "C2", "C3", "C4"])
    await store.containers.insert(containerRecord(id, 20_000 + Number(id.slice(1))));
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function placer(unstored: Array<{ nodeId: string; limits?: { memoryMb?: number } }> = []): Placer {
  return new Placer({
    membership: { view: () => ({ nodes, fresh, answeredAt: 1 }) },
    placements: store.placements,
    reachable: (id) => reachable.has(id),
    canFilter: (id) => filters.get(id),
    defaults: { memoryMb: 256, cpus: 1 },
    unstored: () => unstored,
  });
}

describe("Placer", () => {
  it("spreads new workloads over the nodes with the most room, and records each under generation 1", async () => {
    const placed = [];
    for (const id of ["C1", "C2", "C3"]) placed.push(await placer().place(id, undefined));
    expect(placed.map((p) => p.nodeId).sort()).toEqual(["n1", "n2", "n3"]);
    expect(placed.every((p) => p.generation === 1)).toBe(true);
    expect(await store.placements.current("C2")).toEqual(placed[1]);
  });

  it("places nothing on a node whose agent this server does not reach, nor on one Swarm calls down", async () => {
    reachable.delete("n1");
    nodes[1] = node("n2", { state: "down" });
    for (const id of ["C1", "C2"]) expect((await placer().place(id, undefined)).nodeId).toBe("n3");
  });

  it("fails as retryable, placing nothing, while the Swarm's view is stale", async () => {
    fresh = false;
    await expect(placer().place("C1", undefined)).rejects.toMatchObject({
      code: "DOCKER_UNAVAILABLE",
      retryable: true,
    });
    expect(await store.placements.current("C1")).toBeUndefined();
  });

  it("fails with NO_CAPACITY when no node has room for the workload's own limits", async () => {
    await expect(placer().place("C1", { memoryMb: 2048 })).rejects.toBeInstanceOf(NoCapacityError);
    expect(await store.placements.current("C1")).toBeUndefined();
  });

  it("places a workload again elsewhere, from the generation read, and refuses a move another server made first", async () => {
    const first = await placer().place("C1", undefined);
    const again = await placer().place("C1", undefined, first);
    expect(again.nodeId).not.toBe(first.nodeId);
    expect(again.generation).toBe(2);
    // A second server acting on the same old read loses.
    await expect(placer().place("C1", undefined, first)).rejects.toBeInstanceOf(StalePlacementError);
    expect(await store.placements.current("C1")).toEqual(again);
  });

  it("chooses a node for what has no row (an image check's throwaway) by the same policy, placing nothing", async () => {
    await placer().place("C1", undefined); // n1: the ties go to the node id
    const node = await placer().choose(undefined);
    expect(node.id).toBe("n2");
    expect(await store.placements.nodes()).toEqual(["n1"]);
    // And fails as a create's placement does.
    await expect(placer().choose({ memoryMb: 2048 })).rejects.toBeInstanceOf(NoCapacityError);
  });

  it("counts what this server runs without a row (its image checks under way) in the nodes' loads", async () => {
    // n1 and n2 each hold a check of 768 MiB: only n3 has room for a workload of 512 MiB.
    const checks = [
      { nodeId: "n1", limits: { memoryMb: 768 } },
      { nodeId: "n2", limits: { memoryMb: 768 } },
    ];
    expect((await placer(checks).place("C1", { memoryMb: 512 })).nodeId).toBe("n3");
    // One more on n3: no node has room.
    const more = [...checks, { nodeId: "n3", limits: { memoryMb: 768 } }];
    await expect(placer(more).place("C2", { memoryMb: 512 })).rejects.toBeInstanceOf(NoCapacityError);
  });

  describe("outbound workloads", () => {
    const outbound = { egressFilter: true };

    it("go only to nodes whose agent can filter them, however much room the others have", async () => {
      filters = new Map([
        ["n1", false],
        ["n2", true],
        ["n3", false],
      ]);
      for (const id of ["C1", "C2", "C3"])
        expect((await placer().place(id, undefined, undefined, outbound)).nodeId).toBe("n2");
      // A workload without a network still goes where there is most room.
      expect((await placer().place("C4", undefined)).nodeId).toBe("n1");
    });

    it("count an agent that did not say (an older berth's) as able: its node's own check decides", async () => {
      filters = new Map([
        ["n1", false],
        ["n2", false],
      ]);
      expect((await placer().place("C1", undefined, undefined, outbound)).nodeId).toBe("n3");
    });

    it("are moved only to another node that can filter them, never back to the lost one", async () => {
      filters = new Map([
        ["n1", true],
        ["n2", false],
        ["n3", true],
      ]);
      const first = await placer().place("C1", undefined, undefined, outbound);
      expect(["n1", "n3"]).toContain(first.nodeId);
      const again = await placer().place("C1", undefined, first, outbound);
      expect(again.nodeId).toBe(first.nodeId === "n1" ? "n3" : "n1");
    });

    it("fail with NO_CAPACITY when the nodes that can filter are full, rather than go where they would be refused", async () => {
      filters = new Map([
        ["n1", false],
        ["n2", true],
        ["n3", false],
      ]);
      const full = [{ nodeId: "n2", limits: { memoryMb: 1024 } }];
      await expect(placer(full).place("C1", undefined, undefined, outbound)).rejects.toBeInstanceOf(
        NoCapacityError,
      );
      expect(await store.placements.current("C1")).toBeUndefined();
    });

    it("are placed as any other when no node can filter, so that the node's agent refuses them (EGRESS_FILTER_UNAVAILABLE)", async () => {
      filters = new Map([
        ["n1", false],
        ["n2", false],
        ["n3", false],
      ]);
      const placed = await placer().place("C1", undefined, undefined, outbound);
      expect(["n1", "n2", "n3"]).toContain(placed.nodeId);
    });
  });
});
