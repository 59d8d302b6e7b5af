import { describe, expect, it } from "vitest";
import { isOutagesExit, OutageExitDetector } from "./outage-exit-detector.ts";

describe("OutageExitDetector", () => {
  it("keeps, for the look-back, only exits the engine's shutdown could have caused", () => {
    let now = 1_000;
    const exits = new OutageExitDetector({ lookbackMs: 100, now: () => now });
    exits.noteExit("sigterm", 143, false);
    exits.noteExit("crash", 1, false);
    exits.noteExit("oom", 137, true);
    exits.noteExit("clean", 0, false);
    expect(["sigterm", "crash", "oom", "clean"].filter((id) => exits.exitedJustBefore(id))).toEqual([
      "sigterm",
      "clean",
    ]);
    now += 101;
    expect(exits.exitedJustBefore("sigterm")).toBe(false);
  });

  it("takes the engine's account of an exit as the outage's only with a stop code, not for memory, not before it began", () => {
    const exit = { exitCode: 143, oomKilled: false, finishedAt: 500 };
    expect(isOutagesExit(exit, 400)).toBe(true);
    expect(isOutagesExit(exit, undefined)).toBe(true); // berth was not watching: the code decides
    expect(isOutagesExit(exit, 600)).toBe(false);
    expect(isOutagesExit({ ...exit, exitCode: 1 }, undefined)).toBe(false);
    expect(isOutagesExit({ ...exit, exitCode: 137, oomKilled: true }, undefined)).toBe(false);
  });
});
