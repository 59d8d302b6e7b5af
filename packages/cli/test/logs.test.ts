import { describe, expect, it } from "vitest";
import { outputEnded } from "../src/commands/logs.ts";

describe("outputEnded: when `berth logs -f` stops following", () => {
  it("ends once the container is stopped, removed or gone from the engine", () => {
    for (const to of ["stopped", "removing", "missing"]) expect(outputEnded(to, "always")).toBe(true);
  });

  it("ends when it exited for good, but follows on through restarts a policy will make", () => {
    expect(outputEnded("exited", "no")).toBe(true);
    expect(outputEnded("exited", "on-failure")).toBe(false);
    expect(outputEnded("restarting", "always")).toBe(false);
    expect(outputEnded("running", "no")).toBe(false);
  });
});
