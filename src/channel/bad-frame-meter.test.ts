import { describe, expect, it } from "vitest";
import { BadFrameMeter } from "./bad-frame-meter.ts";

describe("BadFrameMeter", () => {
  it("trips on the 21st bad frame within the window, not the 20th", () => {
    const meter = new BadFrameMeter(20, 10_000);
    for (let i = 0; i < 20; i++) expect(meter.record(1000 + i)).toBe(false);
    expect(meter.record(1020)).toBe(true);
    expect(meter.total).toBe(21);
  });

  it("does not trip when bad frames are spread wider than the window", () => {
    const meter = new BadFrameMeter(20, 10_000);
    for (let i = 0; i < 100; i++) expect(meter.record(i * 600)).toBe(false);
    expect(meter.total).toBe(100);
  });
});
