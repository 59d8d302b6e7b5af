import { BerthError, type ContainerProgressEvent } from "@berth/client";
import { describe, expect, it } from "vitest";
import { rollbackFacts } from "../src/actions/rollback-facts.ts";
import { addStep, type StepView, stepLabel } from "../src/actions/step-log.ts";
import { describeError } from "../src/errors/describe-error.ts";

const event = (
  step: string,
  status: ContainerProgressEvent["status"],
  ms?: number,
): ContainerProgressEvent => ({
  opId: "op",
  id: "c1",
  step: step as ContainerProgressEvent["step"],
  status,
  ...(ms === undefined ? {} : { ms }),
});

const wire = (code: string, message: string, details?: Record<string, unknown>) =>
  new BerthError({
    code: code as "VALIDATION_FAILED",
    message,
    category: "validation",
    retryable: false,
    ...(details ? { details } : {}),
  });

describe("the steps of an operation", () => {
  it("lists each step once, in the order berth ran them, changing in place as it ends", () => {
    let steps: StepView[] = [];
    for (const e of [
      event("write", "started"),
      event("write", "done", 3),
      event("ready", "started"),
      event("ready", "failed", 900),
      event("rollback:start", "started"),
    ])
      steps = addStep(steps, e);
    expect(steps).toEqual([
      { step: "write", status: "done", ms: 3 },
      { step: "ready", status: "failed", ms: 900 },
      { step: "rollback:start", status: "started" },
    ]);
    expect(stepLabel("rollback:ready")).toBe("roll back: wait for the workload's hello");
  });
});

describe("an error as the page shows it", () => {
  it("names the field of a VALIDATION_FAILED, from details.field or the first issue's path", () => {
    expect(describeError(wire("VALIDATION_FAILED", "x", { field: "code" })).field).toBe("code");
    const issues = { issues: [{ path: "resources.memoryMb", message: "too big" }] };
    expect(describeError(wire("VALIDATION_FAILED", "x", issues)).field).toBe("resources.memoryMb");
  });

  it("keeps the workload's last output of a NOT_READY, as lines of text", () => {
    const err = wire("NOT_READY", "The workload did not become ready.", {
      cause: "exited",
      output: ["boom", {}],
    });
    expect(describeError(err).output).toEqual(["boom"]);
  });

  it("says what to do for a code, and nothing of a non-berth error's text", () => {
    expect(describeError(wire("NAME_CONFLICT", "taken")).fix).toContain("another name");
    expect(describeError(wire("NAME_CONFLICT", "taken")).field).toBe("name");
    const view = describeError(new Error("secret internals at /var/lib/berth"));
    expect(view.code).toBe("UNKNOWN");
    expect(JSON.stringify(view)).not.toContain("/var/lib");
  });

  it("reads a rolled-back update's failed step, cause, exit code and output", () => {
    const err = wire("UPDATE_ROLLED_BACK", "Release 2 did not come up", {
      release: 2,
      restoredRelease: 1,
      failedStep: "ready",
      cause: "exited",
      exitCode: 3,
      output: ["boom", 42],
    });
    expect(rollbackFacts(err)).toEqual({
      release: 2,
      restoredRelease: 1,
      failedStep: "ready",
      cause: "exited",
      exitCode: 3,
      output: ["boom"],
    });
    expect(rollbackFacts(wire("NOT_FOUND", "no"))).toBeUndefined();
  });
});
