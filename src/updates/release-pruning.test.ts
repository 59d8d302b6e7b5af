import { access } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ReleaseStatus } from "#protocol";
import type { ContainerRecord } from "../store/store-ports.ts";
import { ReleasePruning } from "./release-pruning.ts";
import { unremovable } from "./testing/unremovable-paths.ts";
import { type UpdaterFixture, updaterFixture } from "./testing/updater-fixture.ts";

// `rm` as node:fs has it, except under a path a test has made unremovable.
vi.mock("node:fs/promises", async (importOriginal) =>
  (await import("./testing/unremovable-paths.ts")).withUnremovablePaths(importOriginal),
);

describe("pruning releases (BERTH_KEEP_RELEASES=2)", () => {
  let f: UpdaterFixture;
  let pruning: ReleasePruning;
  const make = (statuses: ReleaseStatus[]) =>
    f.container({ releases: statuses.map((status, i) => ({ number: i + 1, status })) });
  const kept = async (c: ContainerRecord) => (await f.store.releases.list(c.id)).map((r) => r.number);
  const onDisk = (c: ContainerRecord, n: number) =>
    access(f.paths.releaseDir(c.id, n)).then(
      () => true,
      () => false,
    );

  beforeEach(async () => {
    unremovable.clear();
    f = await updaterFixture();
    pruning = new ReleasePruning(f.store.releases, f.files, 2, f.log);
  });
  afterEach(() => f.close());

  it("keeps the newest two after a good update, directories and rows alike", async () => {
    const c = await make(["failed", "rolled-back", "previous", "active"]);
    await pruning.prune(c.id, 4);
    expect(await kept(c)).toEqual([4, 3]);
    expect(await onDisk(c, 1)).toBe(false);
    expect(await onDisk(c, 2)).toBe(false);
    expect(await onDisk(c, 4)).toBe(true);
  });

  it("always keeps the active release, however old", async () => {
    const c = await make(["active", "rolled-back", "failed", "failed"]);
    await pruning.prune(c.id, 1);
    expect(await kept(c)).toEqual([4, 3, 1]);
  });

  it("after a failed update, removes only the oldest failed releases, while more than two are kept", async () => {
    const c = await make(["failed", "previous", "failed", "active", "failed"]);
    await pruning.pruneFailed(c.id);
    // Five kept, two allowed: three go, but only failed ones — the previous and active stay.
    expect(await kept(c)).toEqual([4, 2]);
  });

  it("removes nothing after a failed update when no more than two are kept", async () => {
    const c = await make(["active", "failed"]);
    await pruning.pruneFailed(c.id);
    expect(await kept(c)).toEqual([2, 1]);
  });

  it("keeps the row (still counted by the code quota) of a release whose directory cannot be removed, and removes it next time", async () => {
    const c = await make(["previous", "previous", "active"]);
    unremovable.add(f.paths.releaseDir(c.id, 1));
    await pruning.prune(c.id, 3);
    expect(await kept(c)).toEqual([3, 2, 1]);
    expect(await onDisk(c, 1)).toBe(true);
    unremovable.clear();
    await pruning.prune(c.id, 3);
    expect(await kept(c)).toEqual([3, 2]);
    expect(await onDisk(c, 1)).toBe(false);
  });
});
