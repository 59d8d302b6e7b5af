import { describe, expect, it } from "vitest";
import { FEED_OUTPUT_BYTES, FEED_OUTPUT_LINES, feedOutput } from "./feed-output.ts";

const utf8 = (lines: string[]) => new TextEncoder().encode(lines.join("\n")).length;

describe("feedOutput", () => {
  it("keeps short output as it is", () => {
    expect(feedOutput(["starting", "Error: boom"])).toEqual(["starting", "Error: boom"]);
    expect(feedOutput(undefined)).toBeUndefined();
    expect(feedOutput(["a", 3, "b"])).toEqual(["a", "b"]);
  });

  it("keeps the last lines, and says how many earlier ones it left out", () => {
    const out = feedOutput(Array.from({ length: 30 }, (_, i) => `line ${i}`)) ?? [];
    expect(out[0]).toBe(`… ${30 - FEED_OUTPUT_LINES} earlier lines left out`);
    expect(out.slice(1)).toEqual(Array.from({ length: FEED_OUTPUT_LINES }, (_, i) => `line ${i + 10}`));
  });

  it("holds 20 lines of 1,000 characters to a few KiB, cut at whole lines", () => {
    const lines = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(1_000, "x"));
    const out = feedOutput(lines) ?? [];
    expect(utf8(out)).toBeLessThanOrEqual(FEED_OUTPUT_BYTES);
    expect(out[0]).toBe("… 18 earlier lines left out");
    expect(out.slice(1)).toEqual(lines.slice(-2));
  });

  it("counts UTF-8 bytes, not characters", () => {
    const lines = Array.from({ length: 10 }, () => "é".repeat(300)); // 600 bytes each
    const out = feedOutput(lines) ?? [];
    expect(utf8(out)).toBeLessThanOrEqual(FEED_OUTPUT_BYTES);
    expect(out).toEqual(["… 7 earlier lines left out", ...lines.slice(-3)]);
  });

  it("cuts a last line longer than the budget on its own at a character, and marks it", () => {
    const line = `${"😀".repeat(1_000)}`; // 4,000 bytes, 2,000 UTF-16 units
    const out = feedOutput(["before", line]) ?? [];
    expect(utf8(out)).toBeLessThanOrEqual(FEED_OUTPUT_BYTES);
    expect(out[0]).toBe("… 1 earlier line left out");
    expect(out[1]?.endsWith("😀…")).toBe(true);
    expect(out[1]?.isWellFormed()).toBe(true);
    expect(utf8(feedOutput([line]) ?? [])).toBeLessThanOrEqual(FEED_OUTPUT_BYTES);
  });
});
