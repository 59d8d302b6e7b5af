import { describe, expect, it } from "vitest";
import { type StepReport, StepTimer } from "./step-timer.ts";

describe("StepTimer", () => {
  it("reports each step as it starts and ends, and keeps its duration as the timing", async () => {
    const reports: StepReport[] = [];
    const timer = new StepTimer<"a" | "b">("C1", (r) => reports.push(r));
    await timer.time("a", async () => {});
    timer.start("b");
    timer.done();
    expect(reports.map((r) => [r.id, r.step, r.status])).toEqual([
      ["C1", "a", "started"],
      ["C1", "a", "done"],
      ["C1", "b", "started"],
      ["C1", "b", "done"],
    ]);
    expect(reports.filter((r) => r.status === "started").every((r) => r.ms === undefined)).toBe(true);
    expect(reports.filter((r) => r.status === "done").every((r) => typeof r.ms === "number")).toBe(true);
    expect(Object.keys(timer.timings)).toEqual(["a", "b"]);
  });

  it("reports a step that throws as failed, and rethrows its error", async () => {
    const reports: StepReport[] = [];
    const timer = new StepTimer<"a">("C1", (r) => reports.push(r));
    const boom = new Error("boom");
    await expect(
      timer.time("a", () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(reports.at(-1)).toMatchObject({ step: "a", status: "failed", ms: expect.any(Number) });
    timer.fail(); // nothing open: nothing more reported
    expect(reports).toHaveLength(2);
  });

  it("ends an open step as done when the next one starts", () => {
    const reports: StepReport[] = [];
    const timer = new StepTimer<"a" | "b">("C1", (r) => reports.push(r));
    timer.start("a");
    timer.start("b");
    expect(reports.map((r) => `${r.step}:${r.status}`)).toEqual(["a:started", "a:done", "b:started"]);
  });

  it("goes on when its listener throws", async () => {
    const timer = new StepTimer<"a">("C1", () => {
      throw new Error("closed connection");
    });
    await expect(timer.time("a", () => 42)).resolves.toBe(42);
    expect(timer.timings.a).toBeGreaterThanOrEqual(0);
  });

  it("reports the steps asked for as timings, 0 for one that did not run, with the total", async () => {
    const timer = new StepTimer<"a" | "b" | "c">("C1");
    await timer.time("a", () => new Promise((r) => setTimeout(r, 5)));
    const timings = timer.report(["a", "b"]);
    expect(Object.keys(timings).sort()).toEqual(["a", "b", "total"]);
    expect(timings.a).toBeGreaterThan(0);
    expect(timings.b).toBe(0);
    expect(timings.total).toBeGreaterThanOrEqual(timings.a);
  });
});
