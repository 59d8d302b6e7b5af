import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatPercent } from "../src/format.ts";

describe("how the dashboard writes figures", () => {
  it("writes sizes in binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(256 * 2 ** 20)).toBe("256 MiB");
  });

  it("writes CPU as berth counts it, 100 for one full core", () => {
    expect(formatPercent(3.04)).toBe("3.0%");
    expect(formatPercent(199.6)).toBe("200%");
  });

  it("writes a duration as its two largest units", () => {
    expect(formatDuration(12_400)).toBe("12s");
    expect(formatDuration(250_000)).toBe("4m 10s");
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe("2h 5m");
    expect(formatDuration(3 * 86_400_000 + 4 * 3600_000)).toBe("3d 4h");
    expect(formatDuration(-5)).toBe("0s");
  });
});
