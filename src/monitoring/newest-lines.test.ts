import { describe, expect, it } from "vitest";
import type { LogLine } from "#protocol";
import { NewestLines } from "./newest-lines.ts";

const line = (n: number): LogLine => ({ stream: "stdout", ts: 1_000 + n, text: `line ${n}` });
const size = (l: LogLine) => Buffer.byteLength(JSON.stringify(l)) + 1;

describe("NewestLines", () => {
  it("keeps every line while they fit, and does not say truncated", () => {
    const newest = new NewestLines(1_000);
    newest.add([line(1), line(2)]);
    expect(newest.result()).toEqual({ lines: [line(1), line(2)], truncated: false });
  });

  it("keeps the newest lines that fit in the budget as they come, and says truncated", () => {
    const budget = size(line(7)) * 3;
    const newest = new NewestLines(budget);
    for (let n = 0; n < 5_000; n += 10) newest.add(Array.from({ length: 10 }, (_, i) => line(n + i)));
    const { lines, truncated } = newest.result();
    expect(truncated).toBe(true);
    expect(lines.at(-1)).toEqual(line(4_999));
    expect(lines.reduce((bytes, l) => bytes + size(l), 0)).toBeLessThanOrEqual(budget);
    expect(lines.map((l) => l.ts)).toEqual([...lines.map((l) => l.ts)].sort((a, b) => a - b));
  });

  it("counts the bytes of a line as sent (multi-byte text, escapes)", () => {
    const wide: LogLine = { stream: "stderr", ts: 1, text: 'é"\\'.repeat(100) };
    const newest = new NewestLines(size(wide) - 1);
    newest.add([wide]);
    expect(newest.result()).toEqual({ lines: [], truncated: true });
  });
});
