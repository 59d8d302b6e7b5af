import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NameTakenError, UidTakenError } from "../store-errors.ts";
import type { ContainerRecord, ReleaseRecord, Store } from "../store-ports.ts";

/** What the contract needs of one kind of store. */
export interface StoreHarness {
  /** A new, empty store (each test gets its own; the suite closes it). */
  open(): Promise<Store>;
  /** A container row's spec exactly as the database holds it (no cipher, no parsing). */
  rawSpec(store: Store, id: string): Promise<string>;
}

/**
 * The behaviour every store must have, declared once and run against each
 * (src/store/sqlite-store.test.ts, src/store/postgres/postgres-store.test.ts):
 * what a service may rely on whichever database berth was given. What only
 * one database can get wrong (commit order of sequences, a server going away)
 * is tested beside that store.
 */
export function describeStoreContract(kind: string, harness: StoreHarness): void {
  describe(`the ${kind} store`, () => {
    let store: Store;
    let uid = 200_000;

    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(async () => {
      await store.close();
    });

    const container = (id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord => ({
      id,
      owner: "alice",
      name: id.toLowerCase(),
      image: "berth/runtime-node:24",
      spec: { name: id.toLowerCase() },
      dockerId: null,
      dockerName: `berth-${id}`,
      state: "created",
      health: "none",
      uid: uid++,
      createdAt: 1_000,
      startedAt: null,
      exitCode: null,
      release: null,
      restartCount: 0,
      ...extra,
    });
    const release = (
      containerId: string,
      number: number,
      extra: Partial<ReleaseRecord> = {},
    ): ReleaseRecord => ({
      containerId,
      number,
      status: "previous",
      createdAt: 2_000 + number,
      createdBy: "alice",
      bytes: 100 * number,
      files: number,
      hash: `h${number}`,
      ...extra,
    });
    const ids = (records: ContainerRecord[]) => records.map((r) => r.id);

    describe("containers", () => {
      it("gives back what was inserted, by id and by owner and name, and nothing for an unknown one", async () => {
        const record = container("C1", {
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
        await store.containers.insert(record);
        expect(await store.containers.get("C1")).toEqual(record);
        expect(await store.containers.getByName("alice", "c1")).toEqual(record);
        expect(await store.containers.getByName("bob", "c1")).toBeUndefined();
        expect(await store.containers.get("C404")).toBeUndefined();
      });

      it("reads the restart policy's fields as none due and no attempts when a record leaves them out", async () => {
        await store.containers.insert(container("C1"));
        const got = await store.containers.get("C1");
        // Optional in the record: a store may give them back unset or as their defaults.
        expect(got?.restartDueAt ?? null).toBeNull();
        expect(got?.restartAttempts ?? 0).toBe(0);
      });

      it("finds every container of a name across owners", async () => {
        await store.containers.insert(container("C1", { name: "web" }));
        await store.containers.insert(container("C2", { owner: "bob", name: "web", createdAt: 1_001 }));
        await store.containers.insert(container("C3", { name: "db" }));
        expect(ids(await store.containers.findByName("web")).sort()).toEqual(["C1", "C2"]);
        expect(await store.containers.findByName("nope")).toEqual([]);
      });

      it("refuses a name the owner already has with NameTakenError, and writes nothing", async () => {
        await store.containers.insert(container("C1", { name: "web" }));
        const second = store.containers.insert(container("C2", { name: "web" }));
        await expect(second).rejects.toBeInstanceOf(NameTakenError);
        await expect(second).rejects.toMatchObject({ owner: "alice", containerName: "web" });
        expect(await store.containers.get("C2")).toBeUndefined();
        // Another owner may use it.
        await store.containers.insert(container("C3", { owner: "bob", name: "web" }));
        expect((await store.containers.getByName("bob", "web"))?.id).toBe("C3");
      });

      it("refuses a uid already taken with UidTakenError", async () => {
        await store.containers.insert(container("C1", { uid: 250_000 }));
        const second = store.containers.insert(container("C2", { uid: 250_000 }));
        await expect(second).rejects.toBeInstanceOf(UidTakenError);
        await expect(second).rejects.toMatchObject({ uid: 250_000 });
        expect(await store.containers.isUidTaken(250_000)).toBe(true);
        expect(await store.containers.isUidTaken(250_001)).toBe(false);
      });

      it("updates only the fields it is given, and keeps the spec's secrets sealed", async () => {
        await store.containers.insert(container("C1", { restartDueAt: 5 }));
        await store.containers.update("C1", {
          state: "exited",
          exitCode: 3,
          restartDueAt: null,
          spec: { name: "c1", secretEnv: { TOKEN: "new-secret-value" } },
        });
        const got = await store.containers.get("C1");
        expect(got).toMatchObject({
          state: "exited",
          exitCode: 3,
          restartDueAt: null,
          image: "berth/runtime-node:24",
        });
        expect(got?.spec.secretEnv).toEqual({ TOKEN: "new-secret-value" });
        expect(await harness.rawSpec(store, "C1")).not.toContain("new-secret-value");
        await store.containers.update("C1", {});
        expect(await store.containers.get("C1")).toEqual(got);
      });

      it("keeps secret values sealed at rest and opens them on the way out", async () => {
        const spec = {
          name: "c1",
          env: { MODE: "plain-visible", API_KEY: "env-secret-1" },
          secretEnv: { DB_URL: "secret-env-2" },
        };
        await store.containers.insert(container("C1", { spec }));
        const raw = await harness.rawSpec(store, "C1");
        expect(raw).not.toContain("env-secret-1");
        expect(raw).not.toContain("secret-env-2");
        expect(raw).toContain("plain-visible");
        expect(raw).toContain("$sealed");
        expect((await store.containers.get("C1"))?.spec).toEqual(spec);
        expect((await store.containers.list({ limit: 10 }))[0]?.spec).toEqual(spec);
      });

      it("deletes a container and its releases", async () => {
        await store.containers.insert(container("C1"));
        await store.releases.insert(release("C1", 1));
        await store.containers.delete("C1");
        expect(await store.containers.get("C1")).toBeUndefined();
        expect(await store.releases.list("C1")).toEqual([]);
        expect(await store.containers.all()).toEqual([]);
      });

      it("counts containers by state and health", async () => {
        await store.containers.insert(container("C1", { state: "running", health: "healthy" }));
        await store.containers.insert(container("C2", { state: "running", health: "healthy" }));
        await store.containers.insert(container("C3", { state: "exited" }));
        const tally = (await store.containers.tally()).sort((a, b) => a.state.localeCompare(b.state));
        expect(tally).toEqual([
          { state: "exited", health: "none", count: 1 },
          { state: "running", health: "healthy", count: 2 },
        ]);
      });

      it("lists every container oldest first, ties by id", async () => {
        await store.containers.insert(container("C3", { createdAt: 5 }));
        await store.containers.insert(container("C2", { createdAt: 7 }));
        await store.containers.insert(container("C1", { createdAt: 7 }));
        expect(ids(await store.containers.all())).toEqual(["C3", "C1", "C2"]);
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
          await store.containers.insert(container(id, { createdAt, ...extra }));
      });

      it("pages by (createdAt, id) without skipping or repeating one at a tie", async () => {
        const seen: string[] = [];
        let after: { createdAt: number; id: string } | undefined;
        for (;;) {
          const page = await store.containers.list({ limit: 2, ...(after ? { after } : {}) });
          seen.push(...ids(page));
          const last = page.at(-1);
          if (page.length < 2 || !last) break;
          after = { createdAt: last.createdAt, id: last.id };
        }
        expect(seen).toEqual(["C01", "C02", "C03", "C04", "C05"]);
        expect(await store.containers.list({ limit: 5, after: { createdAt: 40, id: "C05" } })).toEqual([]);
        expect(ids(await store.containers.list({ limit: 5, after: { createdAt: 20, id: "C02" } }))).toEqual([
          "C03",
          "C04",
          "C05",
        ]);
      });

      it("filters by owner, state and health together", async () => {
        expect(ids(await store.containers.list({ owner: "alice", state: "running", limit: 10 }))).toEqual([
          "C02",
          "C03",
        ]);
        expect(ids(await store.containers.list({ state: "running", health: "healthy", limit: 10 }))).toEqual([
          "C02",
        ]);
        expect(ids(await store.containers.list({ owner: "bob", limit: 10 }))).toEqual(["C04"]);
        expect(await store.containers.list({ owner: "carol", limit: 10 })).toEqual([]);
      });

      it("matches a name prefix literally: '_' and '%' are no wildcards", async () => {
        expect(ids(await store.containers.list({ namePrefix: "web_", limit: 10 }))).toEqual(["C01"]);
        expect(ids(await store.containers.list({ namePrefix: "web%", limit: 10 }))).toEqual(["C02"]);
        expect(ids(await store.containers.list({ namePrefix: "web", limit: 10 }))).toEqual([
          "C01",
          "C02",
          "C03",
          "C05",
        ]);
        expect(ids(await store.containers.list({ namePrefix: "WEB", limit: 10 }))).toEqual([]);
        expect(
          ids(
            await store.containers.list({ namePrefix: "web", after: { createdAt: 20, id: "C02" }, limit: 1 }),
          ),
        ).toEqual(["C03"]);
      });
    });

    describe("releases", () => {
      beforeEach(async () => {
        await store.containers.insert(container("C1"));
        await store.containers.insert(container("C2"));
      });

      it("gives back releases by number and newest first", async () => {
        for (const n of [1, 2, 3]) await store.releases.insert(release("C1", n));
        await store.releases.insert(release("C2", 1));
        expect(await store.releases.get("C1", 2)).toEqual(release("C1", 2));
        expect(await store.releases.get("C1", 9)).toBeUndefined();
        expect((await store.releases.list("C1")).map((r) => r.number)).toEqual([3, 2, 1]);
        expect(await store.releases.nextNumber("C1")).toBe(4);
        expect(await store.releases.nextNumber("C2")).toBe(2);
        await store.containers.insert(container("C3"));
        expect(await store.releases.nextNumber("C3")).toBe(1);
      });

      it("finds pending releases across containers and of one, and fails one only while it is pending", async () => {
        await store.releases.insert(release("C1", 1, { status: "active" }));
        await store.releases.insert(release("C1", 2, { status: "pending" }));
        await store.releases.insert(release("C2", 1, { status: "pending" }));
        const key = (r: ReleaseRecord) => `${r.containerId}/${r.number}`;
        expect((await store.releases.pending()).map(key).sort()).toEqual(["C1/2", "C2/1"]);
        expect((await store.releases.pendingOf("C1")).map(key)).toEqual(["C1/2"]);
        expect(await store.releases.failPending("C1", 2)).toBe(true);
        expect(await store.releases.failPending("C1", 2)).toBe(false);
        expect(await store.releases.failPending("C1", 1)).toBe(false);
        expect((await store.releases.get("C1", 2))?.status).toBe("failed");
        expect((await store.releases.get("C1", 1))?.status).toBe("active");
      });

      it("sets a status and deletes one release", async () => {
        await store.releases.insert(release("C1", 1));
        await store.releases.insert(release("C1", 2));
        await store.releases.setStatus("C1", 1, "rolled-back");
        await store.releases.delete("C1", 2);
        expect(await store.releases.list("C1")).toEqual([release("C1", 1, { status: "rolled-back" })]);
      });
    });

    describe("switching releases", () => {
      beforeEach(async () => {
        await store.containers.insert(container("C1", { release: 1 }));
        await store.releases.insert(release("C1", 1, { status: "active" }));
        await store.releases.insert(release("C1", 2, { status: "pending" }));
      });
      const statuses = async () => (await store.releases.list("C1")).map((r) => `${r.number}:${r.status}`);

      it("makes the new release active and the replaced one previous, with the container's row", async () => {
        await store.containers.switchRelease("C1", 2, "previous");
        expect(await statuses()).toEqual(["2:active", "1:previous"]);
        expect((await store.containers.get("C1"))?.release).toBe(2);
      });

      it("marks the replaced release rolled back on a rollback", async () => {
        await store.containers.switchRelease("C1", 2, "previous");
        await store.containers.switchRelease("C1", 1, "rolled-back");
        expect(await statuses()).toEqual(["2:rolled-back", "1:active"]);
        expect((await store.containers.get("C1"))?.release).toBe(1);
      });

      it("leaves the replaced status alone when the release is already the container's", async () => {
        await store.containers.switchRelease("C1", 1, "rolled-back");
        expect(await statuses()).toEqual(["2:pending", "1:active"]);
      });

      it("activates a first release of a container that had none", async () => {
        await store.containers.insert(container("C2"));
        await store.releases.insert(release("C2", 1, { status: "pending" }));
        await store.containers.switchRelease("C2", 1, "previous");
        expect((await store.releases.get("C2", 1))?.status).toBe("active");
        expect((await store.containers.get("C2"))?.release).toBe(1);
      });

      it("writes nothing when it fails half-way (the release to activate does not exist)", async () => {
        // The replaced release is marked first: a switch that then fails must take that back too.
        await expect(store.containers.switchRelease("C1", 7, "previous")).rejects.toThrow();
        expect(await statuses()).toEqual(["2:pending", "1:active"]);
        expect((await store.containers.get("C1"))?.release).toBe(1);
      });
    });

    describe("activity", () => {
      const add = (owner: string, message: string, ts = 10_000, containerId?: string) =>
        store.activity.insert({ owner, level: "info", action: "test", message, containerId }, ts);
      const messages = (entries: Array<{ message: string }>) => entries.map((e) => e.message);

      it("gives back an entry as it was inserted, with growing ids", async () => {
        const first = await store.activity.insert(
          {
            owner: "alice",
            level: "warning",
            action: "container.exited",
            containerId: "C1",
            containerName: "web",
            message: "web exited",
            details: { exitCode: 3, nested: { ok: true } },
          },
          1_234,
        );
        const second = await add("alice", "next");
        expect(second.id).toBeGreaterThan(first.id);
        expect(await store.activity.history({ owner: "alice", limit: 1 })).toEqual([first]);
        expect(first).toEqual({
          id: first.id,
          ts: 1_234,
          level: "warning",
          action: "container.exited",
          containerId: "C1",
          containerName: "web",
          message: "web exited",
          details: { exitCode: 3, nested: { ok: true } },
        });
        expect(second).not.toHaveProperty("details");
        expect(second).not.toHaveProperty("containerId");
      });

      it("returns an owner's entries after an id, oldest first, with entries for everyone", async () => {
        const a1 = await add("alice", "a1");
        await add("bob", "b1");
        await add("*", "engine down");
        await add("alice", "a2", 10_000, "C0000000000A");
        expect(messages(await store.activity.history({ owner: "alice", afterId: a1.id, limit: 10 }))).toEqual(
          ["engine down", "a2"],
        );
        expect(
          messages(await store.activity.history({ owner: "alice", containerId: "C0000000000A", limit: 10 })),
        ).toEqual(["a2"]);
        expect(await store.activity.history({ owner: undefined, limit: 10 })).toHaveLength(4);
        expect(messages(await store.activity.history({ owner: undefined, limit: 2 }))).toEqual(["a1", "b1"]);
      });

      it("gives the newest entries with `newest`, still oldest first, and never another owner's", async () => {
        for (const m of ["a1", "a2", "a3"]) await add("alice", m);
        await add("bob", "b1");
        expect(messages(await store.activity.history({ owner: "alice", newest: true, limit: 2 }))).toEqual([
          "a2",
          "a3",
        ]);
        const [a1] = await store.activity.history({ owner: "alice", limit: 1 });
        expect(
          messages(
            await store.activity.history({ owner: "alice", afterId: a1?.id, newest: true, limit: 10 }),
          ),
        ).toEqual(["a2", "a3"]);
        expect(messages(await store.activity.history({ owner: "bob", newest: true, limit: 5 }))).toEqual([
          "b1",
        ]);
      });

      it("gives concurrent inserts distinct ids, and history returns every one in id order", async () => {
        const made = await Promise.all(
          Array.from({ length: 40 }, (_, i) => add(i % 2 ? "alice" : "bob", `m${i}`)),
        );
        const history = await store.activity.history({ owner: undefined, limit: 100 });
        expect(new Set(made.map((e) => e.id)).size).toBe(40);
        expect(history.map((e) => e.id)).toEqual(made.map((e) => e.id).sort((a, b) => a - b));
      });

      it("keeps at most the newest N entries per owner and drops entries past their age", async () => {
        const now = 100_000;
        await add("alice", "too old", now - 10_001);
        for (let i = 0; i < 5; i++) await add("alice", `a${i}`, now);
        for (let i = 0; i < 2; i++) await add("bob", `b${i}`, now);
        expect(await store.activity.prune(now - 10_000, 3)).toBe(3);
        expect(messages(await store.activity.history({ owner: "alice", limit: 10 }))).toEqual([
          "a2",
          "a3",
          "a4",
        ]);
        expect(messages(await store.activity.history({ owner: "bob", limit: 10 }))).toEqual(["b0", "b1"]);
        expect(await store.activity.prune(now - 10_000, 3)).toBe(0);
      });
    });

    describe("meta", () => {
      it("keeps one value per key, the last one set", async () => {
        expect(await store.meta.get("instance")).toBeUndefined();
        await store.meta.set("instance", "one");
        await store.meta.set("instance", "two");
        await store.meta.set("other", "x");
        expect(await store.meta.get("instance")).toBe("two");
        expect(await store.meta.get("other")).toBe("x");
      });
    });

    describe("owner usage", () => {
      it("reads each of an owner's containers: state, its own resources (or none), and every release's bytes", async () => {
        await store.containers.insert(
          container("C1", {
            state: "running",
            spec: { name: "c1", resources: { memoryMb: 128, cpus: 0.5 } },
          }),
        );
        await store.containers.insert(container("C2"));
        await store.containers.insert(container("C3", { owner: "bob", state: "running" }));
        await store.releases.insert(release("C1", 1, { bytes: 1000 }));
        await store.releases.insert(release("C1", 2, { bytes: 500 }));
        await store.releases.insert(release("C3", 1, { bytes: 7 }));
        const rows = (await store.usage.containersOf("alice")).sort((a, b) => a.id.localeCompare(b.id));
        expect(rows).toEqual([
          { id: "C1", state: "running", memoryMb: 128, cpus: 0.5, codeBytes: 1500 },
          { id: "C2", state: "created", memoryMb: null, cpus: null, codeBytes: 0 },
        ]);
        expect(await store.usage.containersOf("carol")).toEqual([]);
      });
    });

    it("closes twice without complaint", async () => {
      await store.close();
      await store.close();
    });
  });
}
