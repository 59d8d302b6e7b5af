import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UpdateStep } from "#protocol";
import { NotReadyError } from "../containers/readiness.ts";
import { BerthError } from "../errors/berth-error.ts";
import { type StepReport, StepTimer } from "../progress/step-timer.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { type GateChannel, passGate } from "./release-gate.ts";
import { type UpdaterFixture, updaterFixture } from "./testing/updater-fixture.ts";

describe("the gate a release passes (start, ready, health)", () => {
  let f: UpdaterFixture;
  let record: ContainerRecord;
  let reports: StepReport[];
  let timer: StepTimer<UpdateStep>;
  let health: GateChannel["request"];
  const gate = () => ({
    lifecycle: f.lifecycle,
    channel: { request: (...a: Parameters<GateChannel["request"]>) => health(...a) },
  });
  const steps = () => reports.map((r) => `${r.step} ${r.status}`);

  beforeEach(async () => {
    f = await updaterFixture();
    record = await f.container();
    reports = [];
    timer = new StepTimer<UpdateStep>(record.id, (r) => reports.push(r));
    health = async () => ({ ok: true });
  });
  afterEach(() => f.close());

  it("passes when the workload starts and says hello, with no health check asked", async () => {
    await expect(passGate(gate(), record, 1_000, undefined, timer, "")).resolves.toBeUndefined();
    expect(f.lifecycle.steps).toEqual(["start@1", "ready@1"]);
    expect(steps()).toEqual(["start started", "start done", "ready started", "ready done"]);
  });

  it("passes a health check whose answer holds what it expects, and measures it as `health`", async () => {
    const asked: unknown[] = [];
    health = async (_id, data, opts) => {
      asked.push(data, opts);
      return { ok: true, extra: 1 };
    };
    const check = { request: { ping: 1 }, expect: { ok: true } };
    await expect(passGate(gate(), record, 1_000, check, timer, "")).resolves.toBeUndefined();
    expect(asked).toEqual([{ ping: 1 }, { timeoutMs: 5_000 }]);
    expect(steps()).toContain("health done");
  });

  it("fails at restart when the workload cannot be started, quoting the error as its owner may see it", async () => {
    f.lifecycle.onStart = async () => {
      throw new BerthError("DOCKER_ERROR", "no such image");
    };
    await expect(passGate(gate(), record, 1_000, undefined, timer, "")).resolves.toEqual({
      failedStep: "restart",
      cause: "start_failed",
      output: [],
      message: "«no such image»",
    });
    expect(steps()).toEqual(["start started", "start failed"]);
  });

  it("says only 'an internal error' of an error that is not berth's own", async () => {
    f.lifecycle.onStart = async () => {
      throw new Error("EACCES /var/lib/secret-path");
    };
    expect((await passGate(gate(), record, 1_000, undefined, timer, ""))?.message).toBe("an internal error");
  });

  it("fails at ready with the cause, exit code and output the readiness wait found", async () => {
    f.lifecycle.onReady = async () => {
      throw new NotReadyError("exited", "exited", { exitCode: 3, output: ["boom"] });
    };
    f.lifecycle.output = ["not this"];
    await expect(passGate(gate(), record, 1_000, undefined, timer, "")).resolves.toMatchObject({
      failedStep: "ready",
      cause: "exited",
      exitCode: 3,
      output: ["boom"],
    });
  });

  it("fails at ready on a timeout with the workload's recent output when the wait brought none", async () => {
    f.lifecycle.onReady = async () => {
      throw new NotReadyError("timeout", "no hello");
    };
    f.lifecycle.output = ["listening on nothing"];
    const failure = await passGate(gate(), record, 1_000, undefined, timer, "");
    expect(failure).toMatchObject({
      failedStep: "ready",
      cause: "timeout",
      output: ["listening on nothing"],
    });
    expect(failure).not.toHaveProperty("exitCode");
  });

  it("fails at health when the answer is not what the check expects", async () => {
    health = async () => ({ ok: false });
    f.lifecycle.output = ["degraded"];
    const check = { request: {}, expect: { ok: true } };
    await expect(passGate(gate(), record, 1_000, check, timer, "")).resolves.toMatchObject({
      failedStep: "health",
      cause: "health_mismatch",
      output: ["degraded"],
    });
    expect(steps().at(-1)).toBe("health failed");
  });

  it("fails at health when the check errs, quoting the workload's error through presentWorkloadText", async () => {
    health = async () => {
      throw new BerthError("WORKLOAD_ERROR", "db down");
    };
    await expect(passGate(gate(), record, 1_000, { request: {} }, timer, "")).resolves.toMatchObject({
      failedStep: "health",
      cause: "health_error",
      message: "its health check failed: «db down»",
    });
  });

  it("names its steps rollback:start and rollback:ready when it brings the previous release back", async () => {
    await passGate(gate(), record, 1_000, undefined, timer, "rollback:");
    expect(steps()).toEqual([
      "rollback:start started",
      "rollback:start done",
      "rollback:ready started",
      "rollback:ready done",
    ]);
  });
});
