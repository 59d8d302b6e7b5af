import { beforeEach, describe, expect, it } from "vitest";
import { NameTakenError, UidTakenError } from "../store-errors.ts";
import type { ContainerRecord } from "../store-ports.ts";
import type { ContractContext } from "./contract-context.ts";
import { ids } from "./contract-context.ts";

/** The ContainerStore: records, uniqueness, sealed secrets, paging. */
export function containerContract(ctx: ContractContext): void {
  describe("containers", () => {
    it("gives back what was inserted, by id and by owner and name, and nothing for an unknown one", async () => {
      const record = ctx.container("C1", {
        dockerId: "d1",
        state: "running",
        health: "healthy",
        startedAt: 1_500,
        exitCode: 0,
        release: 3,
        restartCount: 2,
        restartDueAt: 9_000,
        restartAttempts: 1,
        spec: { name: "c1", env: { MODE: "x" }, resources: { memoryMb: 128, cpus: 0.5 } },
      });
      await ctx.store().containers.insert(record);
      expect(await ctx.store().containers.get("C1")).toEqual(record);
      expect(await ctx.store().containers.getByName("alice", "c1")).toEqual(record);
      expect(await ctx.store().containers.getByName("bob", "c1")).toBeUndefined();
      expect(await ctx.store().containers.get("C404")).toBeUndefined();
    });

    it("reads the restart policy's fields as none due and no attempts when a record leaves them out", async () => {
      await ctx.store().containers.insert(ctx.container("C1"));
      const got = await ctx.store().containers.get("C1");
      // Optional in the record: a store may give them back unset or as their defaults.
      expect(got?.restartDueAt ?? null).toBeNull();
      expect(got?.restartAttempts ?? 0).toBe(0);
    });

    it("finds every container of a name across owners", async () => {
      await ctx.store().containers.insert(ctx.container("C1", { name: "web" }));
      await ctx
        .store()
        .containers.insert(ctx.container("C2", { owner: "bob", name: "web", createdAt: 1_001 }));
      await ctx.store().containers.insert(ctx.container("C3", { name: "db" }));
      expect(ids(await ctx.store().containers.findByName("web")).sort()).toEqual(["C1", "C2"]);
      expect(await ctx.store().containers.findByName("nope")).toEqual([]);
    });

    it("refuses a name the owner already has with NameTakenError, and writes nothing", async () => {
      await ctx.store().containers.insert(ctx.container("C1", { name: "web" }));
      const second = ctx.store().containers.insert(ctx.container("C2", { name: "web" }));
      await expect(second).rejects.toBeInstanceOf(NameTakenError);
      await expect(second).rejects.toMatchObject({ owner: "alice", containerName: "web" });
      expect(await ctx.store().containers.get("C2")).toBeUndefined();
      // Another owner may use it.
      await ctx.store().containers.insert(ctx.container("C3", { owner: "bob", name: "web" }));
      expect((await ctx.store().containers.getByName("bob", "web"))?.id).toBe("C3");
    });

    it("refuses a uid already taken with UidTakenError", async () => {
      await ctx.store().containers.insert(ctx.container("C1", { uid: 250_000 }));
      const second = ctx.store().containers.insert(ctx.container("C2", { uid: 250_000 }));
      await expect(second).rejects.toBeInstanceOf(UidTakenError);
      await expect(second).rejects.toMatchObject({ uid: 250_000 });
      expect(await ctx.store().containers.isUidTaken(250_000)).toBe(true);
      expect(await ctx.store().containers.isUidTaken(250_001)).toBe(false);
    });

    it("updates only the fields it is given, and keeps the spec's secrets sealed", async () => {
      await ctx.store().containers.insert(ctx.container("C1", { restartDueAt: 5 }));
      await ctx.store().containers.update("C1", {
        state: "exited",
        exitCode: 3,
        restartDueAt: null,
        spec: { name: "c1", secretEnv: { TOKEN: "new-secret-value" } },
      });
      const got = await ctx.store().containers.get("C1");
      expect(got).toMatchObject({
        state: "exited",
        exitCode: 3,
        restartDueAt: null,
        image: "berth/runtime-node:24",
      });
      expect(got?.spec.secretEnv).toEqual({ TOKEN: "new-secret-value" });
      expect(await ctx.harness.rawSpec(ctx.store(), "C1")).not.toContain("new-secret-value");
      await ctx.store().containers.update("C1", {});
      expect(await ctx.store().containers.get("C1")).toEqual(got);
    });

    it("writes a due restart only while the container is exited, and clears one whatever its state", async () => {
      const containers = ctx.store().containers;
      await containers.insert(ctx.container("C1", { state: "exited", restartDueAt: null }));
      expect(await containers.setRestartDue("C1", { at: 7_000, attempts: 2 })).toBe(true);
      expect(await containers.get("C1")).toMatchObject({ restartDueAt: 7_000, restartAttempts: 2 });
      expect(await containers.setRestartDue("C1", { at: 8_000 })).toBe(true);
      expect(await containers.get("C1")).toMatchObject({ restartDueAt: 8_000, restartAttempts: 2 });
      // The owner's stop answered the exit: a decision written after it changes nothing.
      await containers.update("C1", { state: "stopped", restartDueAt: null });
      expect(await containers.setRestartDue("C1", { at: 9_000, attempts: 3 })).toBe(false);
      expect(await containers.get("C1")).toMatchObject({ restartDueAt: null, restartAttempts: 2 });
      expect(await containers.setRestartDue("C1", { at: null, attempts: 0 })).toBe(true);
      expect(await containers.get("C1")).toMatchObject({ restartDueAt: null, restartAttempts: 0 });
      expect(await containers.setRestartDue("C404", { at: null })).toBe(false);
    });

    it("keeps secret values sealed at rest and opens them on the way out", async () => {
      const spec = {
        name: "c1",
        env: { MODE: "plain-visible", API_KEY: "env-secret-1" },
        secretEnv: { DB_URL: "secret-env-2" },
      };
      await ctx.store().containers.insert(ctx.container("C1", { spec }));
      const raw = await ctx.harness.rawSpec(ctx.store(), "C1");
      expect(raw).not.toContain("env-secret-1");
      expect(raw).not.toContain("secret-env-2");
      expect(raw).toContain("plain-visible");
      expect(raw).toContain("$sealed");
      expect((await ctx.store().containers.get("C1"))?.spec).toEqual(spec);
      expect((await ctx.store().containers.list({ limit: 10 }))[0]?.spec).toEqual(spec);
    });

    it("hands out one spec object while the stored spec is unchanged, and a new one once it changes", async () => {
      // SpecInfoCache keys a container's shown spec on this object: a new one at every read would
      // rebuild (and redact again) the shown form at every `container:status { spec: true }`.
      await ctx
        .store()
        .containers.insert(ctx.container("C1", { spec: { name: "c1", secretEnv: { K: "v" } } }));
      const first = (await ctx.store().containers.get("C1"))?.spec;
      await ctx.store().containers.update("C1", { state: "running" });
      expect((await ctx.store().containers.get("C1"))?.spec).toBe(first);
      expect((await ctx.store().containers.list({ limit: 5 }))[0]?.spec).toBe(first);
      await ctx.store().containers.update("C1", { spec: { name: "c1", secretEnv: { K: "w" } } });
      const changed = (await ctx.store().containers.get("C1"))?.spec;
      expect(changed).not.toBe(first);
      expect(changed?.secretEnv).toEqual({ K: "w" });
    });

    it("deletes a container and its releases", async () => {
      await ctx.store().containers.insert(ctx.container("C1"));
      await ctx.store().releases.insert(ctx.release("C1", 1));
      await ctx.store().containers.delete("C1");
      expect(await ctx.store().containers.get("C1")).toBeUndefined();
      expect(await ctx.store().releases.list("C1")).toEqual([]);
      expect(await ctx.store().containers.all()).toEqual([]);
    });

    it("counts containers by state and health", async () => {
      await ctx.store().containers.insert(ctx.container("C1", { state: "running", health: "healthy" }));
      await ctx.store().containers.insert(ctx.container("C2", { state: "running", health: "healthy" }));
      await ctx.store().containers.insert(ctx.container("C3", { state: "exited" }));
      const tally = (await ctx.store().containers.tally()).sort((a, b) => a.state.localeCompare(b.state));
      expect(tally).toEqual([
        { state: "exited", health: "none", count: 1 },
        { state: "running", health: "healthy", count: 2 },
      ]);
    });

    it("lists every container oldest first, ties by id", async () => {
      await ctx.store().containers.insert(ctx.container("C3", { createdAt: 5 }));
      await ctx.store().containers.insert(ctx.container("C2", { createdAt: 7 }));
      await ctx.store().containers.insert(ctx.container("C1", { createdAt: 7 }));
      expect(ids(await ctx.store().containers.all())).toEqual(["C3", "C1", "C2"]);
    });
  });

  describe("container pages", () => {
    beforeEach(async () => {
      // Two share a creation time: the page boundary falls between them.
      const rows: Array<[string, number, Partial<ContainerRecord>]> = [
        ["C01", 10, { name: "web_1" }],
        ["C02", 20, { name: "web%1", state: "running", health: "healthy" }],
        ["C03", 20, { name: "webx1", state: "running" }],
        ["C04", 30, { name: "api", owner: "bob", state: "running" }],
        ["C05", 40, { name: "web-2", state: "exited" }],
      ];
      for (const [id, createdAt, extra] of rows)
        await ctx.store().containers.insert(ctx.container(id, { createdAt, ...extra }));
    });

    it("pages by (createdAt, id) without skipping or repeating one at a tie", async () => {
      const seen: string[] = [];
      let after: { createdAt: number; id: string } | undefined;
      for (;;) {
        const page = await ctx.store().containers.list({ limit: 2, ...(after ? { after } : {}) });
        seen.push(...ids(page));
        const last = page.at(-1);
        if (page.length < 2 || !last) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
      expect(seen).toEqual(["C01", "C02", "C03", "C04", "C05"]);
      expect(await ctx.store().containers.list({ limit: 5, after: { createdAt: 40, id: "C05" } })).toEqual(
        [],
      );
      expect(
        ids(await ctx.store().containers.list({ limit: 5, after: { createdAt: 20, id: "C02" } })),
      ).toEqual(["C03", "C04", "C05"]);
    });

    it("filters by owner, state and health together", async () => {
      expect(ids(await ctx.store().containers.list({ owner: "alice", state: "running", limit: 10 }))).toEqual(
        ["C02", "C03"],
      );
      expect(
        ids(await ctx.store().containers.list({ state: "running", health: "healthy", limit: 10 })),
      ).toEqual(["C02"]);
      expect(ids(await ctx.store().containers.list({ owner: "bob", limit: 10 }))).toEqual(["C04"]);
      expect(await ctx.store().containers.list({ owner: "carol", limit: 10 })).toEqual([]);
    });

    it("matches a name prefix literally: '_' and '%' are no wildcards", async () => {
      expect(ids(await ctx.store().containers.list({ namePrefix: "web_", limit: 10 }))).toEqual(["C01"]);
      expect(ids(await ctx.store().containers.list({ namePrefix: "web%", limit: 10 }))).toEqual(["C02"]);
      expect(ids(await ctx.store().containers.list({ namePrefix: "web", limit: 10 }))).toEqual([
        "C01",
        "C02",
        "C03",
        "C05",
      ]);
      expect(ids(await ctx.store().containers.list({ namePrefix: "WEB", limit: 10 }))).toEqual([]);
      expect(
        ids(
          await ctx
            .store()
            .containers.list({ namePrefix: "web", after: { createdAt: 20, id: "C02" }, limit: 1 }),
        ),
      ).toEqual(["C03"]);
    });
  });
}
