import { readlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UpdateStep } from "#protocol";
import { NotReadyError } from "../containers/readiness.ts";
import { BerthError } from "../errors/berth-error.ts";
import { StepTimer } from "../progress/step-timer.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { type GatedSwitchOptions, gatedSwitch } from "./gated-switch.ts";
import { type UpdaterFixture, updaterFixture } from "./testing/updater-fixture.ts";

describe("the gated switch (stop, switch, start, ready, health; or back)", () => {
  let f: UpdaterFixture;
  let record: ContainerRecord;
  let options: GatedSwitchOptions;
  let health: () => Promise<unknown>;
  const pointer = () => readlink(join(f.paths.codeDir(record.id), "current"));
  const status = async (n: number) => (await f.store.releases.get(record.id, n))?.status;
  const state = async () => (await f.store.containers.get(record.id))?.state;
  const switchTo = (release: number, request = {}) =>
    gatedSwitch(options, record, release, request, f.log, new StepTimer<UpdateStep>(record.id));
  const notReady = async () => {
    throw new NotReadyError("exited", "exited", { exitCode: 1, output: ["crash"] });
  };

  beforeEach(async () => {
    f = await updaterFixture();
    // Release 2 written and pending, as an update leaves it before its switch.
    record = await f.container({
      releases: [
        { number: 1, status: "active" },
        { number: 2, status: "pending" },
      ],
    });
    health = async () => ({ ok: true });
    options = {
      lifecycle: f.lifecycle,
      channel: { request: () => health() },
      releases: f.store.releases,
      files: f.files,
      readyTimeoutMs: 1_000,
    };
  });
  afterEach(() => f.close());

  it("stops the workload on the old release, switches, and starts the new one, which it records running", async () => {
    await switchTo(2);
    expect(f.lifecycle.steps).toEqual([
      "reach updating: switching to release 2",
      "stop@1",
      "start@2",
      "ready@2",
      "reach running: release 2 is running",
    ]);
    expect(await pointer()).toBe("releases/2");
    expect(await state()).toBe("running");
    // Committing the release rows is the caller's: the switch leaves them as they were.
    expect(await status(2)).toBe("pending");
  });

  it("rolls back to the release that ran before when the new one never says hello, and says what failed", async () => {
    f.lifecycle.onReady = async (release) => {
      if (release === 2) await notReady();
    };
    const err = await switchTo(2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({
      code: "UPDATE_ROLLED_BACK",
      details: {
        release: 2,
        restoredRelease: 1,
        failedStep: "ready",
        cause: "exited",
        exitCode: 1,
        output: ["crash"],
      },
    });
    expect(f.lifecycle.steps).toEqual([
      "reach updating: switching to release 2",
      "stop@1",
      "start@2",
      "ready@2",
      "stop@2",
      "start@1",
      "ready@1",
      "reach running: rolled back to release 1",
    ]);
    expect(await pointer()).toBe("releases/1");
    expect(await status(2)).toBe("failed");
    expect(await state()).toBe("running");
  });

  it("gives the release it rolls back to at least the server's readiness wait, however short the new one's", async () => {
    f.lifecycle.onReady = async (release) => {
      if (release === 2) await notReady();
    };
    await expect(switchTo(2, { readyTimeoutMs: 200 })).rejects.toMatchObject({ code: "UPDATE_ROLLED_BACK" });
    expect(f.lifecycle.readyTimeouts).toEqual([200, 1_000]);
    // A longer one asked for is kept for both.
    f.lifecycle.readyTimeouts.length = 0;
    await expect(switchTo(2, { readyTimeoutMs: 5_000 })).rejects.toMatchObject({
      code: "UPDATE_ROLLED_BACK",
    });
    expect(f.lifecycle.readyTimeouts).toEqual([5_000, 5_000]);
  });

  it("rolls back when the health check the request names is not answered as expected", async () => {
    health = async () => ({ ok: false });
    await expect(switchTo(2, { healthCheck: { request: {}, expect: { ok: true } } })).rejects.toMatchObject({
      code: "UPDATE_ROLLED_BACK",
      details: { failedStep: "health", cause: "health_mismatch" },
    });
    expect(await pointer()).toBe("releases/1");
  });

  it("marks the container failed and answers ROLLBACK_FAILED when the old release does not come back either", async () => {
    f.lifecycle.onReady = notReady;
    await expect(switchTo(2)).rejects.toMatchObject({
      code: "ROLLBACK_FAILED",
      details: { release: 2, restoredRelease: 1, rollbackStep: "ready", rollbackCause: "exited" },
    });
    expect(f.lifecycle.steps.at(-1)).toBe("reach failed: rollback failed");
    expect(await state()).toBe("failed");
    expect(await status(2)).toBe("failed");
    // The pointer is back on the old release, whose start failed: what the owner fixes or restarts.
    expect(await pointer()).toBe("releases/1");
  });

  it("brings the old release back up, unswitched, when the stop fails, and answers the stop's error", async () => {
    f.lifecycle.onStop = async () => {
      throw new BerthError("DOCKER_ERROR", "stop refused");
    };
    await expect(switchTo(2)).rejects.toMatchObject({ code: "DOCKER_ERROR", message: "stop refused" });
    expect(f.lifecycle.steps).toEqual([
      "reach updating: switching to release 2",
      "stop@1",
      "start@1",
      "ready@1",
      "reach running: update abandoned",
    ]);
    expect(await pointer()).toBe("releases/1");
    expect(await status(2)).toBe("failed");
  });

  it("records the container failed when, after a failed stop, the old release will not start again", async () => {
    f.lifecycle.onStop = async () => {
      throw new BerthError("DOCKER_ERROR", "stop refused");
    };
    f.lifecycle.onStart = async () => {
      throw new BerthError("DOCKER_ERROR", "start refused");
    };
    await expect(switchTo(2)).rejects.toMatchObject({ message: "stop refused" });
    expect(f.lifecycle.steps.at(-1)).toBe("reach failed: update failed");
    expect(await state()).toBe("failed");
  });

  it("switches a stopped container and leaves it running: an update always ends with the workload up", async () => {
    await f.store.containers.update(record.id, { state: "stopped" });
    record.state = "stopped";
    await switchTo(2);
    expect(await state()).toBe("running");
  });
});
