import { beforeEach, describe, expect, it } from "vitest";
import type { ReleaseRecord } from "../store-ports.ts";
import type { ContractContext } from "./contract-context.ts";

/** The ReleaseStore, and ContainerStore.switchRelease: all of a switch or none of it. */
export function releaseContract(ctx: ContractContext): void {
  describe("releases", () => {
    beforeEach(async () => {
      await ctx.store().containers.insert(ctx.container("C1"));
      await ctx.store().containers.insert(ctx.container("C2"));
    });

    it("gives back releases by number and newest first", async () => {
      for (const n of [1, 2, 3]) await ctx.store().releases.insert(ctx.release("C1", n));
      await ctx.store().releases.insert(ctx.release("C2", 1));
      expect(await ctx.store().releases.get("C1", 2)).toEqual(ctx.release("C1", 2));
      expect(await ctx.store().releases.get("C1", 9)).toBeUndefined();
      expect((await ctx.store().releases.list("C1")).map((r) => r.number)).toEqual([3, 2, 1]);
      expect(await ctx.store().releases.nextNumber("C1")).toBe(4);
      expect(await ctx.store().releases.nextNumber("C2")).toBe(2);
      await ctx.store().containers.insert(ctx.container("C3"));
      expect(await ctx.store().releases.nextNumber("C3")).toBe(1);
    });

    it("finds pending releases across containers and of one, and fails one only while it is pending", async () => {
      await ctx.store().releases.insert(ctx.release("C1", 1, { status: "active" }));
      await ctx.store().releases.insert(ctx.release("C1", 2, { status: "pending" }));
      await ctx.store().releases.insert(ctx.release("C2", 1, { status: "pending" }));
      const key = (r: ReleaseRecord) => `${r.containerId}/${r.number}`;
      expect((await ctx.store().releases.pending()).map(key).sort()).toEqual(["C1/2", "C2/1"]);
      expect((await ctx.store().releases.pendingOf("C1")).map(key)).toEqual(["C1/2"]);
      expect(await ctx.store().releases.failPending("C1", 2)).toBe(true);
      expect(await ctx.store().releases.failPending("C1", 2)).toBe(false);
      expect(await ctx.store().releases.failPending("C1", 1)).toBe(false);
      expect((await ctx.store().releases.get("C1", 2))?.status).toBe("failed");
      expect((await ctx.store().releases.get("C1", 1))?.status).toBe("active");
    });

    it("sets a status and deletes one release", async () => {
      await ctx.store().releases.insert(ctx.release("C1", 1));
      await ctx.store().releases.insert(ctx.release("C1", 2));
      await ctx.store().releases.setStatus("C1", 1, "rolled-back");
      await ctx.store().releases.delete("C1", 2);
      expect(await ctx.store().releases.list("C1")).toEqual([
        ctx.release("C1", 1, { status: "rolled-back" }),
      ]);
    });
  });

  describe("switching releases", () => {
    beforeEach(async () => {
      await ctx.store().containers.insert(ctx.container("C1", { release: 1 }));
      await ctx.store().releases.insert(ctx.release("C1", 1, { status: "active" }));
      await ctx.store().releases.insert(ctx.release("C1", 2, { status: "pending" }));
    });
    const statuses = async () =>
      (await ctx.store().releases.list("C1")).map((r) => `${r.number}:${r.status}`);

    it("makes the new release active and the replaced one previous, with the container's row", async () => {
      await ctx.store().containers.switchRelease("C1", 2, "previous");
      expect(await statuses()).toEqual(["2:active", "1:previous"]);
      expect((await ctx.store().containers.get("C1"))?.release).toBe(2);
    });

    it("marks the replaced release rolled back on a rollback", async () => {
      await ctx.store().containers.switchRelease("C1", 2, "previous");
      await ctx.store().containers.switchRelease("C1", 1, "rolled-back");
      expect(await statuses()).toEqual(["2:rolled-back", "1:active"]);
      expect((await ctx.store().containers.get("C1"))?.release).toBe(1);
    });

    it("leaves the replaced status alone when the release is already the container's", async () => {
      await ctx.store().containers.switchRelease("C1", 1, "rolled-back");
      expect(await statuses()).toEqual(["2:pending", "1:active"]);
    });

    it("activates a first release of a container that had none", async () => {
      await ctx.store().containers.insert(ctx.container("C2"));
      await ctx.store().releases.insert(ctx.release("C2", 1, { status: "pending" }));
      await ctx.store().containers.switchRelease("C2", 1, "previous");
      expect((await ctx.store().releases.get("C2", 1))?.status).toBe("active");
      expect((await ctx.store().containers.get("C2"))?.release).toBe(1);
    });

    it("writes nothing when it fails half-way (the release to activate does not exist)", async () => {
      // The replaced release is marked first: a switch that then fails must take that back too.
      await expect(ctx.store().containers.switchRelease("C1", 7, "previous")).rejects.toThrow();
      expect(await statuses()).toEqual(["2:pending", "1:active"]);
      expect((await ctx.store().containers.get("C1"))?.release).toBe(1);
    });
  });
}
