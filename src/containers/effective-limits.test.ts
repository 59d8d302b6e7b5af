import { describe, expect, it } from "vitest";
import { effectiveLimits } from "./effective-limits.ts";

const defaults = { defaultCpus: 1, defaultMemoryMb: 256, defaultPids: 128 };

describe("effectiveLimits", () => {
  it("takes the spec's limits, in the engine's units", () => {
    expect(effectiveLimits({ resources: { cpus: 0.25, memoryMb: 64, pids: 32 } }, defaults)).toEqual({
      nanoCpus: 2.5e8,
      memoryBytes: 64 * 1024 * 1024,
      pids: 32,
    });
  });

  it("falls back to berth's defaults for what the spec leaves out", () => {
    expect(effectiveLimits({}, defaults)).toEqual({
      nanoCpus: 1e9,
      memoryBytes: 256 * 1024 * 1024,
      pids: 128,
    });
  });
});
