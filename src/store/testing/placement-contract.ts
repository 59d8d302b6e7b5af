import { beforeEach, describe, expect, it } from "vitest";
import type { ContainerState } from "#protocol";
import { choosePlacement } from "../../cluster/placement.ts";
import type { SwarmNode } from "../../cluster/swarm-nodes.ts";
import type { StoredSpec } from "../../containers/container-spec.ts";
import { NoCapacityError } from "../../errors/errors.ts";
import { ContainerGoneError, StalePlacementError } from "../store-errors.ts";
import type { Placement } from "../store-ports.ts";
import type { ContractContext } from "./contract-context.ts";

const MIB = 1024 * 1024;
const DEFAULTS = { memoryMb: 128, cpus: 1 };

/** The PlacementStore: where each workload runs, under a generation that only a compare-and-set moves. */
export function placementContract(ctx: ContractContext): void {
  describe("placements", () => {
    beforeEach(async () => {
      for (const id of ["C1", "C2", "C3"])
        await ctx.store().containers.insert(ctx.container(id, { state: "running" }));
    });
    const placements = () => ctx.store().placements;

    it("places a container the first time under generation 1, and answers it as current", async () => {
      expect(await placements().current("C1")).toBeUndefined();
      const before = Date.now();
      const placed = await placements().place("C1", "node-a", 0);
      const after = Date.now();
      expect(placed).toEqual({
        containerId: "C1",
        nodeId: "node-a",
        generation: 1,
        placedAt: expect.any(Number),
      });
      expect(placed.placedAt).toBeGreaterThanOrEqual(before);
      expect(placed.placedAt).toBeLessThanOrEqual(after);
      expect(await placements().current("C1")).toEqual(placed);
      expect(await placements().current("C2")).toBeUndefined();
    });

    it("moves a placement from the generation the caller read to the next one", async () => {
      await placements().place("C1", "node-a", 0);
      const moved = await placements().place("C1", "node-b", 1);
      expect(moved).toMatchObject({ containerId: "C1", nodeId: "node-b", generation: 2 });
      // Placing again on the same node (a new copy there) is a new generation all the same.
      expect(await placements().place("C1", "node-b", 2)).toMatchObject({ nodeId: "node-b", generation: 3 });
      expect(await placements().current("C1")).toMatchObject({ nodeId: "node-b", generation: 3 });
    });

    it("refuses a placement from a generation that moved on with StalePlacementError, and writes nothing", async () => {
      const first = await placements().place("C1", "node-a", 0);
      const second = await placements().place("C1", "node-b", 1);
      // A server that read generation 1 before the move; one that thinks the container unplaced; one ahead of time.
      for (const expected of [1, 0, 3]) {
        const late = placements().place("C1", "node-c", expected);
        await expect(late).rejects.toBeInstanceOf(StalePlacementError);
        await expect(late).rejects.toMatchObject({
          containerId: "C1",
          expectedGeneration: expected,
          currentGeneration: 2,
        });
      }
      expect(await placements().current("C1")).toEqual(second);
      expect(await placements().onNode("node-c")).toEqual([]);
      // Not placed at all: only 0 is current.
      await expect(placements().place("C2", "node-a", 1)).rejects.toMatchObject({
        name: "StalePlacementError",
        currentGeneration: 0,
      });
      expect(await placements().current("C2")).toBeUndefined();
      expect(first.generation).toBe(1);
    });

    it("refuses to place a container that has no row with ContainerGoneError, and writes nothing", async () => {
      for (const expected of [0, 1]) {
        const placing = placements().place("C404", "node-a", expected);
        await expect(placing).rejects.toBeInstanceOf(ContainerGoneError);
        await expect(placing).rejects.toMatchObject({ containerId: "C404" });
      }
      expect(await placements().current("C404")).toBeUndefined();
      expect(await placements().onNode("node-a")).toEqual([]);
    });

    it("refuses an expected generation that is not a whole number from 0 as the caller's bug", async () => {
      for (const expected of [-1, 1.5, Number.NaN]) {
        await expect(placements().place("C1", "node-a", expected)).rejects.toBeInstanceOf(RangeError);
      }
      expect(await placements().current("C1")).toBeUndefined();
    });

    it("lists the containers placed on a node, by container id", async () => {
      await placements().place("C3", "node-a", 0);
      await placements().place("C1", "node-a", 0);
      await placements().place("C2", "node-b", 0);
      const onA = await placements().onNode("node-a");
      expect(onA.map((p) => [p.containerId, p.generation])).toEqual([
        ["C1", 1],
        ["C3", 1],
      ]);
      expect(onA[0]).toEqual(await placements().current("C1"));
      // A move takes it off its old node.
      await placements().place("C3", "node-b", 1);
      expect((await placements().onNode("node-a")).map((p) => p.containerId)).toEqual(["C1"]);
      expect((await placements().onNode("node-b")).map((p) => p.containerId)).toEqual(["C2", "C3"]);
      expect(await placements().onNode("node-z")).toEqual([]);
    });

    it("names every node that holds a placement, once each, and not a node whose placements were taken away", async () => {
      expect(await placements().nodes()).toEqual([]);
      await placements().place("C1", "node-b", 0);
      await placements().place("C2", "node-a", 0);
      await placements().place("C3", "node-b", 0);
      expect(await placements().nodes()).toEqual(["node-a", "node-b"]);
      await placements().remove("C2", 1);
      expect(await placements().nodes()).toEqual(["node-b"]);
    });

    it("takes a placement away, and never gives one of its generations again", async () => {
      await placements().place("C1", "node-a", 0);
      await placements().place("C1", "node-b", 1);
      expect(await placements().remove("C1", 2)).toBe(true);
      expect(await placements().remove("C1", 2)).toBe(false);
      expect(await placements().remove("C2", 0)).toBe(false);
      expect(await placements().current("C1")).toBeUndefined();
      expect(await placements().onNode("node-b")).toEqual([]);
      expect(await placements().loads(DEFAULTS)).toEqual(new Map());
      // A copy left from generation 2 must stay stale: the next placement is 3, not 1 again.
      await expect(placements().place("C1", "node-a", 2)).rejects.toBeInstanceOf(StalePlacementError);
      expect(await placements().place("C1", "node-a", 0)).toMatchObject({ nodeId: "node-a", generation: 3 });
    });

    it("takes a placement away only at the generation the caller read", async () => {
      // Server A read generation 1 on node-a and decides to take it away; meanwhile server B moved it to node-b.
      const read = await placements().place("C1", "node-a", 0);
      const moved = await placements().place("C1", "node-b", read.generation);
      // A's remove, made from what it read, must not take away B's newer placement.
      await expect(placements().remove("C1", read.generation)).rejects.toBeInstanceOf(StalePlacementError);
      expect(await placements().current("C1")).toEqual(moved);
    });

    it("goes with its container's row", async () => {
      await placements().place("C1", "node-a", 0);
      await placements().place("C1", "node-b", 1);
      await placements().place("C2", "node-b", 0);
      await ctx.store().containers.delete("C1");
      expect(await placements().current("C1")).toBeUndefined();
      expect((await placements().onNode("node-b")).map((p) => p.containerId)).toEqual(["C2"]);
      await expect(placements().place("C1", "node-a", 0)).rejects.toBeInstanceOf(ContainerGoneError);
      // Nothing of it was left behind: a new row under the same id starts from generation 1.
      await ctx.store().containers.insert(ctx.container("C1"));
      expect(await placements().current("C1")).toBeUndefined();
      expect(await placements().place("C1", "node-a", 0)).toMatchObject({ generation: 1 });
    });

    it("sums, per node, the limits of the workloads that reserve room, with the defaults where a spec has none", async () => {
      const add = (id: string, state: ContainerState, resources?: StoredSpec["resources"]) =>
        ctx
          .store()
          .containers.insert(ctx.container(id, { state, spec: { name: id.toLowerCase(), resources } }));
      await add("D1", "running", { memoryMb: 256, cpus: 0.5 });
      await add("D2", "starting"); // the defaults: 128 MiB, 1 CPU
      await add("D3", "running", { memoryMb: 512 }); // 1 CPU by default
      await add("D4", "created", { cpus: 2, pids: 64 }); // placed on its way up: reserves already
      await add("D5", "stopped", { memoryMb: 4096, cpus: 4 }); // holds nothing while stopped
      await add("D6", "exited", { memoryMb: 4096 });
      await add("D7", "running", { memoryMb: 1024 }); // not placed
      for (const [id, node] of [
        ["D1", "node-a"],
        ["D2", "node-a"],
        ["D3", "node-b"],
        ["D4", "node-b"],
        ["D5", "node-b"],
        ["D6", "node-c"],
      ] as const) {
        await placements().place(id, node, 0);
      }
      expect(await placements().loads(DEFAULTS)).toEqual(
        new Map([
          ["node-a", { memoryBytes: (256 + 128) * MIB, cpus: 1.5, workloads: 2 }],
          ["node-b", { memoryBytes: (512 + 128) * MIB, cpus: 3, workloads: 2 }],
        ]),
      );
      // The defaults are the caller's (the server's BERTH_DEFAULT_* settings).
      expect((await placements().loads({ memoryMb: 64, cpus: 0.25 })).get("node-a")).toEqual({
        memoryBytes: (256 + 64) * MIB,
        cpus: 0.75,
        workloads: 2,
      });
      // A stopped workload reserves again once it starts; a moved one counts on its new node only.
      await ctx.store().containers.update("D5", { state: "running" });
      await placements().place("D1", "node-b", 1);
      const after = await placements().loads(DEFAULTS);
      expect(after.get("node-a")).toEqual({ memoryBytes: 128 * MIB, cpus: 1, workloads: 1 });
      expect(after.get("node-b")).toEqual({
        memoryBytes: (256 + 512 + 128 + 4096) * MIB,
        cpus: 7.5,
        workloads: 4,
      });
    });

    it("gives choosePlacement the loads it picks a node with room by", async () => {
      const node = (id: string): SwarmNode => ({
        id,
        hostname: id,
        state: "ready",
        availability: "active",
        cpus: 2,
        memoryBytes: 1024 * MIB,
        labels: {},
      });
      const nodes = [node("node-a"), node("node-b")];
      const need = (memoryMb: number) => ({ memoryBytes: memoryMb * MIB, cpus: 0.5 });
      await ctx.store().containers.update("C1", { spec: { name: "c1", resources: { memoryMb: 768 } } });
      await placements().place("C1", "node-a", 0);
      expect(choosePlacement(need(512), nodes, await placements().loads(DEFAULTS)).id).toBe("node-b");
      await ctx.store().containers.update("C2", { spec: { name: "c2", resources: { memoryMb: 512 } } });
      await placements().place("C2", "node-b", 0);
      // 256 MiB left on node a, 512 on node b; a stopped workload leaves its room free.
      const loads = await placements().loads(DEFAULTS);
      expect(choosePlacement(need(300), nodes, loads).id).toBe("node-b");
      expect(() => choosePlacement(need(600), nodes, loads)).toThrow(NoCapacityError);
      await ctx.store().containers.update("C1", { state: "stopped" });
      expect(choosePlacement(need(600), nodes, await placements().loads(DEFAULTS)).id).toBe("node-a");
    });

    it("lets exactly one of two placements with the same expectation win, from two connections at once", async () => {
      // A second store on the same database, as another API server holds it: connections of its own.
      const other = await ctx.harness.reopen(ctx.store());
      try {
        let generation = 0;
        for (let round = 0; round < 10; round++) {
          const outcomes = await Promise.allSettled([
            ctx.store().placements.place("C1", "node-a", generation),
            other.placements.place("C1", "node-b", generation),
          ]);
          const won = outcomes.filter(
            (o): o is PromiseFulfilledResult<Placement> => o.status === "fulfilled",
          );
          const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          expect(lost[0]?.reason).toBeInstanceOf(StalePlacementError);
          expect(lost[0]?.reason).toMatchObject({ expectedGeneration: generation });
          expect(won[0]?.value.generation).toBe(generation + 1);
          // Both servers now read the winner, and only it.
          expect(await other.placements.current("C1")).toEqual(won[0]?.value);
          expect(await ctx.store().placements.current("C1")).toEqual(won[0]?.value);
          generation++;
        }
      } finally {
        await other.close();
      }
    });
  });
}
