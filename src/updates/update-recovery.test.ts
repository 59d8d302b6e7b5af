import { mkdir, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { switchRelease } from "../code/release-pointer.ts";
import { CutByCrash } from "../containers/cut-by-crash.ts";
import { type InterruptedOperation, InterruptedOperations } from "../containers/interrupted-operation.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { type UpdaterFixture, updaterFixture } from "./testing/updater-fixture.ts";
import { recoverUpdates } from "./update-recovery.ts";

/** The recovery of updates a crash cut, through the lifecycle's steps only (a fake here, over the real store). */
describe("recovering updates a crash cut", () => {
  let f: UpdaterFixture;
  let told: InterruptedOperation[];
  const recover = (cut: CutByCrash) => {
    const interrupted = new InterruptedOperations();
    interrupted.on("interrupted", (i) => told.push(i));
    return recoverUpdates(
      { lifecycle: f.lifecycle, releases: f.store.releases, files: f.files, log: f.log, interrupted },
      cut,
    );
  };
  /** A berth started just now, after a crash that left everything as it is. */
  const afterCrash = async () => CutByCrash.of(await f.store.containers.all(), Date.now() + 1);
  /** What an update to release 2 leaves when berth dies after its switch: pointer on 2, store on 1, `updating`. */
  const cutAfterSwitch = async (): Promise<ContainerRecord> => {
    const c = await f.container({
      state: "updating",
      releases: [
        { number: 1, status: "active" },
        { number: 2, status: "pending" },
      ],
    });
    await switchRelease(f.paths.codeDir(c.id), 2);
    return c;
  };

  beforeEach(async () => {
    f = await updaterFixture();
    told = [];
  });
  afterEach(() => f.close());

  it("puts the pointer back, starts the workload on the active release, marks the pending one failed, and says so", async () => {
    const c = await cutAfterSwitch();
    await recover(await afterCrash());
    expect(f.lifecycle.steps).toEqual(["stop@2", "start@1", "reach running: interrupted update undone"]);
    expect(await readlink(join(f.paths.codeDir(c.id), "current"))).toBe("releases/1");
    expect((await f.store.releases.get(c.id, 2))?.status).toBe("failed");
    expect(await f.store.containers.get(c.id)).toMatchObject({ state: "running", release: 1 });
    expect(told).toMatchObject([{ id: c.id, op: "update", outcome: "undone" }]);
  });

  it("only marks failed a release cut while it was written, the workload never stopped, and sweeps the half-written leftovers", async () => {
    const c = await f.container({
      releases: [
        { number: 1, status: "active" },
        { number: 2, status: "pending" },
      ],
    });
    // Its staging directory half-written, as writeReleaseEntries names it; the pointer never moved.
    const releasesDir = join(f.paths.codeDir(c.id), "releases");
    await mkdir(join(releasesDir, "3.staging-4242-0123456789ab"), { recursive: true });
    await recover(await afterCrash());
    expect(f.lifecycle.steps).toEqual([]);
    expect((await f.store.releases.get(c.id, 2))?.status).toBe("failed");
    expect((await readdir(releasesDir)).sort()).toEqual(["1", "2"]);
    expect(told).toMatchObject([{ id: c.id, op: "update", outcome: "undone" }]);
  });

  it("starts again on the active release a workload recorded running on the new one before its switch was committed", async () => {
    // Cut between the gate's "running" and the commit: running, pointer on 2, store on 1, release 2 pending.
    const c = await f.container({
      state: "running",
      releases: [
        { number: 1, status: "active" },
        { number: 2, status: "pending" },
      ],
    });
    await switchRelease(f.paths.codeDir(c.id), 2);
    await recover(await afterCrash());
    expect(f.lifecycle.steps).toEqual(["stop@2", "start@1", "reach running: interrupted update undone"]);
    expect(await readlink(join(f.paths.codeDir(c.id), "current"))).toBe("releases/1");
    expect((await f.store.releases.get(c.id, 2))?.status).toBe("failed");
    expect(await f.store.containers.get(c.id)).toMatchObject({ state: "running", release: 1 });
    expect(told).toMatchObject([{ id: c.id, op: "update", outcome: "undone" }]);
  });

  it("leaves a container with an operation of this berth under way to that operation", async () => {
    const c = await cutAfterSwitch();
    f.lifecycle.busy.add(c.id);
    await recover(await afterCrash());
    expect(f.lifecycle.steps).toEqual([]);
    expect(await readlink(join(f.paths.codeDir(c.id), "current"))).toBe("releases/2");
    expect((await f.store.releases.get(c.id, 2))?.status).toBe("pending");
    expect(told).toEqual([]);
  });
});
