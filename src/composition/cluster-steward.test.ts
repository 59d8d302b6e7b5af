import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import type { ChangeNoticesEvents } from "../cluster/pg-change-notices.ts";
import type { CutByCrash } from "../containers/cut-by-crash.ts";
import type { Reconciliation } from "../containers/reconciliation.ts";
import type { RestartSupervisor } from "../containers/restart-supervisor.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { EngineEventWatcher } from "../monitoring/engine-event-watcher.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { containerRecord } from "../store/testing/container-record.ts";
import { ClusterSteward } from "./cluster-steward.ts";

const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});

/** A steward over fakes that write down, in order, what the steward asked of each part. */
function stewardOver(rows: ContainerRecord[], passEveryMs = 60_000) {
  const calls: string[] = [];
  const cuts: CutByCrash[] = [];
  let settle: (() => void) | undefined;
  const states = new EventEmitter<ChangeNoticesEvents>();
  const steward = new ClusterSteward({
    reconciliation: {
      start: (cut: CutByCrash) => {
        cuts.push(cut);
        calls.push("reconciliation.start");
      },
      run: async () => {
        calls.push("reconciliation.run");
      },
      stop: () => calls.push("reconciliation.stop"),
    } as unknown as Reconciliation,
    events: {
      start: () => calls.push("events.start"),
      stop: async () => {
        calls.push("events.stop");
      },
    } as unknown as EngineEventWatcher,
    restarts: {
      resume: async () => {
        calls.push("restarts.resume");
      },
      forgetAll: () => calls.push("restarts.forgetAll"),
    } as unknown as RestartSupervisor,
    health: { untrackAll: () => calls.push("health.untrackAll") },
    running: {
      recheck: (id: string) => calls.push(`recheck ${id}`),
      // The follower's changes end when the test says: the health watch must be dropped after them.
      settled: () =>
        new Promise<void>((resolve) => {
          settle = resolve;
        }),
    },
    repo: { all: async () => rows },
    states,
    log,
    passEveryMs,
  });
  return { steward, calls, cuts, states, settleFollower: () => settle?.() };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("ClusterSteward", () => {
  it("at its term's start follows the engines' events, watches every row, reconciles what is cut, and makes the restarts due", async () => {
    const running = containerRecord("C1", 20_001, { state: "running", dockerId: "n1:def" });
    const cut = containerRecord("C2", 20_002, { state: "stopping", dockerId: "n1:abc" });
    const { steward, calls, cuts } = stewardOver([running, cut]);
    const term = new AbortController();
    steward.lead(term.signal);
    await vi.waitFor(() => expect(calls).toContain("restarts.resume"));
    term.abort();
    expect(calls).toEqual([
      "events.start",
      "recheck C1",
      "recheck C2",
      "reconciliation.start",
      "reconciliation.run",
      "restarts.resume",
      "reconciliation.stop",
      "restarts.forgetAll",
      "events.stop",
    ]);
    // The rows as they were read: a row in the midst of an operation is one a crash may have cut.
    expect(cuts[0]?.holds(cut)).toBe(true);
    expect(cuts[0]?.holds(running)).toBe(false);
  });

  it("follows every state change the store tells while it leads, and none after its term ends", async () => {
    const { steward, calls, states, settleFollower } = stewardOver([]);
    const term = new AbortController();
    steward.lead(term.signal);
    await tick();
    states.emit("changed", "C9");
    expect(calls).toContain("recheck C9");
    expect(steward.leading).toBe(true);

    term.abort();
    expect(steward.leading).toBe(false);
    expect(calls.slice(-3)).toEqual(["reconciliation.stop", "restarts.forgetAll", "events.stop"]);
    // The health watch is dropped once the follower's changes under way are done, not before.
    expect(calls).not.toContain("health.untrackAll");
    settleFollower();
    await tick();
    expect(calls.at(-1)).toBe("health.untrackAll");
    const before = calls.length;
    states.emit("changed", "C10");
    expect(calls).toHaveLength(before);
  });

  it("reads every row again when the notices are heard again after a gap", async () => {
    const { steward, calls, states } = stewardOver([containerRecord("C1", 20_001, { state: "running" })]);
    const term = new AbortController();
    steward.lead(term.signal);
    await tick();
    const before = calls.filter((c) => c === "recheck C1").length;
    states.emit("reset", false);
    await tick();
    expect(calls.filter((c) => c === "recheck C1")).toHaveLength(before);
    states.emit("reset", true);
    await tick();
    expect(calls.filter((c) => c === "recheck C1")).toHaveLength(before + 1);
    term.abort();
  });

  it("passes again every interval while it leads (what a killed server left), and stops with its term", async () => {
    const { steward, calls } = stewardOver([], 20);
    const term = new AbortController();
    steward.lead(term.signal);
    await new Promise((resolve) => setTimeout(resolve, 110));
    const passes = calls.filter((c) => c === "reconciliation.run").length;
    expect(passes).toBeGreaterThanOrEqual(2);
    term.abort();
    await steward.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(calls.filter((c) => c === "reconciliation.run")).toHaveLength(passes);
  });

  it("stops leading at close(), and leads no term after it", async () => {
    const { steward, calls } = stewardOver([]);
    steward.lead(new AbortController().signal);
    await steward.close();
    expect(steward.leading).toBe(false);
    expect(calls).toContain("events.stop");
    const before = calls.length;
    steward.lead(new AbortController().signal);
    expect(calls).toHaveLength(before);
  });
});
