import { readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { packRelease } from "../code/pack-release.ts";
import type { StepReport } from "../progress/step-timer.ts";
import { CodeUpdater } from "./code-updater.ts";
import { type UpdaterFixture, updaterFixture } from "./testing/updater-fixture.ts";

const alice = { owner: "alice", admin: false };
const code = (text: string) => ({ files: { "index.js": text } });

/** The updater over a fake LifecycleSteps and the real SQLite store: what it asks of lifecycle, step by step. */
describe("CodeUpdater through its port of lifecycle steps", () => {
  let f: UpdaterFixture;
  let updater: CodeUpdater;

  beforeEach(async () => {
    f = await updaterFixture({ BERTH_KEEP_RELEASES: "2" });
    updater = new CodeUpdater({
      config: f.config,
      lifecycle: f.lifecycle,
      releases: f.store.releases,
      containers: f.store.containers,
      channel: { request: async () => ({ ok: true }) },
      files: f.files,
      log: f.log,
    });
  });
  afterEach(() => f.close());

  const statuses = async (id: string) =>
    Object.fromEntries((await f.store.releases.list(id)).map((r) => [r.number, r.status]));

  it("writes the new release, switches to it through the gate, and commits it in the store", async () => {
    const c = await f.container();
    const reports: StepReport[] = [];
    const result = await updater.update(
      alice,
      c.name,
      { code: code("v2") },
      { onStep: (r) => reports.push(r) },
    );
    expect(result).toMatchObject({ id: c.id, release: 2, previousRelease: 1 });
    expect(f.lifecycle.steps).toEqual([
      "reach updating: switching to release 2",
      "stop@1",
      "start@2",
      "ready@2",
      "reach running: release 2 is running",
    ]);
    expect(f.lifecycle.operations).toEqual([{ op: "update", id: c.id, ok: true }]);
    expect(await statuses(c.id)).toEqual({ 2: "active", 1: "previous" });
    expect(await f.store.containers.get(c.id)).toMatchObject({ state: "running", release: 2 });
    expect(await readFile(join(f.paths.releaseDir(c.id, 2), "index.js"), "utf8")).toBe("v2");
    expect(reports.filter((r) => r.status === "done").map((r) => r.step)).toEqual([
      "validate",
      "write",
      "stop",
      "switch",
      "start",
      "ready",
    ]);
  });

  it("checks the code before taking the container's turn, and writes nothing when it is refused", async () => {
    const c = await f.container();
    f.lifecycle.busy.add(c.id);
    f.lifecycle.checkEntries = async () => {
      throw Object.assign(new Error("no index.js"), { code: "VALIDATION_FAILED" });
    };
    await expect(updater.update(alice, c.name, { code: code("v2") })).rejects.toThrow("no index.js");
    expect(f.lifecycle.steps).toEqual([]);
    expect(await statuses(c.id)).toEqual({ 1: "active" });
  });

  it("answers CONFLICT, having written nothing, while another operation is under way on the container", async () => {
    const c = await f.container();
    f.lifecycle.busy.add(c.id);
    await expect(updater.update(alice, c.name, { code: code("v2") })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect(await statuses(c.id)).toEqual({ 1: "active" });
    expect(f.lifecycle.operations).toEqual([{ op: "update", id: c.id, ok: false }]);
  });

  it("refuses to update a container that is being removed or is missing, before writing anything", async () => {
    for (const state of ["removing", "missing"] as const) {
      const c = await f.container({ state });
      await expect(updater.update(alice, c.name, { code: code("v2") })).rejects.toMatchObject({
        code: "CONFLICT",
        details: { state },
      });
      expect(await statuses(c.id)).toEqual({ 1: "active" });
    }
  });

  it("keeps the failed release for its owner to see, rolled back, with the old one still active", async () => {
    const c = await f.container();
    f.lifecycle.onReady = async (release) => {
      if (release === 2) throw Object.assign(new Error("no hello"), { code: "NOT_READY" });
    };
    await expect(updater.update(alice, c.name, { code: code("bad") })).rejects.toMatchObject({
      code: "UPDATE_ROLLED_BACK",
    });
    expect(await statuses(c.id)).toEqual({ 2: "failed", 1: "active" });
    expect(await f.store.containers.get(c.id)).toMatchObject({ state: "running", release: 1 });
    expect(await readlink(join(f.paths.codeDir(c.id), "current"))).toBe("releases/1");
  });

  it("prunes to the newest two releases after good updates, and the oldest failed ones after bad ones", async () => {
    const c = await f.container();
    await updater.update(alice, c.name, { code: code("v2") });
    await updater.update(alice, c.name, { code: code("v3") });
    expect(await statuses(c.id)).toEqual({ 3: "active", 2: "previous" });

    f.lifecycle.onReady = async (release) => {
      if (release !== 3) throw Object.assign(new Error("no hello"), { code: "NOT_READY" });
    };
    await expect(updater.update(alice, c.name, { code: code("bad") })).rejects.toMatchObject({
      code: "UPDATE_ROLLED_BACK",
    });
    // Three kept after the failure, two allowed: the failed one goes, never the active or the previous one.
    expect(await statuses(c.id)).toEqual({ 3: "active", 2: "previous" });
    expect(f.lifecycle.steps.at(-1)).toBe("reach running: rolled back to release 3");
  });

  it("rolls back to the previous release through the same gate, and marks the one it replaced rolled-back", async () => {
    const c = await f.container();
    await updater.update(alice, c.name, { code: code("v2") });
    f.lifecycle.steps.length = 0;
    const result = await updater.rollback(alice, c.name, undefined);
    expect(result).toMatchObject({ release: 1, previousRelease: 2 });
    expect(f.lifecycle.steps).toEqual([
      "reach updating: switching to release 1",
      "stop@2",
      "start@1",
      "ready@1",
      "reach running: release 1 is running",
    ]);
    expect(await statuses(c.id)).toEqual({ 2: "rolled-back", 1: "active" });
    expect(f.lifecycle.operations.at(-1)).toEqual({ op: "rollback", id: c.id, ok: true });
  });

  it("refuses a rollback to the active release, to a pending one, or when there is no previous one", async () => {
    const c = await f.container({
      releases: [
        { number: 1, status: "active" },
        { number: 2, status: "pending" },
      ],
    });
    await expect(updater.rollback(alice, c.name, 1)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(updater.rollback(alice, c.name, 2)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(updater.rollback(alice, c.name, undefined)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(f.lifecycle.steps).toEqual([]);
  });

  it("lists a container's releases, newest first, only to whom may see it", async () => {
    const c = await f.container();
    await updater.update(alice, c.name, { code: code("v2") });
    expect((await updater.releases(alice, c.name)).map((r) => [r.number, r.status])).toEqual([
      [2, "active"],
      [1, "previous"],
    ]);
    await expect(updater.releases({ owner: "bob", admin: false }, c.id)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("shows a release's own fields only: not its container's id, nor its content's digest", async () => {
    const c = await f.container();
    const packed = packRelease([{ path: "index.js", kind: "file", mode: 0o644, content: Buffer.from("v2") }]);
    await f.store.releaseContents.put(packed.digest, packed.bytes);
    await f.store.releases.insert({
      containerId: c.id,
      number: 2,
      status: "failed",
      createdAt: 5_000,
      createdBy: "alice",
      bytes: 2,
      files: 1,
      hash: "h2",
      contentDigest: packed.digest,
    });
    const shown = await updater.releases(alice, c.name);
    expect(shown).toHaveLength(2);
    for (const release of shown) {
      expect(Object.keys(release).sort()).toEqual([
        "bytes",
        "createdAt",
        "createdBy",
        "files",
        "hash",
        "number",
        "status",
      ]);
    }
    expect(shown[0]).toEqual({
      number: 2,
      status: "failed",
      createdAt: 5_000,
      createdBy: "alice",
      bytes: 2,
      files: 1,
      hash: "h2",
    });
  });
});
