import type { ActivityEntry, ReleaseInfo, ReleaseStatus } from "@berth/client";
import { describe, expect, it } from "vitest";
import { changesReleases, describeCause, releaseRows } from "../src/releases/release-rows.ts";

const release = (number: number, status: ReleaseStatus): ReleaseInfo => ({
  number,
  status,
  createdAt: number * 1_000,
  createdBy: "alice",
  bytes: 100,
  files: 1,
  hash: `h${number}`,
});

let ids = 0;
const entry = (action: string, details: Record<string, unknown>, ts = 9_000): ActivityEntry => ({
  id: ++ids,
  ts,
  level: "error",
  action,
  containerId: "c1",
  message: `${action} ${JSON.stringify(details)}`,
  details,
});

describe("the release history's rows", () => {
  it("joins each failed release with the step and cause the feed told, by release number", () => {
    const rows = releaseRows(
      [release(3, "failed"), release(2, "active"), release(1, "previous")],
      [
        entry("container.update_rolled_back", {
          code: "UPDATE_ROLLED_BACK",
          release: 3,
          restoredRelease: 2,
          failedStep: "ready",
          cause: "exited",
          exitCode: 1,
        }),
        entry("container.updated", { release: 2 }),
      ],
    );
    expect(rows.map((r) => r.release.number)).toEqual([3, 2, 1]);
    expect(rows[0]!.failure).toMatchObject({
      failedStep: "ready",
      cause: "exited",
      exitCode: 1,
      rollbackFailed: false,
    });
    expect(describeCause(rows[0]!.failure!)).toBe("the workload exited (exit code 1)");
    expect(rows[1]!.failure).toBeUndefined();
  });

  it("takes the newest failure of a release that failed twice, and the output when the feed kept it", () => {
    const rows = releaseRows(
      [release(2, "failed"), release(1, "active")],
      [
        entry("container.update_rolled_back", { release: 2, failedStep: "ready", cause: "timeout" }),
        entry("container.rollback_rollback_failed", {
          release: 2,
          failedStep: "health",
          cause: "health_error",
          output: ["late", 7],
        }),
      ],
    );
    expect(rows[0]!.failure).toMatchObject({ failedStep: "health", rollbackFailed: true, output: ["late"] });
  });

  it("offers a rollback on good releases older than the active one only", () => {
    const rows = releaseRows(
      [
        release(5, "rolled-back"),
        release(4, "active"),
        release(3, "failed"),
        release(2, "previous"),
        release(1, "rolled-back"),
      ],
      [],
    );
    expect(rows.filter((r) => r.canRollBack).map((r) => r.release.number)).toEqual([2, 1]);
    expect(rows[2]!.failure).toBeUndefined();
  });

  it("offers every good release when none is active (the last rollback failed)", () => {
    const rows = releaseRows([release(2, "failed"), release(1, "previous")], []);
    expect(rows.map((r) => r.canRollBack)).toEqual([false, true]);
  });

  it("reads the list again after the feed's updates and rollbacks only", () => {
    expect(changesReleases(entry("container.updated", {}))).toBe(true);
    expect(changesReleases(entry("container.update_rolled_back", {}))).toBe(true);
    expect(changesReleases(entry("container.rolled_back", {}))).toBe(true);
    expect(changesReleases(entry("container.started", {}))).toBe(false);
  });
});
