import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { CutByCrash } from "./cut-by-crash.ts";
import { RECONCILE_RETRY_MS, Reconciliation } from "./reconciliation.ts";

function logged() {
  const lines: string[] = [];
  const destination = new PassThrough();
  destination.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  return { lines, log: createSystemLogger({ level: "info", redactor: new Redactor(), destination }) };
}

/** A reconcile that answers `failed` from the list, one a pass (the last one after that), and counts the passes. */
function passes(failed: number[]) {
  const seen: CutByCrash[] = [];
  return {
    seen,
    reconcile: async (cut: CutByCrash) => {
      seen.push(cut);
      return { failed: failed[Math.min(seen.length, failed.length) - 1] ?? 0 };
    },
  };
}

describe("Reconciliation", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs a pass again 10 s after one the engine refused a step of, until a pass gets everything done", async () => {
    const engine = passes([2, 1, 0]);
    const reconciliation = new Reconciliation({
      reconcile: engine.reconcile,
      afterPass: [],
      log: logged().log,
    });
    await reconciliation.run();
    expect(engine.seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(RECONCILE_RETRY_MS - 1);
    expect(engine.seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.seen).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(RECONCILE_RETRY_MS);
    expect(engine.seen).toHaveLength(3);
    // The third got everything done: no more retries.
    await vi.advanceTimersByTimeAsync(10 * RECONCILE_RETRY_MS);
    expect(engine.seen).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("looks again 10 s after a pass that left a row to an operation under way (its failure may leave an engine container)", async () => {
    const reports = [
      { failed: 0, busy: 1 },
      { failed: 0, busy: 0 },
    ];
    let passesRun = 0;
    const reconciliation = new Reconciliation({
      reconcile: async () => reports[Math.min(passesRun++, reports.length - 1)]!,
      afterPass: [],
      log: logged().log,
    });
    await reconciliation.run();
    await vi.advanceTimersByTimeAsync(RECONCILE_RETRY_MS);
    expect(passesRun).toBe(2);
    await vi.advanceTimersByTimeAsync(10 * RECONCILE_RETRY_MS);
    expect(passesRun).toBe(2);
  });

  it("stops retrying once closed, and runs no pass after", async () => {
    const engine = passes([1]);
    const reconciliation = new Reconciliation({
      reconcile: engine.reconcile,
      afterPass: [],
      log: logged().log,
    });
    await reconciliation.run();
    expect(vi.getTimerCount()).toBe(1);
    reconciliation.close();
    expect(vi.getTimerCount()).toBe(0);
    await reconciliation.run();
    await vi.advanceTimersByTimeAsync(10 * RECONCILE_RETRY_MS);
    expect(engine.seen).toHaveLength(1);
  });

  it("schedules no retry for a pass that ends after close()", async () => {
    let finish: (report: { failed: number }) => void = () => {};
    const reconciliation = new Reconciliation({
      reconcile: () => new Promise((resolve) => (finish = resolve)),
      afterPass: [],
      log: logged().log,
    });
    const pass = reconciliation.run();
    reconciliation.close();
    finish({ failed: 3 });
    await pass;
    expect(vi.getTimerCount()).toBe(0);
  });

  it("gives every pass the crash's cut, runs the steps after each pass in order, and the first-pass step once", async () => {
    const engine = passes([1, 0]);
    const steps: string[] = [];
    const reconciliation = new Reconciliation({
      reconcile: engine.reconcile,
      afterPass: [
        async (cut) => {
          steps.push(`recover ${cut === crash}`);
        },
        async () => {
          steps.push("protect");
        },
      ],
      afterFirstPass: async () => {
        steps.push("resume restarts");
      },
      log: logged().log,
    });
    const crash = CutByCrash.of([]);
    reconciliation.start(crash);
    await reconciliation.run();
    await vi.advanceTimersByTimeAsync(RECONCILE_RETRY_MS);
    expect(engine.seen).toEqual([crash, crash]);
    expect(steps).toEqual(["recover true", "protect", "resume restarts", "recover true", "protect"]);
  });

  it("logs a pass that throws, retries nothing, and runs again when asked (the engine's return)", async () => {
    const { lines, log } = logged();
    let calls = 0;
    const reconciliation = new Reconciliation({
      reconcile: async () => {
        calls++;
        if (calls === 1) throw new Error("engine went away");
        return { failed: 0 };
      },
      afterPass: [],
      log,
    });
    await expect(reconciliation.run()).resolves.toBeUndefined();
    expect(lines.join("")).toContain("reconciliation failed; it runs again when the engine comes back");
    expect(vi.getTimerCount()).toBe(0);
    await reconciliation.run();
    expect(calls).toBe(2);
  });
});

describe("Reconciliation that runs only while started (cluster mode: on the leading server)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("passes only between start() and stop(), and stop() drops the retry it had timed", async () => {
    const engine = passes([1, 1, 1]);
    const reconciliation = new Reconciliation({
      reconcile: engine.reconcile,
      afterPass: [],
      log: logged().log,
      onlyWhenStarted: true,
    });
    // A server that does not lead: the engine's return asks for a pass, and none runs.
    await reconciliation.run();
    expect(engine.seen).toHaveLength(0);

    const cut = CutByCrash.of([]);
    reconciliation.start(cut);
    await reconciliation.run();
    expect(engine.seen).toEqual([cut]);
    expect(vi.getTimerCount()).toBe(1); // a step was refused: retried in 10 s

    reconciliation.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * RECONCILE_RETRY_MS);
    await reconciliation.run();
    expect(engine.seen).toHaveLength(1);

    reconciliation.start(cut);
    await reconciliation.run();
    expect(engine.seen).toHaveLength(2);
    reconciliation.close();
  });
});
