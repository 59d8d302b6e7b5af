import { describe, expect, it } from "vitest";
import type { StatusChange } from "../containers/container-manager.ts";
import { MOVED, NODE_LOST } from "../containers/relocation-reasons.ts";
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

  it("tells a workload's move off a lost host (cluster mode) in two steps, in plain words", () => {
    const change = (state: string, from: string, reason: string) =>
      ({
        info: { id: "c-2", name: "bot", owner: "alice", state, restartPolicy: "no" },
        from,
        reason,
      }) as unknown as StatusChange;
    expect(describeStatusChange(change("restarting", "running", NODE_LOST))).toMatchObject({
      owner: "alice",
      level: "warning",
      action: "container.host_lost",
      message: "The host 'bot' ran on was lost; berth is starting it on another host",
    });
    expect(describeStatusChange(change("running", "restarting", MOVED))).toMatchObject({
      level: "info",
      action: "container.moved",
      message: "'bot' runs again, on another host",
    });
  });
});
