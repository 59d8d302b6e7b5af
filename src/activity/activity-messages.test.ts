import { describe, expect, it } from "vitest";
import type { StatusChange } from "../containers/container-manager.ts";
import { describeStatusChange } from "./activity-messages.ts";

const exited = (oomKilled: boolean): StatusChange =>
  ({
    info: { id: "c-1", name: "hog", owner: "bob", state: "exited", exitCode: 137, restartPolicy: "no" },
    from: "running",
    reason: "exited",
    oomKilled,
  }) as unknown as StatusChange;

describe("describeStatusChange", () => {
  it("names the memory limit a workload ran out of", () => {
    const draft = describeStatusChange(exited(true), () => 64 * 1024 * 1024);
    expect(draft).toMatchObject({
      action: "container.oom_killed",
      message: "'hog' ran out of memory (its limit is 64 MiB) and was stopped",
      details: { exitCode: 137, memoryLimitBytes: 64 * 1024 * 1024 },
    });
  });

  it("still tells an out-of-memory exit when the limit is not known", () => {
    expect(describeStatusChange(exited(true))?.message).toBe("'hog' ran out of memory and was stopped");
  });
});
