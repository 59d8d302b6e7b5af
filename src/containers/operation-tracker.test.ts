import { describe, expect, it } from "vitest";
import { BerthError } from "../errors/berth-error.ts";
import { type OperationOutcome, OperationTracker } from "./operation-tracker.ts";

function tracker(known: Set<string>) {
  const outcomes: OperationOutcome[] = [];
  return {
    outcomes,
    ops: new OperationTracker(
      async (id) => known.has(id),
      (o) => outcomes.push(o),
    ),
  };
}

const info = { id: "C1", state: "running", createdAt: 1 };

describe("OperationTracker", () => {
  it("reports a success with the container the answer names, and a failure with the id the error names", async () => {
    const { outcomes, ops } = tracker(new Set(["C1", "C2"]));
    await expect(ops.track("create", { owner: "alice", name: "bot" }, async () => info)).resolves.toBe(info);
    const failure = new BerthError("NOT_READY", "not ready", { details: { containerId: "C2" } });
    await expect(
      ops.track("create", { owner: "alice", name: "other" }, async () => Promise.reject(failure)),
    ).rejects.toBe(failure);
    expect(outcomes).toMatchObject([
      { op: "create", ok: true, owner: "alice", name: "bot", id: "C1", info, result: info },
      { op: "create", ok: false, owner: "alice", name: "other", id: "C2", error: failure },
    ]);
    expect(outcomes.every((o) => o.ms >= 0)).toBe(true);
  });

  it("answers with the container as it is when the answer goes out, after the report waited on the store", async () => {
    let health = "starting";
    let answer!: (known: boolean) => void;
    const ops = new OperationTracker(
      () => new Promise<boolean>((resolve) => (answer = resolve)),
      () => {},
      (latest) => ({ ...latest, health }) as typeof latest,
    );
    const answered = ops.track("create", { owner: "alice", name: "bot" }, async () => ({
      ...info,
      health: "starting",
    }));
    // While the report waits on the store, the health monitor judges the workload healthy (and pushes it).
    await new Promise((resolve) => setImmediate(resolve));
    health = "healthy";
    answer(true);
    expect(await answered).toMatchObject({ id: "C1", health: "healthy" });
  });

  it("takes an engine event for the echo of berth's operation while it runs, or if it is not later than its end", async () => {
    const { ops } = tracker(new Set(["C1"]));
    expect(ops.causedByBerth("C1", "die", Date.now(), "stop")).toBe(true);
    expect(ops.causedByBerth("C1", "die", Date.now(), "start")).toBe(false);
    expect(ops.causedByBerth("C1", "die", Date.now(), undefined)).toBe(false);

    // An event from before the operation ended, whatever time a loaded machine takes between its end and
    // the next line: read before it began.
    const during = Date.now();
    await ops.track("stop", { id: "C1", owner: "alice", name: "bot" }, async () => info);
    const endedAt = Date.now();
    expect(ops.causedByBerth("C1", "die", during, undefined)).toBe(true);
    expect(ops.causedByBerth("C1", "start", during, undefined)).toBe(false);
    expect(ops.causedByBerth("C1", "die", endedAt + 60_000, undefined)).toBe(false);
    expect(ops.causedByBerth("C1", "oom", during, "stop")).toBe(false);
  });

  it("forgets a container that no longer exists after its operation", async () => {
    const known = new Set(["C1"]);
    const { ops } = tracker(known);
    await ops.track("stop", { id: "C1", owner: "alice", name: "bot" }, async () => info);
    known.delete("C1");
    await ops.track("delete", { id: "C1", owner: "alice", name: "bot" }, async () => ({ deleted: true }));
    expect(ops.causedByBerth("C1", "die", 0, undefined)).toBe(false);
  });
});
